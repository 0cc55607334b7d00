"""Hidden tests for 02_linear_regression.

Each test says what it judges (autograder.grading.policy): ``value`` tests use typical inputs (several per test; training
runs are judged on their whole trajectory), ``edge`` tests the edge cases exercises.md names (N = 1, epochs = 1),
``property`` tests what a correct answer also does (leaves its inputs unchanged, keeps w and b leaves), and
``forbidden`` that mse_grads does not use autograd. A rule of the contract broken by an answer with right values
(its inputs modified) costs half of the blank.
"""
import pytest
import torch

from autograder.grading import hints
from autograder.grading.compare import Mismatch, expect, feedback, gradients_reach, hint_label, judged, unchanged
from autograder.grading.curves import Curve
from autograder.grading.submission import CallResult, SubmissionError
from autograder.i18n import N_, course_text as _

ASSIGNMENT = "02_linear_regression"

GLOBALS = N_("15 is the number of the notebook's training points: does the function use x_train / y_train instead "
             "of its arguments?")

# Errors that the classic mistakes raise (lower case), and what to say about them.
ERROR_HINTS = [
    (("size of tensor", "(15)"), GLOBALS),
    ("'nonetype' object has no attribute 'zero_'",
     N_("w.grad is None until the first backward: zero the gradients after the update (or only when w.grad is not "
        "None).")),
    ("'nonetype'",
     N_("w.grad is None: after `w = w - lr * w.grad` the name w holds a new tensor that is not a leaf, so backward "
        "gives it no .grad, and the caller's w never changes. Update in place: `with torch.no_grad(): w -= lr * "
        "w.grad`.")),
    ("leaf variable that requires grad is being used in an in-place operation",
     N_("update w and b inside `with torch.no_grad():`, so that the update is not recorded in the graph.")),
    ("backward through the graph a second time", N_("compute the predictions and the loss anew in every epoch.")),
    ("does not require grad",
     N_("the loss must be built from w and b with tensor operations (no .item(), torch.tensor(...) or .detach()), "
        "so that backward reaches them.")),
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
        lines = [line for line in str(error).splitlines() if not line.startswith(hint_label() + " ")]
        return Mismatch(feedback(lines[0], _("your result stays exactly the same when {what} change: does the "
                                             "function use the notebook's x_train / y_train instead of its "
                                             "arguments?").format(what=what),
                                 "\n".join(lines[1:])))
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
            raise Mismatch(_("{name}: your function changed whether the caller's {name} requires grad "
                             "(requires_grad_ on an input); work on a copy instead.").format(name=name))


# ----------------------------------------------------------------------------------------------- linear_model
def _model_hints(x, w, b):
    def hint(actual, expected):
        if torch.allclose(actual, (x * w).double(), atol=1e-5):
            return _("the bias b is missing: x * w + b.")
        if torch.allclose(actual, (x * w - b).double(), atol=1e-5):
            return _("b is subtracted instead of added.")
        return None
    return hint


def _check_predictions(sub, ref, x, w, b):
    """Predictions for w and b that require grad (as in training): right values, shape (N, 1), on the graph."""
    n = x.shape[0]
    w, b = w.detach().clone().requires_grad_(True), b.detach().clone().requires_grad_(True)
    out = sub.run("linear_model", x, w, b).value
    if isinstance(out, torch.Tensor) and tuple(out.shape) == (n,) and n > 1:
        raise Mismatch(feedback(_("predictions: a dimension is missing."), _("x @ w with w of shape (1,) drops a "
                                "dimension; x * w + b broadcasts to (N, 1)."),
                                _("Expected shape {expected}, got {got}.").format(expected=(n, 1), got=(n,))))
    expect(out, _("predictions")).tensor(shape=(n, 1)).close_to(ref.linear_model(x, w, b),
                                                               hints=[_model_hints(x, w, b)])
    if not out.remote.requires_grad or out.remote.grad_fn is None:
        raise Mismatch(_("predictions: for w and b that require grad the predictions must require grad too, but "
                         "they were cut from the graph (.detach(), .data, .item(), torch.tensor(...) or NumPy), so "
                         "backward could not reach w and b."))


@pytest.mark.blank("linear_model", points=0.125)
@pytest.mark.parametrize("sizes", ["12 and 5", "20 and 9"])
def test_linear_model_values(sub, rng, ref, sizes):
    """predictions are x * w + b, shape (N, 1), on the graph of w and b"""
    for n in map(int, sizes.split(" and ")):
        x, _y, w, b = problem(rng, n)
        _check_predictions(sub, ref, x, w, b)


@pytest.mark.blank("linear_model", points=0.25, kind="edge")
def test_linear_model_one_point(sub, rng, ref):
    """works for N = 1 (one point)"""
    x, _y, w, b = problem(rng, 1)
    _check_predictions(sub, ref, x, w, b)


CUT = N_("do not cut it from the graph: no .detach(), .data, .item(), torch.tensor(...), NumPy or torch.no_grad() "
         "on the way from the inputs to the result.")


def reference_gradients(fn, args, wrt: dict[int, str], g):
    """The gradient the reference sends back to each argument in ``wrt`` (index -> label) for output gradient g."""
    leaves = [a.detach().clone().requires_grad_(True) if i in wrt else a for i, a in enumerate(args)]
    found = torch.autograd.grad(fn(*leaves), [leaves[i] for i in wrt], grad_outputs=g)
    return {f"arg{i}": grad for i, grad in zip(wrt, found)}


@pytest.mark.blank("linear_model", points=0.25, kind="property")
def test_linear_model_gradients(sub, rng, ref):
    """lets the gradient reach w and b (the predictions are on their graph)"""
    x, _y, w, b = problem(rng, 8)
    w, b = w.requires_grad_(True), b.requires_grad_(True)
    g = torch.randn(8, 1, generator=rng)
    result = sub.run("linear_model", x, w, b, vjp=g)
    expect(result.value, _("predictions")).tensor(shape=(8, 1))
    gradients_reach(result.grads, result.vjp_error, reference_gradients(ref.linear_model, (x, w, b), {1: "w", 2: "b"}, g),
                    {"arg1": "w", "arg2": "b"}, _("the predictions"), _(CUT))


@pytest.mark.blank("linear_model", points=0.25, kind="property")
def test_linear_model_leaves_inputs(sub, rng):
    """does not modify its inputs"""
    x, _y, w, b = problem(rng, 9)
    w.requires_grad_(True)
    b.requires_grad_(True)
    inputs_unchanged(sub.run("linear_model", x, w, b), ("x", "w", "b"), (x, w, b))


# --------------------------------------------------------------------------------------------------- mse_loss
def _loss_value(out, name=None):
    name = _("the loss") if name is None else name
    if type(out) is float:
        raise Mismatch(feedback(_("{name}: expected a 0-dim tensor, got a Python float.").format(name=name),
                                _("return the tensor itself (no .item()), so that backward can be called on it.")))
    if isinstance(out, torch.Tensor) and out.dim() > 0 and out.numel() == 1:
        raise Mismatch(feedback(_("{name}: expected a 0-dim tensor, got shape {shape}.").format(
                                    name=name, shape=tuple(out.shape)),
                                _("the mean over all elements is .mean() without a dim.")))
    return expect(out, name).tensor(shape=())


HALF = hints.ratio({0.5: N_("the mean squared error has no 1/2 in front."),
                    2.0: N_("is there an extra factor 2?")})


def _check_mse(sub, ref, rng, y_pred, y):
    """The loss of y_pred that requires grad (as in training): the right 0-dim value, on the graph."""
    n = y.shape[0]
    y_pred = y_pred.detach().clone().requires_grad_(True)
    out = sub.run("mse_loss", y_pred, y).value
    other_y = torch.randn(n, 1, generator=rng) * 2
    with probing(uses_arguments(sub, "mse_loss", (y_pred, y), {1: other_y}, _("the targets y"))):
        _loss_value(out).close_to(ref.mse_loss(y_pred, y), hints=[hints.sum_vs_mean(n), HALF, hints.any_constant_ratio])
    if not out.remote.requires_grad or out.remote.grad_fn is None:
        raise Mismatch(_("the loss: for predictions that require grad the loss must require grad too, but it was "
                         "cut from the graph (.item(), .detach(), torch.tensor(...) or NumPy), so backward cannot "
                         "run."))


@pytest.mark.blank("mse_loss", points=0.375)
@pytest.mark.parametrize("sizes", ["15 and 40", "7 and 23"])
def test_mse_loss_values(sub, rng, ref, sizes):
    """the mean of the squared errors of its arguments, a 0-dim tensor on the graph"""
    for n in map(int, sizes.split(" and ")):
        _check_mse(sub, ref, rng, torch.randn(n, 1, generator=rng) * 2, torch.randn(n, 1, generator=rng) * 2)


@pytest.mark.blank("mse_loss", points=0.25, kind="edge")
def test_mse_loss_one_point(sub, rng, ref):
    """works for N = 1 (one point)"""
    _check_mse(sub, ref, rng, torch.randn(1, 1, generator=rng) * 2, torch.randn(1, 1, generator=rng) * 2)


@pytest.mark.blank("mse_loss", points=0.5, kind="property")
def test_mse_loss_gradients(sub, rng, ref):
    """lets the gradient reach y_pred (backward through the loss works)"""
    y_pred, y = torch.randn(9, 1, generator=rng) * 2, torch.randn(9, 1, generator=rng) * 2
    g = torch.randn((), generator=rng) + 2.0
    result = sub.run("mse_loss", y_pred.requires_grad_(True), y, vjp=g)
    _loss_value(result.value)
    gradients_reach(result.grads, result.vjp_error, reference_gradients(ref.mse_loss, (y_pred, y), {0: "y_pred"}, g),
                    {"arg0": "y_pred"}, _("the loss"), _(CUT))


@pytest.mark.blank("mse_loss", points=0.5, kind="property")
def test_mse_loss_leaves_inputs(sub, rng):
    """does not modify its inputs"""
    y_pred = (torch.randn(11, 1, generator=rng) * 2).requires_grad_(True)
    y = torch.randn(11, 1, generator=rng) * 2
    inputs_unchanged(sub.run("mse_loss", y_pred, y), ("y_pred", "y"), (y_pred, y))


# -------------------------------------------------------------------------------------------------- mse_grads
def _without_x(ref_db):
    def hint(actual, expected):
        if actual.shape == ref_db.shape and torch.allclose(actual, ref_db.double(), rtol=1e-4, atol=1e-5):
            return _("dw equals the gradient of b: the factor x_i is missing from dw = 2/n Σ x_i (w x_i + b − y_i).")
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


def _grads_case(sub, rng, ref, n):
    x, y, w, b = problem(rng, n)
    result = sub.run("mse_grads", x, y, w, b)
    other_x, other_y = problem(rng, n)[:2]
    with probing(uses_arguments(sub, "mse_grads", (x, y, w, b), {0: other_x, 1: other_y}, _("x and y"))):
        _check_grads(result.value, x, y, w, b, ref)


@pytest.mark.blank("mse_grads", points=0.375)
@pytest.mark.parametrize("sizes", ["13 and 6", "25 and 4"])
def test_grads_match_closed_form(sub, rng, ref, sizes):
    """dw and db match the closed-form gradients away from the optimum"""
    for n in map(int, sizes.split(" and ")):
        _grads_case(sub, rng, ref, n)


@pytest.mark.blank("mse_grads", points=0.5, kind="edge")
def test_grads_one_point(sub, rng, ref):
    """works for N = 1 (one point)"""
    _grads_case(sub, rng, ref, 1)


AUTOGRAD = N_("backward, torch.autograd.grad or torch.func")


@pytest.mark.blank("mse_grads", points=0.25, kind="forbidden")
def test_grads_by_hand(sub, rng):
    """does not use backward, torch.autograd.grad or torch.func"""
    x, y, w, b = problem(rng, 6)
    result = sub.run("mse_grads", x, y, w, b, watch=True)
    used = sorted({c for c in result.torch_calls if c.rsplit(".", 1)[-1] == "backward" or c.endswith("autograd.grad")
                   or c.startswith("torch.func.") or ".func." in c})
    if result.backward_passes and not used:  # autograd's engine ran, however it was reached
        passes = (_("{count} backward pass of autograd") if result.backward_passes == 1 else
                  _("{count} backward passes of autograd"))
        used = [passes.format(count=result.backward_passes)]
    if used:
        raise Mismatch(feedback(_("mse_grads uses autograd ({calls}), which this exercise forbids.").format(
                                    calls=", ".join(used)),
                                _("the exercise forbids {forbidden}: derive the gradient formulas and code them "
                                  "yourself.").format(forbidden=_(AUTOGRAD))))


@pytest.mark.blank("mse_grads", points=1.5, kind="property")
def test_grads_leave_inputs(sub, rng):
    """does not modify its inputs"""
    x, y, w, b = problem(rng, 7)
    inputs_unchanged(sub.run("mse_grads", x, y, w, b), ("x", "y", "w", "b"), (x, y, w, b))


# ----------------------------------------------------------------------------------------------- train_linear
def simulate(x, y, w0, b0, lr, epochs, mistake=None):
    """Gradient descent as train_linear does it, or as a known mistake does: (losses, w, b)."""
    w = w0.detach().clone().requires_grad_(True)
    b = b0.detach().clone().requires_grad_(True)
    opt = {"adam": lambda: torch.optim.Adam([w, b], lr=lr),
           "momentum": lambda: torch.optim.SGD([w, b], lr=lr, momentum=0.9)}.get(mistake, lambda: None)()
    losses = []
    for _epoch in range(epochs):
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
    "ascent": N_("the loss goes up: the parameters move along the gradient (gradient ascent); subtract lr * grad."),
    "accumulate": N_("the gradients were never zeroed, so each epoch's gradient adds up with the previous ones "
                     "(they grow every epoch): zero them after every update (w.grad.zero_(), or w.grad = None)."),
    "after": N_("each loss is the one after that epoch's update (the list is shifted by one epoch): record "
                "loss.item() before updating the parameters."),
    "adam": N_("these are Adam's steps: the exercise is plain gradient descent, w -= lr * w.grad."),
    "momentum": N_("these are the steps of SGD with momentum: plain gradient descent has no momentum."),
    "frozen": N_("the parameters never change: were the gradients zeroed between backward and the update?"),
}
LEARNING_RATES = [1e-4, 1e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]  # hard-coded ones students use


