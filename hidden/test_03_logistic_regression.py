"""Hidden tests for 03_logistic_regression."""
import pytest
import torch
from torch import nn

from autograder import hints
from autograder.compare import Mismatch, describe, expect, unchanged

ASSIGNMENT = "03_logistic_regression"

# Errors that the classic mistakes raise (lower case), and what to say about them.
ERROR_HINTS = [
    ("should be between 0 and 1", "nn.BCELoss takes probabilities; with the logits of logistic_forward use "
                                  "nn.BCEWithLogitsLoss, which applies the sigmoid itself."),
    ("'nonetype'", "a .grad is None: was the optimizer built on [w, b], and backward called before step?"),
    ("backward through the graph a second time", "compute the logits and the loss anew in every epoch."),
    ("does not require grad", "the loss must be built from w and b with tensor operations, so that backward "
                              "reaches them."),
]




def forbidden(calls, names: dict[str, str]) -> list[str]:
    """The forbidden APIs among the recorded calls: ``names`` maps a call's last name part to what students wrote."""
    seen = []
    for call in calls:
        what = names.get(call.rsplit(".", 1)[-1].lower())
        if what and what not in seen:
            seen.append(what)
    return seen


def loss_value(out, name="the loss"):
    if type(out) is float:
        raise Mismatch(f"{name}: expected a 0-dim tensor, got a Python float. Hint: return the tensor itself "
                       f"(no .item()).")
    if isinstance(out, torch.Tensor) and out.dim() > 0 and out.numel() == 1:
        raise Mismatch(f"{name}: expected a 0-dim tensor, got shape {tuple(out.shape)}. Hint: the mean over all "
                       f"elements is .mean() without a dim.")
    return expect(out, name).tensor(shape=())


# ---------------------------------------------------------------------------------------------------- sigmoid
SIGMOID_APIS = {
    "sigmoid": "torch.sigmoid / Tensor.sigmoid / nn.Sigmoid / F.sigmoid", "sigmoid_": "Tensor.sigmoid_",
    "special_expit": "torch.special.expit", "expit": "torch.special.expit",
    "log_sigmoid": "F.logsigmoid / nn.LogSigmoid", "logsigmoid": "F.logsigmoid / nn.LogSigmoid",
}


def _flipped(actual, expected):
    if torch.allclose(actual, 1 - expected, atol=1e-6):
        return "these are sigmoid(−z) = 1 − sigmoid(z): the exponent's sign is flipped, 1 / (1 + e^(−z))."
    return None


def _extreme_z(rng):
    edges = torch.tensor([1000.0, 710.0, 100.0, 89.0, 88.5, 30.0, 17.0, 1e-3, 0.0])
    fill = torch.randn(31, generator=rng) * 300
    return torch.cat([edges, -edges, fill]).reshape(7, 7)


@pytest.mark.blank("sigmoid", points=0.25)
@pytest.mark.parametrize("case", ["7x1", "3x4x5 permuted"])
def test_sigmoid_values(sub, rng, ref, case):
    """equals 1 / (1 + e^(-z)) elementwise, same shape"""
    if case == "7x1":
        z = torch.randn(7, 1, generator=rng) * 3
    else:
        z = (torch.randn(5, 4, 3, generator=rng) * 3).permute(2, 1, 0)  # not contiguous
    _check_sigmoid(sub.run("sigmoid", z).value, z, ref)


def _check_sigmoid(out, z, ref):
    expect(out, "sigmoid(z)").tensor(shape=z.shape).close_to(ref.sigmoid(z), atol=1e-6, hints=[_flipped])


@pytest.mark.blank("sigmoid", points=0.5)
def test_sigmoid_extreme(sub, rng, ref):
    """finite, in [0, 1] and accurate for |z| up to 1000"""
    z = _extreme_z(rng)
    out = sub.run("sigmoid", z).value
    if isinstance(out, torch.Tensor) and out.shape == z.shape and out.is_floating_point():
        bad = ~torch.isfinite(out)
        if bool(bad.any()):
            raise Mismatch(f"sigmoid(z): {int(bad.sum())} of {z.numel()} values are NaN or infinite for large |z| "
                           f"(the largest here is 1000). Hint: e^z overflows to inf for z > 88, and inf / inf is NaN "
                           f"(as in e^z / (1 + e^z)); 1 / (1 + e^(−z)) tends to 0 or 1 instead, or compute with "
                           f"e^(−|z|), which never overflows.")
    expect(out, "sigmoid(z)").tensor(shape=z.shape).close_to(ref.sigmoid(z), atol=1e-6, hints=[_flipped])


