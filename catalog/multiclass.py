"""Ways students write the blanks of 05_multiclass: correct variants and real mistakes."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ----------------------------------------------------------------------------------------- softmax
    Variant("softmax", "amax and exp method", """\
def softmax(z):
    e = (z - z.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=-1, keepdim=True)
"""),
    Variant("softmax", "logsumexp", """\
def softmax(z):
    return torch.exp(z - torch.logsumexp(z, dim=-1, keepdim=True))
"""),
    Variant("softmax", "max(...)[0] and explicit last dim", """\
def softmax(z):
    d = z.dim() - 1
    m, _ = torch.max(z, dim=d, keepdim=True)
    e = torch.exp(z - m)
    return e / torch.sum(e, dim=d, keepdim=True)
"""),
    Variant("softmax", "reshape to rows and back", """\
def softmax(z):
    rows = z.reshape(-1, z.shape[-1])
    rows = rows - rows.max(dim=1, keepdim=True).values
    e = torch.exp(rows)
    return (e / e.sum(dim=1, keepdim=True)).reshape(z.shape)
"""),
    Variant("softmax", "unsqueeze instead of keepdim", """\
def softmax(z):
    shifted = z - z.max(dim=-1).values.unsqueeze(-1)
    e = torch.exp(shifted)
    return e / e.sum(dim=-1).unsqueeze(-1)
"""),
    Variant("softmax", "in place on a copy", """\
def softmax(z):
    out = z.clone()
    out -= out.max(dim=-1, keepdim=True).values
    out.exp_()
    out /= out.sum(dim=-1, keepdim=True)
    return out
"""),
    # ----------------------------------------------------------------------------------- cross_entropy
    Variant("cross_entropy", "gather", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs.gather(1, target.unsqueeze(1)).mean()
"""),
    Variant("cross_entropy", "logsumexp minus the target logit", """\
def cross_entropy(logits, target):
    n = logits.shape[0]
    return (torch.logsumexp(logits, dim=1) - logits[range(n), target]).mean()
"""),
    Variant("cross_entropy", "log of the notebook's softmax", """\
def cross_entropy(logits, target):
    probs = softmax(logits)
    return -torch.log(probs[torch.arange(len(target)), target]).mean()
"""),
    Variant("cross_entropy", "one-hot mask", """\
def cross_entropy(logits, target):
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    one_hot = torch.nn.functional.one_hot(target, num_classes=logits.shape[1]).float()
    return -(one_hot * log_probs).sum(dim=1).mean()
"""),
    Variant("cross_entropy", "loop over rows, sum / n", """\
def cross_entropy(logits, target):
    total = 0.0
    for i in range(logits.shape[0]):
        row = logits[i]
        total = total + torch.logsumexp(row, dim=0) - row[target[i]]
    return total / logits.shape[0]
"""),
    Variant("cross_entropy", "log of torch.softmax (allowed here)", """\
def cross_entropy(logits, target):
    probs = torch.softmax(logits, dim=1)
    return -torch.log(probs[torch.arange(logits.shape[0]), target]).mean()
"""),
    # ---------------------------------------------------------------------------------- binary_entropy
    Variant("binary_entropy", "torch.where with log2", """\
import math


def binary_entropy(p):
    safe = torch.where((p > 0) & (p < 1), p, torch.full_like(p, 0.5))
    h = -(safe * torch.log2(safe) + (1 - safe) * torch.log2(1 - safe))
    return torch.where((p > 0) & (p < 1), h, torch.zeros_like(p))
"""),
    Variant("binary_entropy", "xlogy divided by math.log(2)", """\
import math


def binary_entropy(p):
    q = 1 - p
    return -(torch.xlogy(p, p) + torch.xlogy(q, q)) / math.log(2)
"""),
    Variant("binary_entropy", "nan_to_num", """\
import math


def binary_entropy(p):
    h = -(p * torch.log2(p) + (1 - p) * torch.log2(1 - p))
    return torch.nan_to_num(h, nan=0.0)
"""),
    Variant("binary_entropy", "clamp away from 0 and 1", """\
import math


def binary_entropy(p):
    eps = 1e-12
    return -(p * torch.log2(p.clamp(min=eps)) + (1 - p) * torch.log2((1 - p).clamp(min=eps)))
"""),
    Variant("binary_entropy", "natural log over log 2", """\
import math


def binary_entropy(p):
    h = -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))
    return h / math.log(2.0)
"""),
]

