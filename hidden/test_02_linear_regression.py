"""Hidden tests for 02_linear_regression."""
import pytest
import torch

from autograder import hints
from autograder.compare import Mismatch, expect, unchanged
from autograder.submission import CallResult, SubmissionError

ASSIGNMENT = "02_linear_regression"

GLOBALS = ("15 is the number of the notebook's training points: does the function use x_train / y_train instead of "
           "its arguments?")

# Errors that the classic mistakes raise (lower case), and what to say about them.
ERROR_HINTS = [
    (("size of tensor", "(15)"), GLOBALS),
    ("'nonetype' object has no attribute 'zero_'",
     "w.grad is None until the first backward: zero the gradients after the update (or only when w.grad is not None)."),
    ("'nonetype'",
     "w.grad is None: after `w = w - lr * w.grad` the name w holds a new tensor that is not a leaf, so backward "
     "gives it no .grad, and the caller's w never changes. Update in place: `with torch.no_grad(): w -= lr * w.grad`."),
    ("leaf variable that requires grad is being used in an in-place operation",
     "update w and b inside `with torch.no_grad():`, so that the update is not recorded in the graph."),
    ("backward through the graph a second time", "compute the predictions and the loss anew in every epoch."),
    ("does not require grad",
     "the loss must be built from w and b with tensor operations (no .item(), torch.tensor(...) or .detach()), "
     "so that backward reaches them."),
]




def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def uses_arguments(sub, name, args, replace, what):
    """A probe for :class:`probing`: when the checks fail, call ``name`` again with the arguments ``replace``
    (index -> new value) changed; if the result stays exactly the same, the function reads notebook globals."""
    def probe(error: Mismatch):
        try:
            first = sub.call(name, *args)
            second = sub.call(name, *[replace.get(i, a) for i, a in enumerate(args)])
        except SubmissionError:
            return error
        if not _same(first, second):
            return error
        text = str(error).split(" Hint: ")[0]
        return Mismatch(f"{text} Hint: your result stays exactly the same when {what} change: does the function use "
                        f"the notebook's x_train / y_train instead of its arguments?")
    return probe


class probing:
    """``with probing(probe): checks`` -- a failing check gets the probe's hint if the probe finds one."""

    def __init__(self, probe):
        self.probe = probe

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if isinstance(error, Mismatch):
            better = self.probe(error)
            if better is not error:
                raise better from None
        return False


def uniform(rng, low, high):
    return low + (high - low) * torch.rand((), generator=rng).item()


def problem(rng, n):
    """x, y of shape (n, 1) around a random line, and a start w, b of shape (1,) well away from the optimum."""
    slope, intercept = uniform(rng, -2, 2), uniform(rng, -1, 1)
    x = torch.randn(n, 1, generator=rng) + uniform(rng, -0.5, 0.5)
    y = slope * x + intercept + 0.3 * torch.randn(n, 1, generator=rng)
    sign = 1.0 if torch.rand((), generator=rng).item() < 0.5 else -1.0
    w = torch.tensor([slope + sign * uniform(rng, 1.0, 2.0)])
    b = torch.tensor([intercept - sign * uniform(rng, 0.5, 1.5)])
    return x, y, w, b


def inputs_unchanged(result: CallResult, names: str, before) -> None:
    for name, b, a in zip(names, before, result.args):
        unchanged(b, a, name)
        if isinstance(a, torch.Tensor) and a.remote.requires_grad != b.requires_grad:
            raise Mismatch(f"{name}: your function changed whether the caller's {name} requires grad "
                           f"(requires_grad_ on an input); work on a copy instead.")


# ----------------------------------------------------------------------------------------------- linear_model
def _model_hints(x, w, b):
    def hint(actual, expected):
        if torch.allclose(actual, (x * w).double(), atol=1e-5):
            return "the bias b is missing: x * w + b."
        if torch.allclose(actual, (x * w - b).double(), atol=1e-5):
            return "b is subtracted instead of added."
        return None
    return hint


