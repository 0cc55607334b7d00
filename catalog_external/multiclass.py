"""External catalog for 05_multiclass: answers adapted from public code (see README.md)."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # --------------------------------------------------------------------------------------------- softmax
    Variant("softmax", "SaudxInu/language-modeling-from-scratch assignment1-basics/cs336_basics/nn/modules/softmax.py: "
            "x - torch.max(x, dim=dim, keepdim=True)[0], dim=-1", """
def softmax(z, dim: int = -1):
    x = z - torch.max(z, dim=dim, keepdim=True)[0]
    x = torch.exp(x)
    x = x / torch.sum(x, dim=dim, keepdim=True)
    return x
"""),
    Variant("softmax", "lllldj/cs336 cs336_basics/myFunctional.py (toy_softmax): x - x.max(-1, keepdim=True).values", """
def softmax(z):
    sx = z - z.max(-1, keepdim=True).values
    ex = sx.exp()
    return ex/ex.sum(-1, keepdim=True)
"""),
    # --------------------------------------------------------------------------------------- cross_entropy
    Variant("cross_entropy", "pytorch/tutorials beginner_source/nn_tutorial.py: hand-written log_softmax "
            "(x - x.exp().sum(-1).log().unsqueeze(-1)) and nll (-input[range(n), target].mean())", """
def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)

def nll(input, target):
    return -input[range(target.shape[0]), target].mean()

def cross_entropy(logits, target):
    return nll(log_softmax(logits), target)
"""),
    # -------------------------------------------------------------------------------------- binary_entropy
    Variant("binary_entropy", "shtse8/KyleML labs/entropy.py: torch.distributions.Categorical(probs=...).entropy() "
            "(over [p, 1 - p], converted to bits)", """
import math
from torch.distributions import Categorical

def binary_entropy(p):
    p_tensor = torch.stack([p, 1 - p], dim=-1)
    entropy2 = Categorical(probs=p_tensor).entropy()
    return entropy2 / math.log(2)
"""),
    Variant("binary_entropy", "shtse8/KyleML labs/entropy.py: log of p clipped to [eps, 1 - eps] with "
            "eps = torch.finfo(torch.float).eps, in bits", """
def binary_entropy(p):
    eps = torch.finfo(torch.float).eps
    # (0, 1) for log
    logp = torch.log2(torch.clamp(p, eps, 1 - eps))
    logq = torch.log2(torch.clamp(1 - p, eps, 1 - eps))
    return -p * logp - (1 - p) * logq
"""),
]

MISTAKES = [
    # --------------------------------------------------------------------------------------------- softmax
    Variant("softmax", "d2l-ai/d2l-en chapter_linear-classification/softmax-regression-scratch.md: "
            "X_exp / X_exp.sum(1, keepdims=True) (no max subtraction, dim 1)", """
def softmax(z):
    X_exp = torch.exp(z)
    partition = X_exp.sum(1, keepdims=True)
    return X_exp / partition  # The broadcasting mechanism is applied here
"""),
    Variant("softmax", "rasbt/stat453-deep-learning-ss21 L08/code/softmax-regression_scratch.ipynb: "
            "(torch.exp(z.t()) / torch.sum(torch.exp(z), dim=1)).t()", """
def softmax(z):
    return (torch.exp(z.t()) / torch.sum(torch.exp(z), dim=1)).t()
"""),
    Variant("softmax", "RashikShahjahan/micrograd-extented micrograd/layers/softmax.py: "
            "x.exp() / x.exp().sum(-1).unsqueeze(-1) (no max subtraction)", """
def softmax(z):
    out = z.exp() / z.exp().sum(-1).unsqueeze(-1)
    return out
"""),
    Variant("softmax", "tgadeliya/matcha src/matcha/components/utils.py: torch.exp(x - x.max()) "
            "(one global max for every row)", """
def softmax(z, dim: int = -1):
    xs = torch.exp(z - z.max())
    return xs / xs.sum(dim=-1, keepdim=True)
"""),
    # --------------------------------------------------------------------------------------- cross_entropy
    Variant("cross_entropy", "ShusenTang/Dive-into-DL-PyTorch docs/chapter03_DL-basics/3.6_softmax-regression-scratch.md: "
            "-torch.log(y_hat.gather(1, y.view(-1, 1))) (per-example (N, 1), no mean)", """
def cross_entropy(logits, target):
    y_hat, y = softmax(logits), target
    return - torch.log(y_hat.gather(1, y.view(-1, 1)))
"""),
    Variant("cross_entropy", "rasbt/stat453-deep-learning-ss21 L08/code/cross-entropy-pytorch.ipynb: "
            "-torch.sum(torch.log(softmax) * y_onehot, dim=1) (per-example, no mean)", """