@pytest.mark.blank("sigmoid", points=0.5)
def test_sigmoid_by_hand(sub, rng, ref):
    """is written by hand (no torch.sigmoid and the like)"""
    z = torch.randn(6, 1, generator=rng) * 3
    result = sub.run("sigmoid", z, watch=True)
    _check_sigmoid(result.value, z, ref)  # only a working answer earns this
    used = forbidden(result.torch_calls, SIGMOID_APIS)
    if used:
        raise Mismatch(f"sigmoid uses {', '.join(used)}, which this exercise forbids: the point is to write the "
                       f"formula 1 / (1 + e^(−z)) yourself with torch.exp.")


@pytest.mark.blank("sigmoid", points=0.5)
def test_sigmoid_leaves_z(sub, rng, ref):
    """leaves z unchanged"""
    z = torch.randn(6, 5, generator=rng) * 3
    z[0] = (55 + 25 * torch.rand(5, generator=rng)) * torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])  # where a clamp_ bites
    result = sub.run("sigmoid", z)
    unchanged(z, result.args[0], "z")
    _check_sigmoid(result.value, z, ref)  # only a working answer earns this


# --------------------------------------------------------------------------------------------------- bce_loss
BCE_APIS = {"binary_cross_entropy": "binary_cross_entropy / nn.BCELoss",
            "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits / nn.BCEWithLogitsLoss"}
BCE_HINTS = [hints.SIGN, hints.ratio({1 / 0.6931471805599453: "use the natural logarithm (torch.log), not log2.",
                                      0.4342944819032518: "use the natural logarithm (torch.log), not log10."})]


def _labels(rng, n):
    return (torch.rand(n, 1, generator=rng) < 0.5).float()


@pytest.mark.blank("bce_loss", points=0.25)
@pytest.mark.parametrize("n", [1, 9])
def test_bce_values(sub, rng, ref, n):
    """the mean binary cross-entropy of p against y"""
    p = 0.02 + 0.96 * torch.rand(n, 1, generator=rng)
    y = _labels(rng, n)
    out = sub.run("bce_loss", p, y).value
    loss_value(out).close_to(ref.bce_loss(p, y), hints=[*BCE_HINTS, hints.sum_vs_mean(n)])


@pytest.mark.blank("bce_loss", points=0.5)
def test_bce_many(sub, rng, ref):
    """finite and correct on 400 examples with p from 1e-4 to 1 - 1e-4"""
    p = torch.sigmoid(torch.randn(400, 1, generator=rng) * 4).clamp(1e-4, 1 - 1e-4)
    y = _labels(rng, 400)
    out = sub.run("bce_loss", p, y).value
    if isinstance(out, torch.Tensor) and out.numel() == 1 and out.is_floating_point() and not bool(out.isfinite().all()):
        raise Mismatch("the loss: it is infinite or NaN on 400 examples, although every p is strictly inside (0, 1): "
                       "a log(0) somewhere. Hint: a product of many probabilities underflows to 0 in float32; take "
                       "the log of each probability and average those (the log of a product is the sum of the logs).")
    loss_value(out).close_to(ref.bce_loss(p, y), hints=[*BCE_HINTS, hints.sum_vs_mean(400)])


@pytest.mark.blank("bce_loss", points=0.5)
def test_bce_by_hand(sub, rng, ref):
    """is written by hand (no binary_cross_entropy, nn.BCELoss and the like)"""
    p = 0.05 + 0.9 * torch.rand(8, 1, generator=rng)
    y = _labels(rng, 8)
    result = sub.run("bce_loss", p, y, watch=True)
    loss_value(result.value).close_to(ref.bce_loss(p, y), hints=BCE_HINTS)  # only a working answer earns this
    used = forbidden(result.torch_calls, BCE_APIS)
    if used:
        raise Mismatch(f"bce_loss uses {', '.join(used)}, which this exercise forbids: the point is to write "
                       f"−mean(y log p + (1 − y) log(1 − p)) yourself with torch.log.")