def _predictions(out, n):
    if isinstance(out, torch.Tensor) and tuple(out.shape) == (n,):
        raise Mismatch(f"predictions: expected shape ({n}, 1), got ({n},). Hint: x @ w with w of shape (1,) "
                       f"drops a dimension; x * w + b broadcasts to (N, 1).")
    return expect(out, "predictions").tensor(shape=(n, 1))


@pytest.mark.blank("linear_model", points=0.25)
@pytest.mark.parametrize("n", [1, 12])
def test_linear_model_values(sub, rng, ref, n):
    """predictions are x * w + b, shape (N, 1)"""
    x, _, w, b = problem(rng, n)
    out = sub.run("linear_model", x, w, b).value
    _predictions(out, n).close_to(ref.linear_model(x, w, b), hints=[_model_hints(x, w, b)])


@pytest.mark.blank("linear_model", points=0.5)
def test_linear_model_differentiable(sub, rng, ref):
    """keeps the graph to w and b (usable with backward)"""
    x, _, w, b = problem(rng, 9)
    w.requires_grad_(True)
    b.requires_grad_(True)
    result = sub.run("linear_model", x, w, b)
    out = result.value
    _predictions(out, 9).close_to(ref.linear_model(x, w, b), hints=[_model_hints(x, w, b)])
    if not out.remote.requires_grad or out.remote.grad_fn is None:
        raise Mismatch("predictions: for w and b that require grad, the predictions should require grad too; they "
                       "were cut from the graph (.detach(), .data, .item(), torch.tensor(...) or NumPy), so backward "
                       "could not reach w and b.")
    inputs_unchanged(result, ("x", "w", "b"), (x, w, b))


# --------------------------------------------------------------------------------------------------- mse_loss
def _loss_value(out, name="the loss"):
    if type(out) is float:
        raise Mismatch(f"{name}: expected a 0-dim tensor, got a Python float. Hint: return the tensor itself (no "
                       f".item()), so that backward can be called on it.")
    if isinstance(out, torch.Tensor) and out.dim() > 0 and out.numel() == 1:
        raise Mismatch(f"{name}: expected a 0-dim tensor, got shape {tuple(out.shape)}. Hint: the mean over all "
                       f"elements is .mean() without a dim.")
    return expect(out, name).tensor(shape=())


HALF = hints.ratio({0.5: "the mean squared error has no 1/2 in front.", 2.0: "is there an extra factor 2?"})


@pytest.mark.blank("mse_loss", points=0.5)
@pytest.mark.parametrize("n", [1, 15, 40])
def test_mse_loss_values(sub, rng, ref, n):
    """the mean of the squared errors of its arguments"""
    y_pred = torch.randn(n, 1, generator=rng) * 2
    y = torch.randn(n, 1, generator=rng) * 2
    result = sub.run("mse_loss", y_pred, y)
    other_y = torch.randn(n, 1, generator=rng) * 2
    with probing(uses_arguments(sub, "mse_loss", (y_pred, y), {1: other_y}, "the targets y")):
        _loss_value(result.value).close_to(ref.mse_loss(y_pred, y),
                                           hints=[hints.sum_vs_mean(n), HALF, hints.any_constant_ratio])
    inputs_unchanged(result, ("y_pred", "y"), (y_pred, y))


@pytest.mark.blank("mse_loss", points=0.5)
def test_mse_loss_differentiable(sub, rng, ref):
    """is differentiable (keeps the graph for backward)"""
    y_pred = (torch.randn(11, 1, generator=rng) * 2).requires_grad_(True)
    y = torch.randn(11, 1, generator=rng) * 2
    out = sub.run("mse_loss", y_pred, y).value
    _loss_value(out).close_to(ref.mse_loss(y_pred, y), hints=[hints.sum_vs_mean(11)])
    if not out.remote.requires_grad or out.remote.grad_fn is None:
        raise Mismatch("the loss: for predictions that require grad the loss must require grad too, but it was cut "
                       "from the graph (.item(), .detach(), torch.tensor(...) or NumPy), so backward cannot run.")


