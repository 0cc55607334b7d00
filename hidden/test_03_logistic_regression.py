"""Hidden tests for 03_logistic_regression.

Each test says what it judges (autograder.grading.policy): ``value`` tests use typical inputs (several per test; training
runs are judged on their whole trajectory), ``edge`` tests the edge cases exercises.md names (|z| up to 1000, p near
0 and 1, N = 1, epochs = 1, a logit of exactly 0), ``property`` tests what a correct answer also does (leaves its
inputs unchanged, keeps the Parameter objects, returns a Python float), and ``forbidden`` tests that sigmoid and
bce_loss do not use the functions their exercises forbid. A rule of the contract broken by an answer with right
values costs half of the blank.
"""
import pytest
import torch
from torch import nn

from autograder.grading import hints
from autograder.grading.curves import Curve
from autograder.grading.compare import Mismatch, describe, expect, feedback, gradients_reach, judged, unchanged
from autograder.i18n import N_, course_text as _

ASSIGNMENT = "03_logistic_regression"

# Errors that the classic mistakes raise (lower case), and what to say about them.
ERROR_HINTS = [
    ("should be between 0 and 1", N_("nn.BCELoss takes probabilities; with the logits of logistic_forward use "
                                     "nn.BCEWithLogitsLoss, which applies the sigmoid itself.")),
    ("'nonetype'", N_("a .grad is None: was the optimizer built on [w, b], and backward called before step?")),
    ("backward through the graph a second time", N_("compute the logits and the loss anew in every epoch.")),
    ("does not require grad", N_("the loss must be built from w and b with tensor operations, so that backward "
                                 "reaches them.")),
]




def forbidden(calls, names: dict[str, str]) -> list[str]:
    """The forbidden APIs among the recorded calls: ``names`` maps a call's last name part to what students wrote."""
    seen = []
    for call in calls:
        what = names.get(call.rsplit(".", 1)[-1].lower())
        if what and what not in seen:
            seen.append(what)
    return seen


def loss_value(out, name=N_("the loss")):
    name = _(name)
    if type(out) is float:
        raise Mismatch(feedback(_("{name}: expected a 0-dim tensor, got a Python float.").format(name=name),
                                _("return the tensor itself (no .item()).")))
    if isinstance(out, torch.Tensor) and out.dim() > 0 and out.numel() == 1:
        raise Mismatch(feedback(_("{name}: expected a 0-dim tensor, got shape {shape}.").format(
                                    name=name, shape=tuple(out.shape)),
                                _("the mean over all elements is .mean() without a dim.")))
    return expect(out, name).tensor(shape=())


# ---------------------------------------------------------------------------------------------------- sigmoid
SIGMOID_APIS = {
    "sigmoid": "torch.sigmoid / Tensor.sigmoid / nn.Sigmoid / F.sigmoid", "sigmoid_": "Tensor.sigmoid_",
    "special_expit": "torch.special.expit", "expit": "torch.special.expit",
    "log_sigmoid": "F.logsigmoid / nn.LogSigmoid", "logsigmoid": "F.logsigmoid / nn.LogSigmoid",
    "log_sigmoid_forward": "F.logsigmoid / nn.LogSigmoid",  # the ATen operator, seen however it was reached
}


def _flipped(actual, expected):
    if torch.allclose(actual, 1 - expected, atol=1e-6):
        return _("these are sigmoid(−z) = 1 − sigmoid(z): the exponent's sign is flipped, 1 / (1 + e^(−z)).")
    return None


def _check_sigmoid(sub, ref, z):
    out = sub.run("sigmoid", z).value
    if isinstance(out, torch.Tensor) and out.shape == z.shape and out.is_floating_point():
        bad = ~torch.isfinite(out)
        if bool(bad.any()):
            raise Mismatch(feedback(
                _("sigmoid(z): some values are NaN or infinite for large |z|."),
                _("e^z overflows to inf for z > 88, and inf / inf is NaN (as in e^z / (1 + e^z)); 1 / (1 + e^(−z)) "
                  "tends to 0 or 1 instead, or compute with e^(−|z|), which never overflows."),
                _("{bad} of {count} values; the largest |z| here is {largest}.").format(
                    bad=int(bad.sum()), count=z.numel(), largest=f"{float(z.abs().max()):g}")))
    expect(out, "sigmoid(z)").tensor(shape=z.shape).close_to(ref.sigmoid(z), atol=1e-6, hints=[_flipped])