def fingerprint(args, losses):
    """A hint naming the known mistake (or other learning rate) that reproduces the returned losses."""
    return hints.replayed_training(args, losses, simulate, {k: _(text) for k, text in MISTAKES.items()},
                                   LEARNING_RATES, rising=_("the loss goes up: is the update's sign right "
                                                            "(w -= lr * w.grad)?"))


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
        raise Mismatch(feedback(_("the losses: there is not one entry per epoch."),
                                _("the number of epochs must come from the epochs argument (is it hard-coded?)."),
                                _("Expected {expected} entries, got {got}.").format(expected=epochs, got=len(losses))))
    expect(losses, _("the losses")).float_list(epochs)
    return losses


def _check_training(sub, rng, ref, lr, epochs, n):
    """One training run from a fresh start: the losses (Python floats) and the caller's trained w and b."""
    x, y, w, b = train_inputs(rng, n)
    result = sub.run("train_linear", x, y, w, b, lr, epochs)
    losses = losses_of(result, epochs)
    expected, ref_w, ref_b = reference_run(ref, x, y, w, b, lr, epochs)
    fp = fingerprint((x, y, w, b, lr, epochs), losses)
    other_x, other_y = problem(rng, n)[:2]
    with probing(uses_arguments(sub, "train_linear", (x, y, w, b, lr, epochs), {0: other_x, 1: other_y},
                                _("x and y"))):
        expect(torch.tensor(losses, dtype=torch.float64), _("the losses")).close_to(
            expected, atol=1e-6, what=_(" of gradient descent from the same start"), hints=[fp])
    for name, before, after, want in (("w", w, result.args[2], ref_w), ("b", b, result.args[3], ref_b)):
        if after.shape == before.shape and torch.equal(after, before.detach()):
            raise Mismatch(feedback(_("{name}: the caller's {name} did not change.").format(name=name),
                                    _("`{name} = {name} - lr * {name}.grad` makes a new tensor and only rebinds the "
                                      "name inside your function; update in place: `with torch.no_grad(): {name} -= "
                                      "lr * {name}.grad` (and zero the gradients only after the update).").format(
                                        name=name)))
        expect(after, _("{name} after training").format(name=name)).tensor(shape=(1,)).close_to(
            want, what=_(" of gradient descent from the same start"), hints=[fp])
    return result, (x, y, w, b)