# -------------------------------------------------------------------------------------------------- mse_grads
def _without_x(ref_db):
    def hint(actual, expected):
        if actual.shape == ref_db.shape and torch.allclose(actual, ref_db.double(), rtol=1e-4, atol=1e-5):
            return "dw equals the gradient of b: the factor x_i is missing from dw = 2/n Σ x_i (w x_i + b − y_i)."
        return None
    return hint


def _check_grads(value, x, y, w, b, ref):
    n = x.shape[0]
    expect(value, "mse_grads(x, y, w, b)").tuple_of(2)
    dw, db = value
    ref_dw, ref_db = ref.mse_grads(x, y, w, b)
    common = [hints.FACTOR_2, hints.SIGN, hints.sum_vs_mean(n)]
    expect(dw, "dw").tensor(shape=(1,)).close_to(ref_dw, hints=[_without_x(ref_db), *common])
    expect(db, "db").tensor(shape=(1,)).close_to(ref_db, hints=common)


@pytest.mark.blank("mse_grads", points=1)
@pytest.mark.parametrize("n", [1, 13])
def test_grads_match_closed_form(sub, rng, ref, n):
    """dw and db match the closed-form gradients away from the optimum"""
    x, y, w, b = problem(rng, n)
    result = sub.run("mse_grads", x, y, w, b)
    other_x, other_y, _, _ = problem(rng, n)
    with probing(uses_arguments(sub, "mse_grads", (x, y, w, b), {0: other_x, 1: other_y}, "x and y")):
        _check_grads(result.value, x, y, w, b, ref)


@pytest.mark.blank("mse_grads", points=0.5)
def test_grads_by_hand(sub, rng, ref):
    """computes the gradients by hand (no autograd)"""
    x, y, w, b = problem(rng, 6)
    result = sub.run("mse_grads", x, y, w, b, watch=True)
    _check_grads(result.value, x, y, w, b, ref)  # only a working answer earns this
    used = sorted(c for c in result.torch_calls if c.rsplit(".", 1)[-1] == "backward" or c.endswith("autograd.grad"))
    if used:
        raise Mismatch(f"mse_grads uses autograd ({', '.join(used)}): this exercise forbids backward, "
                       f"torch.autograd.grad and torch.func, because the point is to derive and code the gradient "
                       f"formulas yourself.")


@pytest.mark.blank("mse_grads", points=0.5)
def test_grads_leave_inputs(sub, rng, ref):
    """mse_grads leaves its inputs unchanged"""
    x, y, w, b = problem(rng, 7)
    result = sub.run("mse_grads", x, y, w, b)
    inputs_unchanged(result, ("x", "y", "w", "b"), (x, y, w, b))
    _check_grads(result.value, x, y, w, b, ref)  # only a working answer earns this


# ----------------------------------------------------------------------------------------------- train_linear
def simulate(x, y, w0, b0, lr, epochs, mistake=None):
    """Gradient descent as train_linear does it, or as a known mistake does: (losses, w, b)."""
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    opt = {"adam": lambda: torch.optim.Adam([w, b], lr=lr),
           "momentum": lambda: torch.optim.SGD([w, b], lr=lr, momentum=0.9)}.get(mistake, lambda: None)()
    losses = []
    for _ in range(epochs):
        loss = ((x * w + b - y) ** 2).mean()
        if mistake != "after":
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            if opt is not None:
                opt.step()
            elif mistake != "frozen":
                step = lr if mistake == "ascent" else -lr
                w += step * w.grad
                b += step * b.grad
            if mistake == "after":
                losses.append(((x * w + b - y) ** 2).mean().item())
        if mistake != "accumulate":
            w.grad = None
            b.grad = None
    return torch.tensor(losses, dtype=torch.float64), w.detach(), b.detach()


MISTAKES = {
    "ascent": "the loss goes up: the parameters move along the gradient (gradient ascent); subtract lr * grad.",
    "accumulate": "the gradients were never zeroed, so each epoch's gradient adds up with the previous ones "
                  "(they grow every epoch): zero them after every update (w.grad.zero_(), or w.grad = None).",
    "after": "each loss is the one after that epoch's update (the list is shifted by one epoch): record "
             "loss.item() before updating the parameters.",
    "adam": "these are Adam's steps: the exercise is plain gradient descent, w -= lr * w.grad.",
    "momentum": "these are the steps of SGD with momentum: plain gradient descent has no momentum.",
    "frozen": "the parameters never change: were the gradients zeroed between backward and the update?",
}
LEARNING_RATES = [1e-4, 1e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]  # hard-coded ones students use