@pytest.mark.blank("sigmoid", points=0.125)
@pytest.mark.parametrize("shapes", ["(7, 1) and (20,)", "(3, 4, 5) permuted and (6, 2)"])
def test_sigmoid_values(sub, rng, ref, shapes):
    """equals 1 / (1 + e^(-z)) elementwise, same shape"""
    if shapes.startswith("(7"):
        zs = [torch.randn(7, 1, generator=rng) * 3, torch.randn(20, generator=rng) * 3]
    else:
        zs = [(torch.randn(5, 4, 3, generator=rng) * 3).permute(2, 1, 0), torch.randn(6, 2, generator=rng) * 3]
    for z in zs:
        _check_sigmoid(sub, ref, z)


@pytest.mark.blank("sigmoid", points=0.625, kind="edge")
def test_sigmoid_extreme(sub, rng, ref):
    """finite, in [0, 1] and accurate for |z| up to 1000"""
    edges = torch.tensor([1000.0, 710.0, 100.0, 89.0, 88.5, 30.0, 17.0, 1e-3, 0.0])
    fill = torch.randn(31, generator=rng) * 300
    _check_sigmoid(sub, ref, torch.cat([edges, -edges, fill]).reshape(7, 7))


@pytest.mark.blank("sigmoid", points=0.125, kind="forbidden")
def test_sigmoid_by_hand(sub, rng):
    """does not use torch.sigmoid, Tensor.sigmoid, torch.special.expit, nn.Sigmoid or logsigmoid"""
    z = torch.randn(6, 1, generator=rng) * 3
    used = forbidden(sub.run("sigmoid", z, watch=True).torch_calls, SIGMOID_APIS)
    if used:
        raise Mismatch(feedback(_("sigmoid uses {names}, which this exercise forbids.").format(names=", ".join(used)),
                                _("the point is to write the formula 1 / (1 + e^(−z)) yourself with torch.exp.")))


@pytest.mark.blank("sigmoid", points=1.0, kind="property")
def test_sigmoid_leaves_z(sub, rng):
    """does not modify its inputs"""
    z = torch.randn(6, 5, generator=rng) * 3
    z[0] = (55 + 25 * torch.rand(5, generator=rng)) * torch.tensor([1.0, -1.0, 1.0, -1.0, 1.0])  # where a clamp_ bites
    unchanged(z, sub.run("sigmoid", z).args[0], "z")


# --------------------------------------------------------------------------------------------------- bce_loss
BCE_APIS = {"binary_cross_entropy": "binary_cross_entropy / nn.BCELoss",
            "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits / nn.BCEWithLogitsLoss"}
BCE_LOGS = {1 / 0.6931471805599453: N_("use the natural logarithm (torch.log), not log2."),
            0.4342944819032518: N_("use the natural logarithm (torch.log), not log10.")}


def bce_hints():
    """The hints of a wrong loss (a flipped sign, another logarithm's base), in the course's language."""
    return [hints.SIGN, hints.ratio({c: _(text) for c, text in BCE_LOGS.items()})]


def _labels(rng, n):
    y = (torch.rand(n, 1, generator=rng) < 0.5).float()
    if n > 1:  # both labels, so that both terms count
        y[0], y[1] = 0.0, 1.0
    return y


def _check_bce(sub, ref, p, y):
    n = p.numel()
    out = sub.run("bce_loss", p, y).value
    if isinstance(out, torch.Tensor) and out.numel() == 1 and out.is_floating_point() and not bool(out.isfinite().all()):
        raise Mismatch(feedback(
            _("the loss: it is infinite or NaN on {n} examples, although every p is strictly inside (0, 1).").format(
                n=n),
            _("a product of many probabilities underflows to 0 in float32, and log(0) is infinite; take the log of "
              "each probability and average those (the log of a product is the sum of the logs).")))
    loss_value(out).close_to(ref.bce_loss(p, y), hints=[*bce_hints(), hints.sum_vs_mean(n)])


@pytest.mark.blank("bce_loss", points=0.25)
@pytest.mark.parametrize("sizes", ["9 and 400", "30 and 150"])
def test_bce_values(sub, rng, ref, sizes):
    """the mean binary cross-entropy of p against y"""
    for n in map(int, sizes.split(" and ")):
        _check_bce(sub, ref, 0.02 + 0.96 * torch.rand(n, 1, generator=rng), _labels(rng, n))


