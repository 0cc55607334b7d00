"""Self-checks of 04_modules, 05_multiclass, 06_initialization: the reference passes, known mistakes get their hint."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import autograder.selfcheck as sc
from conftest import ASSIGNMENTS
from solutions import initialization as ref_init
from solutions import modules as ref_mod
from solutions import multiclass as ref_mc

BLANKS = [b for a in ("04_modules", "05_multiclass", "06_initialization") for b in ASSIGNMENTS[a].blanks]
REFERENCE = {b: getattr(m, b) for m in (ref_mod, ref_mc, ref_init) for b in dir(m) if b in BLANKS}


def failures(candidate, blank=None):
    report = sc.run_checks(candidate, blank)
    return [why for ok, _, why in report.lines if not ok]


def assert_fails_with(candidate, blank, *phrases):
    why = failures(candidate, blank)
    assert why, f"{blank}: a wrong implementation passed every self-check"
    text = " ".join(why)
    for phrase in phrases:
        assert phrase in text, f"{blank}: expected a hint containing {phrase!r}, got {why}"


def test_every_blank_has_checks():
    assert set(REFERENCE) == set(BLANKS)
    sc._load_course_checks()  # from the release folders (conftest puts them on AUTOGRADER_SELFCHECK_PATH)
    for blank in BLANKS:
        assert len(sc._CHECKS[blank]) >= 3, blank


@pytest.mark.parametrize("blank", BLANKS)
def test_reference_passes_quickly(blank):
    report = sc.run_checks(REFERENCE[blank], blank)
    assert report.passed, str(report)
    assert report.seconds < 1.0, f"{blank} self-checks took {report.seconds:.2f} s"


def test_checks_leave_the_global_rng_alone():
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    for blank in BLANKS:
        sc.run_checks(REFERENCE[blank], blank)
    assert torch.equal(torch.rand(3), want)


def test_unwritten_blank_says_so():
    def softmax(z):
        raise NotImplementedError()

    why = failures(softmax)
    assert why == ["not written yet: the cell still raises NotImplementedError."]


# ---------------------------------------------------------------------------------- 04_modules


def test_make_seq_net_with_relu():
    def make_seq_net(n_in, n_hidden, n_out):
        return nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    assert_fails_with(make_seq_net, None, "with Tanh (not ReLU")


def test_make_seq_net_with_named_layers():
    from collections import OrderedDict

    def make_seq_net(n_in, n_hidden, n_out):
        return nn.Sequential(OrderedDict(fc1=nn.Linear(n_in, n_hidden), act=nn.Tanh(),
                                         fc2=nn.Linear(n_hidden, n_out)))

    assert_fails_with(make_seq_net, None, "no OrderedDict names")


def test_make_seq_net_with_fixed_sizes():
    def make_seq_net(n_in, n_hidden, n_out):
        return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))

    assert_fails_with(make_seq_net, None, "not from fixed numbers")


def test_make_seq_net_returning_a_list():
    def make_seq_net(n_in, n_hidden, n_out):
        return [nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out)]

    assert_fails_with(make_seq_net, None, "should return an nn.Sequential, got list")


def two_branch(forward):
    class TwoBranchNet(ref_mod.TwoBranchNet):
        pass

    TwoBranchNet.forward = forward
    return TwoBranchNet


def test_two_branch_returning_one_branch():
    assert_fails_with(two_branch(lambda self, x: self.layer2(x)), "TwoBranchNet", "returned layer2(x) only")


def test_two_branch_concatenating():
    assert_fails_with(two_branch(lambda self, x: torch.cat([self.layer1(x), self.layer2(x)], dim=1)),
                      "TwoBranchNet", "do not concatenate")


def test_two_branch_detaching_a_branch():
    assert_fails_with(two_branch(lambda self, x: self.layer1(x) + self.layer2(x).detach()),
                      "TwoBranchNet", "got no gradient")


def test_two_branch_multiplying():
    assert not failures(two_branch(lambda self, x: self.layer2(x) + self.layer1(x)), "TwoBranchNet")
    assert_fails_with(two_branch(lambda self, x: self.layer1(x) * self.layer2(x)), "TwoBranchNet",
                      "multiplied the branches")


def test_save_whole_model():
    def save_weights(net, path):
        torch.save(net, path)

    assert_fails_with(save_weights, None, "did you pickle the whole model")


def test_save_parameters_list():
    def save_weights(net, path):
        torch.save([p.detach() for p in net.parameters()], path)

    assert_fails_with(save_weights, None, "should hold the state_dict")


def test_load_without_return():
    def load_weights(net, path):
        net.load_state_dict(torch.load(path, weights_only=True))

    assert_fails_with(load_weights, None, "end with `return net`")


def test_load_returning_the_load_report():
    def load_weights(net, path):
        return net.load_state_dict(torch.load(path, weights_only=True))

    assert_fails_with(load_weights, None, "load_state_dict returns a report")


def test_load_unsafely():
    def load_weights(net, path):
        net.load_state_dict(torch.load(path, weights_only=False))
        return net

    assert_fails_with(load_weights, None, "weights_only=False")


def test_load_replacing_parameters():
    def load_weights(net, path):
        net.load_state_dict(torch.load(path, weights_only=True), assign=True)
        return net

    assert_fails_with(load_weights, None, "new Parameter objects")


# ---------------------------------------------------------------------------------- 05_multiclass


def test_softmax_over_dim_0():
    def softmax(z):
        e = torch.exp(z - z.max())
        return e / e.sum(dim=0, keepdim=True)

    assert_fails_with(softmax, None, "normalised over dim 0")


def test_softmax_unstable():
    def softmax(z):
        return torch.exp(z) / torch.exp(z).sum(dim=-1, keepdim=True)

    why = failures(softmax)
    assert len(why) == 1 and "subtract each row's maximum" in why[0]


def test_softmax_fixed_dim_1():
    def softmax(z):
        e = torch.exp(z - z.max(dim=1, keepdim=True).values)
        return e / e.sum(dim=1, keepdim=True)

    assert_fails_with(softmax, None, "not a fixed dim such as 1")


def test_softmax_without_keepdim():
    def softmax(z):
        e = torch.exp(z - z.max())
        return e / e.sum(dim=-1)

    assert_fails_with(softmax, None, "keepdim=True")


def test_softmax_builtin():
    def softmax(z):
        return torch.softmax(z, dim=-1)

    why = failures(softmax)
    assert len(why) == 1 and "built-in softmax" in why[0]
    assert_fails_with(lambda z: nn.Softmax(dim=-1)(z), "softmax", "built-in softmax")
    assert_fails_with(lambda z: z.log_softmax(-1).exp(), "softmax", "built-in log_softmax")


def test_softmax_in_place():
    def softmax(z):
        z -= z.max(dim=-1, keepdim=True).values
        e = torch.exp(z)
        return e / e.sum(dim=-1, keepdim=True)

    assert_fails_with(softmax, None, "changed its input")


def test_cross_entropy_picks_a_matrix():
    def cross_entropy(logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return -log_probs[:, target].mean()

    assert_fails_with(cross_entropy, None, "N x N matrix")


def test_cross_entropy_sum_and_per_row():
    def cross_entropy(logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return -log_probs[torch.arange(len(target)), target].sum()

    assert_fails_with(cross_entropy, None, "summed over the batch")

    def per_row(logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return -log_probs[torch.arange(len(target)), target]

    assert_fails_with(per_row, "cross_entropy", "forget .mean()")


def test_cross_entropy_wrong_sign_and_float():
    def cross_entropy(logits, target):
        log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
        return log_probs[torch.arange(len(target)), target].mean()

    assert_fails_with(cross_entropy, None, "sign is wrong")
    assert_fails_with(lambda lg, t: ref_mc.cross_entropy(lg, t).item(), "cross_entropy", "no .item()")


def test_cross_entropy_builtin():
    assert_fails_with(lambda lg, t: nn.CrossEntropyLoss()(lg, t), "cross_entropy", "built-in cross_entropy")
    assert_fails_with(lambda lg, t: nn.functional.nll_loss(torch.log_softmax(lg, 1), t), "cross_entropy",
                      "log_softmax, nll_loss")


def test_cross_entropy_without_log():
    def cross_entropy(logits, target):
        p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
        return -p[torch.arange(len(target)), target].mean()

    assert_fails_with(cross_entropy, None, "take the log")


def test_cross_entropy_log_of_softmax_is_fine_at_50():
    def cross_entropy(logits, target):  # not stable in general, but within the contract's |logit| <= 50
        p = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
        return -torch.log(p[torch.arange(len(target)), target]).mean()

    assert not failures(cross_entropy)


def test_binary_entropy_in_nats():
    def binary_entropy(p):
        return -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))

    assert_fails_with(binary_entropy, None, "that is nats")


def test_binary_entropy_nan_at_0():
    def binary_entropy(p):
        return -(p * torch.log2(p) + (1 - p) * torch.log2(1 - p))

    why = failures(binary_entropy)
    assert len(why) == 1 and "torch.special.xlogy" in why[0]


def test_binary_entropy_one_term():
    def binary_entropy(p):
        return -torch.special.xlogy(p, p) / math.log(2)

    assert_fails_with(binary_entropy, None, "(1 - p) log2 (1 - p) term")


def test_binary_entropy_summed():
    def binary_entropy(p):
        return -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p)).sum() / math.log(2)

    assert_fails_with(binary_entropy, None, "one entropy per element")


# ---------------------------------------------------------------------------------- 06_initialization


def test_numpy_new_parameter():
    def set_weight_from_numpy(layer, array):
        layer.weight = nn.Parameter(torch.from_numpy(array).float())
        return layer

    why = failures(set_weight_from_numpy)
    assert len(why) == 1 and "new object" in why[0]


def test_numpy_float64_data():
    def set_weight_from_numpy(layer, array):
        layer.weight.data = torch.from_numpy(array)
        return layer

    why = failures(set_weight_from_numpy)
    assert len(why) == 1 and "torch.from_numpy keeps NumPy's float64" in why[0]


def test_numpy_without_no_grad():
    def set_weight_from_numpy(layer, array):
        layer.weight.copy_(torch.from_numpy(array))
        return layer

    assert_fails_with(set_weight_from_numpy, None, "torch.no_grad()")


def test_numpy_transposed():
    def set_weight_from_numpy(layer, array):
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(array.T.copy()).reshape(layer.weight.shape))
        return layer

    assert_fails_with(set_weight_from_numpy, None, "should hold the array's values")


def normal_with(loop="modules", std_of=lambda s: s, bias_check=True, only_linear=True):
    def init_linear_normal(net, std):
        for module in getattr(net, loop)():
            if isinstance(module, nn.Linear) or (not only_linear and hasattr(module, "weight")):
                nn.init.normal_(module.weight, 0.0, std_of(std))
                if not bias_check or module.bias is not None:
                    nn.init.zeros_(module.bias)
        return net

    return init_linear_normal


def test_normal_children_only():
    assert_fails_with(normal_with(loop="children"), "init_linear_normal", "net.children() only yields")


def test_normal_variance_for_std():
    assert_fails_with(normal_with(std_of=lambda s: s * s), "init_linear_normal", "you passed the variance")


def test_normal_bias_none():
    why = failures(normal_with(bias_check=False), "init_linear_normal")
    assert len(why) == 1 and "if module.bias is not None" in why[0]


def test_normal_every_module():
    assert_fails_with(normal_with(only_linear=False), "init_linear_normal", "LayerNorm and a Conv1d")


def test_normal_new_parameters():
    def init_linear_normal(net, std):
        for module in net.modules():
            if isinstance(module, nn.Linear):
                module.weight = nn.Parameter(torch.randn_like(module.weight) * std)
                if module.bias is not None:
                    module.bias = nn.Parameter(torch.zeros_like(module.bias))
        return net

    assert_fails_with(init_linear_normal, None, "new Parameter objects")


def xavier_with(fill, zero_bias=True, loop="modules"):
    def init_xavier(net):
        for module in getattr(net, loop)():
            if isinstance(module, nn.Linear):
                fill(module.weight)
                if zero_bias and module.bias is not None:
                    nn.init.zeros_(module.bias)
        return net

    return init_xavier


def test_xavier_normal():
    assert_fails_with(xavier_with(nn.init.xavier_normal_), "init_xavier", "not a normal distribution")


def test_xavier_with_relu_gain():
    assert_fails_with(xavier_with(lambda w: nn.init.xavier_uniform_(w, gain=nn.init.calculate_gain("relu"))),
                      "init_xavier", "gain 1")


def test_xavier_wrong_bound():
    def fill(w):
        fan_out, fan_in = w.shape
        a = math.sqrt(2.0 / (fan_in + fan_out))  # the std of Xavier normal, used as the bound
        nn.init.uniform_(w, -a, a)

    assert_fails_with(xavier_with(fill), "init_xavier", "should fill")


def test_xavier_normal_with_small_std():
    def fill(w):
        fan_out, fan_in = w.shape
        nn.init.normal_(w, 0.0, math.sqrt(6.0 / (fan_in + fan_out)) / 4)

    assert_fails_with(xavier_with(fill), "init_xavier", "xavier_uniform_, not xavier_normal_")


def test_xavier_biases_left():
    why = failures(xavier_with(nn.init.xavier_uniform_, zero_bias=False), "init_xavier")
    assert len(why) == 1 and "is not 0" in why[0]


def test_xavier_children_only():
    assert_fails_with(xavier_with(nn.init.xavier_uniform_, loop="children"), "init_xavier", "net.modules()")


def test_deprecated_xavier_still_passes():
    assert not failures(xavier_with(nn.init.xavier_uniform), "init_xavier")


def test_a_check_file_read_twice_does_not_double_its_checks():
    """A self-check module imported a second time (by another path, as a test or a tool may) replaces its checks:
    a failing check is said once, not twice."""
    from conftest import COURSE

    sc.run_checks(lambda z: z, "softmax")  # the course's checks read, as a student's first check reads them
    before = len(sc._CHECKS["softmax"])
    a = COURSE.find("05_multiclass")
    sc.load_module(COURSE.release(a) / f"{a.stem}_selfcheck.py")
    assert len(sc._CHECKS["softmax"]) == before
    assert len(failures(lambda z: torch.softmax(z, dim=-1), "softmax")) == 1