def fingerprint(args, losses):
    """A hint naming the known mistake (or other learning rate) that reproduces the returned losses."""
    return hints.replayed_training(args, losses, simulate, MISTAKES, LEARNING_RATES,
                                   rising="the loss goes up: is the update's sign right (w -= lr * w.grad)?")


def reference_run(ref, x, y, w, b, lr, epochs):
    """The reference's losses and trained w, b, from copies of the same start."""
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    losses = ref.train_linear(x, y, w, b, lr, epochs)
    return torch.tensor(losses, dtype=torch.float64), w.detach(), b.detach()


def train_inputs(rng, n):
    x, y, w, b = problem(rng, n)
    return x, y, w.requires_grad_(True), b.requires_grad_(True)


def losses_of(result, epochs):
    losses = result.value
    if type(losses) is list and len(losses) != epochs:
        raise Mismatch(f"the losses: expected {epochs} entries (one per epoch), got {len(losses)}: the number of "
                       f"epochs must come from the epochs argument (is it hard-coded?).")
    expect(losses, "the losses").float_list(epochs)
    return losses


@pytest.mark.blank("train_linear", points=0.5)
@pytest.mark.parametrize("lr, epochs, n", [(0.01, 6, 15), (0.05, 9, 8), (0.1, 3, 20), (0.003, 1, 1)])
def test_train_losses(sub, rng, ref, lr, epochs, n):
    """every epoch's loss, before its update, matches gradient descent from the same start"""
    x, y, w, b = train_inputs(rng, n)
    result = sub.run("train_linear", x, y, w, b, lr, epochs)
    losses = losses_of(result, epochs)
    expected, _, _ = reference_run(ref, x, y, w, b, lr, epochs)
    other_x, other_y, _, _ = problem(rng, n)
    with probing(uses_arguments(sub, "train_linear", (x, y, w, b, lr, epochs), {0: other_x, 1: other_y}, "x and y")):
        expect(torch.tensor(losses, dtype=torch.float64), "the losses").close_to(
            expected, atol=1e-6, what=" of gradient descent from the same start",
            hints=[fingerprint((x, y, w, b, lr, epochs), losses)])


@pytest.mark.blank("train_linear", points=1)
@pytest.mark.parametrize("lr, epochs, n", [(0.02, 7, 12), (0.08, 4, 5)])
def test_train_updates_callers_tensors(sub, rng, ref, lr, epochs, n):
    """the caller's w and b hold the trained values and are still leaves that require grad"""
    x, y, w, b = train_inputs(rng, n)
    result = sub.run("train_linear", x, y, w, b, lr, epochs)
    _, ref_w, ref_b = reference_run(ref, x, y, w, b, lr, epochs)
    for name, before, after, expected in (("w", w, result.args[2], ref_w), ("b", b, result.args[3], ref_b)):
        if after.shape == before.shape and torch.equal(after, before.detach()):
            raise Mismatch(f"{name}: the caller's {name} did not change. Hint: `{name} = {name} - lr * {name}.grad` "
                           f"makes a new tensor and only rebinds the name inside your function; update in place: "
                           f"`with torch.no_grad(): {name} -= lr * {name}.grad` (and zero the gradients only after "
                           f"the update).")
        expect(after, f"{name} after training").tensor(shape=(1,)).close_to(
            expected, what=" of gradient descent from the same start",
            hints=[fingerprint((x, y, w, b, lr, epochs), result.value)])
        if not (after.remote.is_leaf and after.remote.requires_grad):
            raise Mismatch(f"{name}: after training the caller's {name} should still be a leaf that requires grad; "
                           f"it is not (was requires_grad switched off, or {name} detached in place?).")
    inputs_unchanged(result, ("x", "y"), (x, y))