@pytest.mark.blank("bce_loss", points=0.5)
def test_bce_leaves_inputs(sub, rng, ref):
    """leaves p and y unchanged"""
    p = torch.sigmoid(torch.randn(50, 1, generator=rng) * 3).clamp(1e-3, 1 - 1e-3)
    p[:4] = 1e-7 + 1e-6 * torch.rand(4, 1, generator=rng)  # near the ends, where a clamp_ would change p
    p[4:8] = 1 - (1e-6 + 1e-6 * torch.rand(4, 1, generator=rng))
    y = _labels(rng, 50)
    result = sub.run("bce_loss", p, y)
    unchanged(p, result.args[0], "p")
    unchanged(y, result.args[1], "y")
    loss_value(result.value).close_to(ref.bce_loss(p, y), hints=BCE_HINTS)  # only a working answer earns this


# ------------------------------------------------------------------------------------------- logistic_forward
def _forward_inputs(rng, n):
    x = torch.rand(n, 2, generator=rng)
    w = torch.randn(2, 1, generator=rng) * 2
    b = torch.randn(1, generator=rng)
    return x, w, b


def _forward_hints(x, w, b):
    def hint(actual, expected):
        if torch.allclose(actual, torch.sigmoid(expected), atol=1e-5):
            return "these are probabilities, sigmoid(x @ w + b): logistic_forward returns the logits, without sigmoid."
        if torch.allclose(actual, (x @ w).double(), atol=1e-5):
            return "the bias b is missing: x @ w + b."
        return None
    return hint


@pytest.mark.blank("logistic_forward", points=0.25)
@pytest.mark.parametrize("n", [1, 11])
def test_forward_values(sub, rng, ref, n):
    """the logits x @ w + b, shape (N, 1)"""
    x, w, b = _forward_inputs(rng, n)
    out = sub.run("logistic_forward", x, w, b).value
    expect(out, "the logits").tensor(shape=(n, 1)).close_to(ref.logistic_forward(x, w, b),
                                                           hints=[_forward_hints(x, w, b)])


@pytest.mark.blank("logistic_forward", points=0.5)
def test_forward_differentiable(sub, rng, ref):
    """keeps the graph to the Parameters w and b"""
    x, w, b = _forward_inputs(rng, 13)
    w, b = nn.Parameter(w), nn.Parameter(b)
    result = sub.run("logistic_forward", x, w, b)
    out = result.value
    expect(out, "the logits").tensor(shape=(13, 1)).close_to(ref.logistic_forward(x, w, b),
                                                            hints=[_forward_hints(x, w, b)])
    if not out.remote.requires_grad or out.remote.grad_fn is None:
        raise Mismatch("the logits: for Parameters w and b they should require grad; they were cut from the graph "
                       "(.detach(), .data, torch.tensor(...) or NumPy), so training could not reach w and b.")
    unchanged(x, result.args[0], "x")


# --------------------------------------------------------------------------------------------- train_logistic
def logistic_problem(rng, n):
    x = torch.rand(n, 2, generator=rng)
    true_w = torch.randn(2, 1, generator=rng) * 4
    true_b = -(x @ true_w).median() if n > 1 else torch.zeros(())
    y = (torch.rand(n, 1, generator=rng) < torch.sigmoid(x @ true_w + true_b)).float()
    w = torch.randn(2, 1, generator=rng) * 0.5
    b = torch.randn(1, generator=rng) * 0.5
    return x, y, w, b


def simulate(x, y, w0, b0, lr, epochs, mistake=None):
    """train_logistic as a known mistake does it: (losses, w, b)."""
    w, b = nn.Parameter(w0.detach().clone()), nn.Parameter(b0.detach().clone())
    if mistake == "adam":
        opt = torch.optim.Adam([w, b], lr=lr)
    else:
        opt = torch.optim.SGD([w, b], lr=lr, momentum=0.9 if mistake == "momentum" else 0.0,
                              maximize=mistake == "ascent")
    criterion = nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(epochs):
        logits = x @ w + b
        loss = criterion(torch.sigmoid(logits) if mistake == "double sigmoid" else logits, y)
        if mistake != "after":
            losses.append(loss.item())
        if mistake != "accumulate":
            opt.zero_grad()
        loss.backward()
        if mistake == "frozen":
            opt.zero_grad()
        opt.step()
        if mistake == "after":
            with torch.no_grad():
                losses.append(criterion(x @ w + b, y).item())
    return torch.tensor(losses, dtype=torch.float64), w.detach(), b.detach()