@pytest.mark.blank("bce_loss", points=0.25, kind="edge")
def test_bce_near_ends(sub, rng, ref):
    """correct for p near 0 and near 1 (inside (0, 1))"""
    p = torch.sigmoid(torch.randn(50, 1, generator=rng) * 3).clamp(1e-3, 1 - 1e-3)
    p[:4] = 1e-7 + 1e-6 * torch.rand(4, 1, generator=rng)
    p[4:8] = 1 - (1e-6 + 1e-6 * torch.rand(4, 1, generator=rng))
    y = _labels(rng, 50)
    y[2], y[6] = 1.0, 0.0  # a confident wrong prediction at each end: the loss is large but finite
    _check_bce(sub, ref, p, y)


@pytest.mark.blank("bce_loss", points=0.125, kind="edge")
def test_bce_one_example(sub, rng, ref):
    """works for N = 1 (one example)"""
    for label in (0.0, 1.0):
        _check_bce(sub, ref, 0.05 + 0.9 * torch.rand(1, 1, generator=rng), torch.full((1, 1), label))


@pytest.mark.blank("bce_loss", points=0.125, kind="forbidden")
def test_bce_by_hand(sub, rng):
    """does not use binary_cross_entropy, nn.BCELoss or their with-logits forms"""
    p = 0.05 + 0.9 * torch.rand(8, 1, generator=rng)
    used = forbidden(sub.run("bce_loss", p, _labels(rng, 8), watch=True).torch_calls, BCE_APIS)
    if used:
        raise Mismatch(feedback(_("bce_loss uses {names}, which this exercise forbids.").format(names=", ".join(used)),
                                _("the point is to write −mean(y log p + (1 − y) log(1 − p)) yourself with "
                                  "torch.log.")))


@pytest.mark.blank("bce_loss", points=1.0, kind="property")
def test_bce_leaves_inputs(sub, rng):
    """does not modify its inputs"""
    p = torch.sigmoid(torch.randn(50, 1, generator=rng) * 3).clamp(1e-3, 1 - 1e-3)
    p[:4] = 1e-7 + 1e-6 * torch.rand(4, 1, generator=rng)  # near the ends, where a clamp_ would change p
    p[4:8] = 1 - (1e-6 + 1e-6 * torch.rand(4, 1, generator=rng))
    y = _labels(rng, 50)
    result = sub.run("bce_loss", p, y)
    unchanged(p, result.args[0], "p")
    unchanged(y, result.args[1], "y")


# ------------------------------------------------------------------------------------------- logistic_forward
def _forward_inputs(rng, n):
    x = torch.rand(n, 2, generator=rng)
    w = torch.randn(2, 1, generator=rng) * 2
    b = torch.randn(1, generator=rng)
    return x, w, b


def _forward_hints(x, w, b):
    def hint(actual, expected):
        if torch.allclose(actual, torch.sigmoid(expected), atol=1e-5):
            return _("these are probabilities, sigmoid(x @ w + b): logistic_forward returns the logits, without "
                     "sigmoid.")
        if torch.allclose(actual, (x @ w).double(), atol=1e-5):
            return _("the bias b is missing: x @ w + b.")
        return None
    return hint


def _check_forward(sub, ref, x, w, b):
    """The logits for Parameters w and b (as in training): right values, shape (N, 1), on the graph."""
    n = x.shape[0]
    w, b = nn.Parameter(w), nn.Parameter(b)
    out = sub.run("logistic_forward", x, w, b).value
    expect(out, _("the logits")).tensor(shape=(n, 1)).close_to(ref.logistic_forward(x, w, b),
                                                              hints=[_forward_hints(x, w, b)])
    if not out.remote.requires_grad or out.remote.grad_fn is None:
        raise Mismatch(_("the logits: for Parameters w and b they should require grad; they were cut from the graph "
                         "(.detach(), .data, torch.tensor(...) or NumPy), so training could not reach w and b."))


@pytest.mark.blank("logistic_forward", points=0.125)
@pytest.mark.parametrize("sizes", ["11 and 4", "30 and 7"])
def test_forward_values(sub, rng, ref, sizes):
    """the logits x @ w + b, shape (N, 1), on the graph of w and b"""
    for n in map(int, sizes.split(" and ")):
        _check_forward(sub, ref, *_forward_inputs(rng, n))


@pytest.mark.blank("logistic_forward", points=0.25, kind="edge")
def test_forward_one_row(sub, rng, ref):
    """works for N = 1 (one row)"""
    _check_forward(sub, ref, *_forward_inputs(rng, 1))