MISTAKES = [
    # ----------------------------------------------------------------------------------------- softmax
    Variant("softmax", "overflows (no max subtracted)", """\
def softmax(z):
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)
""", hint="subtract each row's maximum"),
    Variant("softmax", "global maximum (underflows to 0/0)", """\
def softmax(z):
    e = torch.exp(z - z.max())
    return e / e.sum(dim=-1, keepdim=True)
""", hint="subtract each row's maximum"),
    Variant("softmax", "over dim 0", """\
def softmax(z):
    e = torch.exp(z - z.max(dim=0, keepdim=True).values)
    return e / e.sum(dim=0, keepdim=True)
""", hint="normalised over dim 0"),
    Variant("softmax", "fixed dim 1", """\
def softmax(z):
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)
""", hint="dim"),
    Variant("softmax", "normalised over everything", """\
def softmax(z):
    e = torch.exp(z - z.max())
    return e / e.sum()
""", hint="over all elements at once"),
    Variant("softmax", "sum without keepdim", """\
def softmax(z):
    e = torch.exp(z - z.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1)
""", hint="keepdim"),
    Variant("softmax", "built-in torch.softmax", """\
def softmax(z):
    return torch.softmax(z, dim=-1)
""", hint="torch.softmax, which is forbidden"),
    Variant("softmax", "built-in nn.Softmax", """\
def softmax(z):
    return torch.nn.Softmax(dim=-1)(z)
""", hint="forbidden"),
    Variant("softmax", "exp of log_softmax", """\
def softmax(z):
    return z.log_softmax(dim=-1).exp()
""", hint="Tensor.log_softmax"),
    Variant("softmax", "modifies its input", """\
def softmax(z):
    z -= z.max(dim=-1, keepdim=True).values
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)
""", hint="modified its input"),
    Variant("softmax", "view to rows (fails on non-contiguous input)", """\
def softmax(z):
    rows = z.view(-1, z.shape[-1])
    e = torch.exp(rows - rows.max(dim=1, keepdim=True).values)
    return (e / e.sum(dim=1, keepdim=True)).view(z.shape)
""", hint="reshape"),
    # ----------------------------------------------------------------------------------- cross_entropy
    Variant("cross_entropy", "logits[:, target]", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs[:, target].mean()
""", hint="N x N matrix"),
    Variant("cross_entropy", "sum instead of mean", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs[torch.arange(len(target)), target].sum()
""", hint="summed over the batch"),
    Variant("cross_entropy", "sign", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return log_probs[torch.arange(len(target)), target].mean()
""", hint="sign is wrong"),
    Variant("cross_entropy", "no log", """\
def cross_entropy(logits, target):
    p = torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))
    return -p[torch.arange(len(target)), target].mean()
""", hint="take the log"),
    Variant("cross_entropy", "raw logits, no log-softmax", """\
def cross_entropy(logits, target):
    return -logits[torch.arange(len(target)), target].mean()
""", hint="log-softmax is missing"),
    Variant("cross_entropy", "per-row losses, no mean", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs[torch.arange(len(target)), target]
""", hint="take the mean"),
    Variant("cross_entropy", "Python float", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs[torch.arange(len(target)), target].mean().item()
""", hint="no .item()"),
    Variant("cross_entropy", "built-in F.cross_entropy", """\
def cross_entropy(logits, target):
    return torch.nn.functional.cross_entropy(logits, target)
""", hint="torch.nn.functional.cross_entropy, which is forbidden"),
    Variant("cross_entropy", "nn.CrossEntropyLoss", """\
def cross_entropy(logits, target):
    return torch.nn.CrossEntropyLoss()(logits, target)
""", hint="forbidden"),
    Variant("cross_entropy", "log_softmax and nll_loss", """\
def cross_entropy(logits, target):
    return torch.nn.functional.nll_loss(torch.log_softmax(logits, dim=1), target)
""", hint="nll_loss"),
    Variant("cross_entropy", "log_softmax method, picked by hand", """\
def cross_entropy(logits, target):
    return -logits.log_softmax(dim=1)[torch.arange(len(target)), target].mean()
""", hint="Tensor.log_softmax"),
    Variant("cross_entropy", "softmax over dim 0", """\
def cross_entropy(logits, target):
    log_probs = logits - torch.logsumexp(logits, dim=0, keepdim=True)
    return -log_probs[torch.arange(len(target)), target].mean()
""", hint="over the classes (dim=1)"),
    # ---------------------------------------------------------------------------------- binary_entropy
    Variant("binary_entropy", "nats", """\
import math


def binary_entropy(p):
    return -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p))
""", hint="nats"),
    Variant("binary_entropy", "NaN at 0 and 1", """\
import math


def binary_entropy(p):
    return -(p * torch.log2(p) + (1 - p) * torch.log2(1 - p))
""", hint="0 * log(0) is NaN"),
    Variant("binary_entropy", "one term only", """\
import math


def binary_entropy(p):
    return -torch.special.xlogy(p, p) / math.log(2)
""", hint="(1 - p) log2 (1 - p) term is missing"),
    Variant("binary_entropy", "summed", """\
import math


def binary_entropy(p):
    return -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p)).sum() / math.log(2)
""", hint="one entropy per element"),
    Variant("binary_entropy", "minus sign missing", """\
import math


def binary_entropy(p):
    return (torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p)) / math.log(2)
""", hint="minus sign is missing"),
    Variant("binary_entropy", "clamps p in place", """\
import math


def binary_entropy(p):
    p.clamp_(1e-7, 1 - 1e-7)
    return -(p * torch.log2(p) + (1 - p) * torch.log2(1 - p))
""", hint="modified its input"),
]