MISTAKES = {
    "ascent": "the loss goes up: the parameters move along the gradient (gradient ascent).",
    "accumulate": "the gradients were never zeroed, so each epoch's gradient adds up with the previous ones: call "
                  "optimizer.zero_grad() every epoch, before backward.",
    "after": "each loss is the one after that epoch's step (the list is shifted by one epoch): record loss.item() "
             "before optimizer.step().",
    "adam": "these are Adam's steps: the exercise asks for torch.optim.SGD([w, b], lr=lr).",
    "momentum": "these are the steps of SGD with momentum: use torch.optim.SGD([w, b], lr=lr) without momentum.",
    "frozen": "the parameters never change: zero_grad between backward and step wipes the gradients before step "
              "uses them (the order is zero_grad, backward, step).",
    "double sigmoid": "nn.BCEWithLogitsLoss applies the sigmoid itself: give it the logits of logistic_forward, "
                      "not sigmoid(logits) (that is a sigmoid twice).",
}
LEARNING_RATES = [1e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]  # hard-coded ones students use


def fingerprint(args, losses):
    """A hint naming the known mistake (or other learning rate) that reproduces the returned losses."""
    return hints.replayed_training(args, losses, simulate, MISTAKES, LEARNING_RATES,
                                   rising="the loss goes up: is the update's sign right?")


def reference_run(ref, x, y, w, b, lr, epochs):
    w, b = nn.Parameter(w.detach().clone()), nn.Parameter(b.detach().clone())
    losses = ref.train_logistic(x, y, w, b, lr, epochs)
    return torch.tensor(losses, dtype=torch.float64), w.detach(), b.detach()


def train_inputs(rng, n):
    x, y, w, b = logistic_problem(rng, n)
    return x, y, nn.Parameter(w), nn.Parameter(b)


@pytest.mark.blank("train_logistic", points=0.5)
@pytest.mark.parametrize("lr, epochs, n", [(0.1, 5, 30), (0.5, 12, 17), (1.0, 8, 64), (2.0, 1, 1)])
def test_train_losses(sub, rng, ref, lr, epochs, n):
    """every epoch's loss, before its step, matches SGD with BCEWithLogitsLoss from the same start"""
    x, y, w, b = train_inputs(rng, n)
    result = sub.run("train_logistic", x, y, w, b, lr, epochs)
    losses = result.value
    if type(losses) is list and len(losses) != epochs:
        raise Mismatch(f"the losses: expected {epochs} entries (one per epoch), got {len(losses)}: the number of "
                       f"epochs must come from the epochs argument (is it hard-coded?).")
    expect(losses, "the losses").float_list(epochs)
    expected, _, _ = reference_run(ref, x, y, w, b, lr, epochs)
    expect(torch.tensor(losses, dtype=torch.float64), "the losses").close_to(
        expected, atol=1e-6, what=" of plain SGD from the same start",
        hints=[fingerprint((x, y, w, b, lr, epochs), losses)])


@pytest.mark.blank("train_logistic", points=1)
@pytest.mark.parametrize("lr, epochs, n", [(0.3, 10, 25), (1.5, 6, 40)])
def test_train_updates_parameters(sub, rng, ref, lr, epochs, n):
    """trains the caller's Parameters w and b in place"""
    x, y, w, b = train_inputs(rng, n)
    result = sub.run("train_logistic", x, y, w, b, lr, epochs)
    _, ref_w, ref_b = reference_run(ref, x, y, w, b, lr, epochs)
    for name, before, after, expected in (("w", w, result.args[2], ref_w), ("b", b, result.args[3], ref_b)):
        if after.shape == before.shape and torch.equal(after, before.detach()):
            raise Mismatch(f"{name}: the caller's {name} did not change: build the optimizer on the Parameters you "
                           f"are given, torch.optim.SGD([w, b], lr=lr), and call step() after backward() (zero_grad "
                           f"before backward, not between backward and step).")
        expect(after, f"{name} after training").tensor(shape=before.shape).close_to(
            expected, what=" of plain SGD from the same start", hints=[fingerprint((x, y, w, b, lr, epochs), result.value)])
        if after.remote.cls != "Parameter":
            raise Mismatch(f"{name}: the caller's {name} is no longer an nn.Parameter.")
    unchanged(x, result.args[0], "x")
    unchanged(y, result.args[1], "y")