def randint_epochs(rng) -> int:
    return int(torch.randint(3, 7, (), generator=rng))


def _learning_rate(rng):
    return round(0.02 + 0.1 * torch.rand((), generator=rng).item(), 4)  # never one of the usual hard-coded ones


@pytest.mark.blank("train_linear", points=0.5)
@pytest.mark.parametrize("epochs, n", [(6, 15), (9, 8), (4, 20)])
def test_train_losses(sub, rng, ref, epochs, n):
    """every epoch's loss, as Python floats, and the trained w and b match gradient descent"""
    _check_training(sub, rng, ref, _learning_rate(rng), epochs, n)


@pytest.mark.blank("train_linear", points=0.25, kind="edge")
def test_train_one_epoch(sub, rng, ref):
    """works for epochs = 1"""
    _check_training(sub, rng, ref, _learning_rate(rng), 1, 12)


@pytest.mark.blank("train_linear", points=0.25, kind="edge")
def test_train_one_point(sub, rng, ref):
    """works for N = 1 (one point)"""
    _check_training(sub, rng, ref, _learning_rate(rng), 5, 1)


@pytest.mark.blank("train_linear", points=0.75, kind="property")
def test_train_keeps_leaves(sub, rng):
    """keeps w and b leaves that require grad"""
    x, y, w, b = train_inputs(rng, 10)
    result = sub.run("train_linear", x, y, w, b, 0.05, 3)
    for name, after in (("w", result.args[2]), ("b", result.args[3])):
        if not (after.remote.is_leaf and after.remote.requires_grad):
            raise Mismatch(_("{name}: after training the caller's {name} should still be a leaf that requires grad; "
                             "it is not (was requires_grad switched off, or {name} detached in place?).").format(
                name=name))