@pytest.mark.blank("logistic_forward", points=0.25, kind="property")
def test_forward_gradients(sub, rng, ref):
    """lets the gradient reach w and b (the logits are on their graph)"""
    x, w, b = _forward_inputs(rng, 9)
    g = torch.randn(9, 1, generator=rng)
    result = sub.run("logistic_forward", x, nn.Parameter(w), nn.Parameter(b), vjp=g)
    expect(result.value, _("the logits")).tensor(shape=(9, 1))
    w_ref, b_ref = nn.Parameter(w.clone()), nn.Parameter(b.clone())
    dw, db = torch.autograd.grad(ref.logistic_forward(x, w_ref, b_ref), [w_ref, b_ref], grad_outputs=g)
    gradients_reach(result.grads, result.vjp_error, {"arg1": dw, "arg2": db}, {"arg1": "w", "arg2": "b"},
                    _("the logits"),
                    _("do not cut them from the graph: no .detach(), .data, torch.tensor(...), NumPy or "
                      "torch.no_grad()."))


@pytest.mark.blank("logistic_forward", points=0.25, kind="property")
def test_forward_leaves_inputs(sub, rng):
    """does not modify its inputs"""
    x, w, b = _forward_inputs(rng, 13)
    result = sub.run("logistic_forward", x, nn.Parameter(w), nn.Parameter(b))
    for name, before, after in (("x", x, result.args[0]), ("w", w, result.args[1]), ("b", b, result.args[2])):
        unchanged(before, after, name)


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
    for _epoch in range(epochs):
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
    "ascent": N_("the loss goes up: the parameters move along the gradient (gradient ascent)."),
    "accumulate": N_("the gradients were never zeroed, so each epoch's gradient adds up with the previous ones: call "
                     "optimizer.zero_grad() every epoch, before backward."),
    "after": N_("each loss is the one after that epoch's step (the list is shifted by one epoch): record loss.item() "
                "before optimizer.step()."),
    "adam": N_("these are Adam's steps: the exercise asks for torch.optim.SGD([w, b], lr=lr)."),
    "momentum": N_("these are the steps of SGD with momentum: use torch.optim.SGD([w, b], lr=lr) without momentum."),
    "frozen": N_("the parameters never change: zero_grad between backward and step wipes the gradients before step "
                 "uses them (the order is zero_grad, backward, step)."),
    "double sigmoid": N_("nn.BCEWithLogitsLoss applies the sigmoid itself: give it the logits of logistic_forward, "
                         "not sigmoid(logits) (that is a sigmoid twice)."),
}
LEARNING_RATES = [1e-3, 0.01, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]  # hard-coded ones students use


def fingerprint(args, losses):
    """A hint naming the known mistake (or other learning rate) that reproduces the returned losses."""
    return hints.replayed_training(args, losses, simulate, {k: _(text) for k, text in MISTAKES.items()},
                                   LEARNING_RATES, rising=_("the loss goes up: is the update's sign right?"))


def reference_run(ref, x, y, w, b, lr, epochs):
    w, b = nn.Parameter(w.detach().clone()), nn.Parameter(b.detach().clone())
    losses = ref.train_logistic(x, y, w, b, lr, epochs)
    return torch.tensor(losses, dtype=torch.float64), w.detach(), b.detach()


def train_inputs(rng, n):
    x, y, w, b = logistic_problem(rng, n)
    return x, y, nn.Parameter(w), nn.Parameter(b)


def _check_training(sub, rng, ref, lr, epochs, n):
    """One training run from a fresh start: the losses (Python floats) and the caller's trained w and b."""
    x, y, w, b = train_inputs(rng, n)
    result = sub.run("train_logistic", x, y, w, b, lr, epochs)
    losses = result.value
    if type(losses) is list and len(losses) != epochs:
        raise Mismatch(feedback(_("the losses: there is not one entry per epoch."),
                                _("the number of epochs must come from the epochs argument (is it hard-coded?)."),
                                _("Expected {expected} entries, got {got}.").format(expected=epochs, got=len(losses))))
    expect(losses, _("the losses")).float_list(epochs)
    expected, ref_w, ref_b = reference_run(ref, x, y, w, b, lr, epochs)
    fp = fingerprint((x, y, w, b, lr, epochs), losses)
    expect(torch.tensor(losses, dtype=torch.float64), _("the losses")).close_to(
        expected, atol=1e-6, what=_(" of plain SGD from the same start"), hints=[fp])
    for name, before, after, want in (("w", w, result.args[2], ref_w), ("b", b, result.args[3], ref_b)):
        if after.shape == before.shape and torch.equal(after, before.detach()):
            raise Mismatch(feedback(_("{name}: the caller's {name} did not change.").format(name=name),
                                    _("build the optimizer on the Parameters you are given, torch.optim.SGD([w, b], "
                                      "lr=lr), and call step() after backward() (zero_grad before backward, not "
                                      "between backward and step).")))
        expect(after, _("{name} after training").format(name=name)).tensor(shape=before.shape).close_to(
            want, what=_(" of plain SGD from the same start"), hints=[fp])