# --------------------------------------------------------------------------------------------------- accuracy
def _accuracy_inputs(rng, n, small_positive=False):
    logits = torch.randn(n, 1, generator=rng) * 2
    if small_positive:  # many logits in (0, 0.5], all of class 1: a threshold of 0.5 on logits misses them
        k = n // 2
        logits[:k] = 0.02 + 0.48 * torch.rand(k, 1, generator=rng)
    y = (logits > 0).float()
    flip = torch.rand(n, 1, generator=rng) < 0.3
    if small_positive:
        flip[: n // 2] = False
    flip[-1] = n > 1  # with several rows, one is always wrong and one (the first) right: no constant answer fits
    flip[0] = n == 1 and bool(flip[0])
    y[flip] = 1 - y[flip]
    return logits, y


def _accuracy_value(out, n):
    if isinstance(out, torch.Tensor) and out.numel() == 1 and out.is_floating_point():
        return float(out)
    if type(out) is not float:
        raise Mismatch(f"the accuracy: expected a Python float, got {describe(out)}.")
    return out


def _accuracy_hints(logits, y):
    n = len(y)

    def hint(actual, expected):
        a = float(actual)
        if n > 1 and abs(a - ((logits > 0).float().reshape(-1) == y).float().mean().item()) < 1e-6:
            return ("comparing predictions of shape (N,) with labels of shape (N, 1) broadcasts to an (N, N) table: "
                    "keep both (N, 1).")
        if abs(a - ((logits > 0.5).float() == y).float().mean().item()) < 1e-6:
            return ("the logits were thresholded at 0.5: accuracy takes logits, so the predicted label is 1 when the "
                    "logit is > 0 (sigmoid(logit) > 0.5).")
        if abs(a - y.mean().item()) < 1e-6:
            return "every row was predicted as class 1: logits are thresholded at 0, probabilities at 0.5."
        if abs(a - 100 * float(expected)) < 1e-4:
            return "a fraction in [0, 1] was asked for, not a percentage."
        if abs(a - n * float(expected)) < 1e-4:
            return "this is the number of correct rows: divide by N for the fraction."
        return None
    return hint


@pytest.mark.blank("accuracy", points=0.5)
@pytest.mark.parametrize("n", [1, 57])
def test_accuracy_values(sub, rng, ref, n):
    """the fraction of rows whose label (logit > 0) equals y"""
    logits, y = _accuracy_inputs(rng, n)
    cases = [(logits, y), (logits, 1 - y)] if n == 1 else [(logits, y)]  # one row: right once, wrong once
    for logits, y in cases:
        value = _accuracy_value(sub.run("accuracy", logits, y).value, n)
        expect(value, "the accuracy").close_to(ref.accuracy(logits, y), atol=1e-6,
                                               hints=[_accuracy_hints(logits, y)])


@pytest.mark.blank("accuracy", points=0.5)
def test_accuracy_small_logits(sub, rng, ref):
    """small positive logits (between 0 and 0.5) count as class 1"""
    logits, y = _accuracy_inputs(rng, 40, small_positive=True)
    value = _accuracy_value(sub.run("accuracy", logits, y).value, 40)
    expect(value, "the accuracy").close_to(ref.accuracy(logits, y), atol=1e-6, hints=[_accuracy_hints(logits, y)])


@pytest.mark.blank("accuracy", points=0.5)
def test_accuracy_python_float(sub, rng, ref):
    """returns a Python float"""
    logits, y = _accuracy_inputs(rng, 13)
    out = sub.run("accuracy", logits, y).value
    expect(_accuracy_value(out, 13), "the accuracy").close_to(  # only a working answer earns this
        ref.accuracy(logits, y), atol=1e-6, hints=[_accuracy_hints(logits, y)])
    if isinstance(out, torch.Tensor):
        raise Mismatch(f"the accuracy: expected a Python float, got {describe(out)} (call .item()).")
    expect(out, "the accuracy").python_float()