@pytest.mark.blank("train_linear", points=0.5, kind="property")
def test_train_backward_each_epoch(sub, rng):
    """calls backward once per epoch (autograd's engine runs one backward pass an epoch)"""
    x, y, w, b = train_inputs(rng, 10)
    epochs = randint_epochs(rng)
    passes = sub.run("train_linear", x, y, w, b, 0.05, epochs, watch=True).backward_passes
    judged()
    if passes != epochs:
        ran = (_("train_linear: autograd ran {passes} backward pass in {epochs} epochs, not one per epoch.")
               if passes == 1 else
               _("train_linear: autograd ran {passes} backward passes in {epochs} epochs, not one per epoch."))
        raise Mismatch(feedback(ran.format(passes=passes, epochs=epochs),
                                _("each epoch computes the loss and calls loss.backward() once, and the update uses "
                                  "the gradients it leaves in .grad.") if passes < epochs else
                                _("compute the loss and call backward once per epoch (no extra backward for "
                                  "logging).")))


@pytest.mark.blank("train_linear", points=0.75, kind="property")
def test_train_leaves_data(sub, rng):
    """does not modify its inputs other than w and b (x and y are unchanged)"""
    x, y, w, b = train_inputs(rng, 10)
    inputs_unchanged(sub.run("train_linear", x, y, w, b, 0.05, 3), ("x", "y"), (x, y))


# ----------------------------------------------------------------------------------- the page's loss curve
def visible_training(release):
    """The notebook's own training run: linear_points.csv as it loads it, from w = b = 0, lr = 0.01, 200 epochs."""
    import numpy as np

    data = np.loadtxt(release / "linear_points.csv", delimiter=",", skiprows=1, dtype=np.float32, ndmin=2)
    x, y = torch.tensor(data[:, 0:1]), torch.tensor(data[:, 1:2])
    return x, y, torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True), 0.01, 200


CURVES = {"train_linear": Curve(visible_training, N_("train_linear on linear_points.csv (15 rows), from w = b = 0, "
                                                     "lr = 0.01, 200 epochs"))}