def randint_epochs(rng) -> int:
    return int(torch.randint(3, 7, (), generator=rng))


def _learning_rate(rng):
    return round(0.15 + 1.2 * torch.rand((), generator=rng).item(), 4)  # never one of the usual hard-coded ones


@pytest.mark.blank("train_logistic", points=0.5)
@pytest.mark.parametrize("epochs, n", [(5, 30), (12, 17), (8, 64)])
def test_train_losses(sub, rng, ref, epochs, n):
    """every epoch's loss, as Python floats, and the trained w and b match plain SGD"""
    _check_training(sub, rng, ref, _learning_rate(rng), epochs, n)


@pytest.mark.blank("train_logistic", points=0.25, kind="edge")
def test_train_one_epoch(sub, rng, ref):
    """works for epochs = 1"""
    _check_training(sub, rng, ref, _learning_rate(rng), 1, 20)


@pytest.mark.blank("train_logistic", points=0.25, kind="edge")
def test_train_one_row(sub, rng, ref):
    """works for N = 1 (one row)"""
    _check_training(sub, rng, ref, _learning_rate(rng), 6, 1)


@pytest.mark.blank("train_logistic", points=0.75, kind="property")
def test_train_keeps_parameters(sub, rng):
    """keeps the Parameter objects"""
    x, y, w, b = train_inputs(rng, 15)
    result = sub.run("train_logistic", x, y, w, b, 0.5, 3)
    for name, after in (("w", result.args[2]), ("b", result.args[3])):
        if after.remote.cls != "Parameter":
            raise Mismatch(_("{name}: the caller's {name} is no longer an nn.Parameter.").format(name=name))


@pytest.mark.blank("train_logistic", points=0.5, kind="property")
def test_train_backward_each_epoch(sub, rng):
    """calls backward once per epoch (autograd's engine runs one backward pass an epoch)"""
    x, y, w, b = train_inputs(rng, 10)
    epochs = randint_epochs(rng)
    passes = sub.run("train_logistic", x, y, w, b, 0.05, epochs, watch=True).backward_passes
    judged()
    if passes != epochs:
        sentence = (_("train_logistic: autograd ran {passes} backward passes in {epochs} epochs, not one per epoch.")
                    if passes != 1 else
                    _("train_logistic: autograd ran {passes} backward pass in {epochs} epochs, not one per epoch."))
        raise Mismatch(feedback(sentence.format(passes=passes, epochs=epochs),
                                _("each epoch computes the loss and calls loss.backward() once, and the update uses "
                                  "the gradients it leaves in .grad.") if passes < epochs else
                                _("compute the loss and call backward once per epoch (no extra backward for "
                                  "logging).")))


@pytest.mark.blank("train_logistic", points=0.75, kind="property")
def test_train_leaves_data(sub, rng):
    """does not modify its inputs other than w and b (x and y are unchanged)"""
    x, y, w, b = train_inputs(rng, 15)
    result = sub.run("train_logistic", x, y, w, b, 0.5, 3)
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


def _accuracy_value(out):
    """The value of the accuracy (a 1-element float tensor is read as its number: its type is judged apart)."""
    if isinstance(out, torch.Tensor) and out.numel() == 1 and out.is_floating_point():
        return float(out)
    if type(out) not in (float, int):
        raise Mismatch(_("the accuracy: expected a Python float, got {what}.").format(what=describe(out)))
    return float(out)


def _check_accuracy(sub, ref, logits, y):
    value = _accuracy_value(sub.run("accuracy", logits, y).value)
    expect(value, _("the accuracy")).close_to(ref.accuracy(logits, y), atol=1e-6,
                                              hints=[_accuracy_hints(logits, y)])