def cross_entropy(logits, target):
    y_target = torch.nn.functional.one_hot(target, logits.shape[1])
    return - torch.sum(torch.log(softmax(logits)) * (y_target), dim=1)
"""),
    Variant("cross_entropy", "rasbt/stat453-deep-learning-ss21 L08/code/softmax-regression_scratch.ipynb: "
            "F.cross_entropy(logits, y_train.long()) (forbidden here)", """
import torch.nn.functional as F

def cross_entropy(logits, target):
    cost = F.cross_entropy(logits, target.long())
    return cost
"""),
    Variant("cross_entropy", "d2l-ai/d2l-en chapter_linear-classification/softmax-regression-scratch.md: "
            "-reduce_mean(log(y_hat[list(range(len(y_hat))), y])) on the notebook's softmax (log of an underflowing probability: about 3.5e-4 relative error at |logits| = 50)", """
def cross_entropy(logits, target):
    y_hat, y = softmax(logits), target
    return -torch.mean(torch.log(y_hat[list(range(len(y_hat))), y]))
"""),
    Variant("cross_entropy", "d2l-ai/d2l-en chapter_appendix-mathematics-for-deep-learning/information-theory.md: "
            "ce = -torch.log(y_hat[range(len(y_hat)), y]); ce.mean() (log of an underflowing probability)", """
def cross_entropy(logits, target):
    y_hat, y = softmax(logits), target
    ce = -torch.log(y_hat[range(len(y_hat)), y])
    return ce.mean()
"""),
    Variant("cross_entropy", "austrian-code-wizard/spring2024-assignment1-basics cs336_basics/loss.py: "
            "logits -= logits.max(-1, keepdim=True)[0] (shifts the caller's logits in place)", """
def cross_entropy(logits, target):
    targets = target
    logits -= logits.max(-1, keepdim=True)[0]
    loss = -logits[torch.arange(logits.shape[0]), targets].squeeze() + torch.log(
        torch.exp(logits).sum(-1)
    )
    return loss.mean()
"""),
    Variant("cross_entropy", "dmosc/gpt-2 utils/cross_entropy.py: in-place max shift, -(sum_exp / target_exp).log()", """
def cross_entropy(logits, target):
    targets = target
    logits -= logits.max(dim=-1, keepdim=True).values
    exp_logits = logits.exp()
    sum_exp = exp_logits.sum(dim=-1)
    target_exp = exp_logits.gather(dim=-1,
                                    index=targets.unsqueeze(-1)).squeeze(-1)
    loss = -(sum_exp / target_exp).log()
    return loss.mean()
"""),
    Variant("cross_entropy", "yjl-001/AiFramework mytorch/nn/loss.py (cross_entropy_loss): logits.log_softmax(dim=1) "
            "(forbidden here)", """
def cross_entropy(logits, target):
    targets = target
    log_probs = logits.log_softmax(dim=1)
    batch_size = targets.shape[0]
    loss = -log_probs[np.arange(batch_size), targets].mean()
    return loss
"""),
    # -------------------------------------------------------------------------------------- binary_entropy
    Variant("binary_entropy", "watakandai/ml_practices rl_mlpbook/entropy.py: -p*np.log2(p) - (1-p)*np.log2(1-p) "
            "(NaN at 0 and 1)", """
def binary_entropy(p):
    return -p*np.log2(p) - (1-p)*np.log2(1-p)
"""),
    Variant("binary_entropy", "d2l-ai/d2l-en chapter_appendix-mathematics-for-deep-learning/information-theory.md: "
            "- p * torch.log2(p) then nansum (a single summed number)", """
def nansum(x):
    # Define nansum, as pytorch does not offer it inbuilt.
    return x[~torch.isnan(x)].sum()

def binary_entropy(p):
    entropy = - p * torch.log2(p) - (1 - p) * torch.log2(1 - p)
    # Operator `nansum` will sum up the non-nan number
    out = nansum(entropy)
    return out
"""),
    Variant("binary_entropy", "tomasantunes/deep-learning-course code/math/DUDL_math_entropy.py: "
            "-( p*np.log(p) + (1-p)*np.log(1-p) ) (nats, NaN at 0 and 1)", """
def binary_entropy(p):
    H = -( p*np.log(p) + (1-p)*np.log(1-p) )
    return H
"""),
    Variant("binary_entropy", "HEET150/kgts-task src/test.py: if p == 0 or p == 1: return 0 (scalars only)", """
def binary_entropy(p):
    if p == 0 or p == 1:
        return 0
    else:
        return -p * np.log2(p) - (1 - p) * np.log2(1 - p)
"""),
]