def _accuracy_hints(logits, y):
    n = len(y)

    def hint(actual, expected):
        a = float(actual)
        if n > 1 and abs(a - ((logits > 0).float().reshape(-1) == y).float().mean().item()) < 1e-6:
            return _("comparing predictions of shape (N,) with labels of shape (N, 1) broadcasts to an (N, N) "
                     "table: keep both (N, 1).")
        if abs(a - ((logits > 0.5).float() == y).float().mean().item()) < 1e-6:
            return _("the logits were thresholded at 0.5: accuracy takes logits, so the predicted label is 1 when "
                     "the logit is > 0 (sigmoid(logit) > 0.5).")
        if abs(a - y.mean().item()) < 1e-6:
            return _("every row was predicted as class 1: logits are thresholded at 0, probabilities at 0.5.")
        if abs(a - 100 * float(expected)) < 1e-4:
            return _("a fraction in [0, 1] was asked for, not a percentage.")
        if abs(a - n * float(expected)) < 1e-4:
            return _("this is the number of correct rows: divide by N for the fraction.")
        return None
    return hint


@pytest.mark.blank("accuracy", points=0.25)
@pytest.mark.parametrize("sizes", ["57 and 21", "33 and 45"])
def test_accuracy_values(sub, rng, ref, sizes):
    """the fraction of rows whose label (logit > 0) equals y"""
    first, second = map(int, sizes.split(" and "))
    _check_accuracy(sub, ref, *_accuracy_inputs(rng, first))
    _check_accuracy(sub, ref, *_accuracy_inputs(rng, second, small_positive=True))


@pytest.mark.blank("accuracy", points=0.25, kind="edge")
def test_accuracy_one_row(sub, rng, ref):
    """works for N = 1 (one row), right and wrong"""
    logits, y = _accuracy_inputs(rng, 1)
    for labels in (y, 1 - y):
        _check_accuracy(sub, ref, logits, labels)


def _threshold_inputs(rng):
    """Logits with rows at exactly 0 and rows just either side of it, and labels for which every wrong treatment
    of a logit of 0 changes the accuracy: counted as class 1 (the wrong side), as never right, or as always right."""
    logits, y = _accuracy_inputs(rng, 16)
    logits[:5] = 0.0
    y[:5] = torch.tensor([[0.0], [0.0], [0.0], [1.0], [0.0]])
    logits[5:8] = (1e-4 + 1e-3 * torch.rand(3, 1, generator=rng))  # just above 0: class 1
    logits[8:11] = -(1e-4 + 1e-3 * torch.rand(3, 1, generator=rng))  # just below 0: class 0
    y[5:11] = torch.tensor([[1.0], [1.0], [0.0], [0.0], [0.0], [1.0]])
    right = float(((logits > 0).float() == y).float().mean())
    zero = logits == 0
    others = ((logits > 0).float() == y) & ~zero
    for wrong in ((logits >= 0).float() == y, others, others | zero):  # wrong side, never right, always right
        assert float(wrong.float().mean()) != right, "the rows do not tell this treatment of 0 apart"
    return logits, y


@pytest.mark.blank("accuracy", points=0.25, kind="edge")
def test_accuracy_logit_zero(sub, rng, ref):
    """a logit of exactly 0 is class 0 (rows at 0 and just either side)"""
    _check_accuracy(sub, ref, *_threshold_inputs(rng))


@pytest.mark.blank("accuracy", points=1.0, kind="property")
def test_accuracy_python_float(sub, rng):
    """returns a Python float"""
    logits, y = _accuracy_inputs(rng, 13)
    out = sub.run("accuracy", logits, y).value
    if isinstance(out, torch.Tensor):
        raise Mismatch(feedback(_("the accuracy: expected a Python float, got {what}.").format(what=describe(out)),
                                _("call .item().")))
    expect(out, _("the accuracy")).python_float()


# ----------------------------------------------------------------------------------- the page's loss curve
def visible_training(release):
    """The notebook's own training run: exam_scores.csv as it loads it (each score column divided by its maximum),
    from zero weights, lr = 1, 1000 epochs."""
    import numpy as np

    data = np.loadtxt(release / "exam_scores.csv", delimiter=",", dtype=np.float32, ndmin=2)
    x = data[:, 0:2] / data[:, 0:2].max(axis=0)
    w, b = nn.Parameter(torch.zeros(2, 1)), nn.Parameter(torch.zeros(1))
    return torch.tensor(x), torch.tensor(data[:, 2:3]), w, b, 1.0, 1000


CURVES = {"train_logistic": Curve(visible_training, N_("train_logistic on exam_scores.csv (100 rows), from zero "
                                                       "weights, lr = 1, 1000 epochs"))}
