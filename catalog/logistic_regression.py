"""Student answers for 03_logistic_regression: correct ways of writing each blank, and real mistakes."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ---------------------------------------------------------------------------------------- sigmoid
    Variant("sigmoid", "naive 1 / (1 + exp(-z))", "def sigmoid(z):\n    return 1 / (1 + torch.exp(-z))\n"),
    Variant("sigmoid", "tanh", "def sigmoid(z):\n    return 0.5 * (1 + torch.tanh(z / 2))\n"),
    Variant("sigmoid", "torch.where on the sign", """
def sigmoid(z):
    ez = torch.exp(z.clamp(max=0))
    return torch.where(z >= 0, 1 / (1 + torch.exp(-z.clamp(min=0))), ez / (1 + ez))
"""),
    Variant("sigmoid", "masks", """
def sigmoid(z):
    out = torch.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + torch.exp(-z[pos]))
    e = torch.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out
"""),
    Variant("sigmoid", "clamped exponent", "def sigmoid(z):\n    return 1.0 / (1.0 + (-z.clamp(-60, 60)).exp())\n"),
    Variant("sigmoid", "1 - 1 / (1 + exp(z))", "def sigmoid(z):\n    return 1 - 1 / (1 + torch.exp(z))\n"),
    Variant("sigmoid", "exp of minus softplus",
            "def sigmoid(z):\n    return torch.exp(-torch.logaddexp(torch.zeros_like(z), -z))\n"),
    # --------------------------------------------------------------------------------------- bce_loss
    Variant("bce_loss", "method calls", "def bce_loss(p, y):\n    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()\n"),
    Variant("bce_loss", "torch.where", """
def bce_loss(p, y):
    return torch.where(y == 1, -torch.log(p), -torch.log(1 - p)).mean()
"""),
    Variant("bce_loss", "log1p and sum / numel", """
def bce_loss(p, y):
    total = y * torch.log(p) + (1 - y) * torch.log1p(-p)
    return -total.sum() / p.numel()
"""),
    Variant("bce_loss", "xlogy", """
def bce_loss(p, y):
    return -torch.mean(torch.xlogy(y, p) + torch.xlogy(1 - y, 1 - p))
"""),
    Variant("bce_loss", "likelihood of the label", "def bce_loss(p, y):\n    return -torch.log(p * y + (1 - p) * (1 - y)).mean()\n"),
    # ------------------------------------------------------------------------------- logistic_forward
    Variant("logistic_forward", "torch.matmul", "def logistic_forward(x, w, b):\n    return torch.matmul(x, w) + b\n"),
    Variant("logistic_forward", "mm", "def logistic_forward(x, w, b):\n    return x.mm(w) + b\n"),
    Variant("logistic_forward", "addmm", "def logistic_forward(x, w, b):\n    return torch.addmm(b, x, w)\n"),
    Variant("logistic_forward", "elementwise and sum", """
def logistic_forward(x, w, b):
    return (x * w.T).sum(dim=1, keepdim=True) + b
"""),
    Variant("logistic_forward", "functional linear",
            "def logistic_forward(x, w, b):\n    return nn.functional.linear(x, w.T, b)\n"),
    # --------------------------------------------------------------------------------- train_logistic
    Variant("train_logistic", "functional loss, zero_grad(set_to_none=False)", """
def train_logistic(x, y, w, b, lr, epochs):
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=0)
    losses = []
    for epoch in range(epochs):
        logits = logistic_forward(x, w, b)
        loss = nn.functional.binary_cross_entropy_with_logits(logits, y)
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        losses.append(loss.item())
        optimizer.step()
    return losses
"""),
    Variant("train_logistic", "BCELoss on sigmoid", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(torch.sigmoid(logistic_forward(x, w, b)), y)
        losses.append(float(loss))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
"""),
    Variant("train_logistic", "optimizer made in the loop", """
def train_logistic(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        optimizer = torch.optim.SGD([w, b], lr=lr)
        optimizer.zero_grad()
        loss = nn.BCEWithLogitsLoss()(logistic_forward(x, w, b), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
"""),
    Variant("train_logistic", "manual update", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        w.grad = None
        b.grad = None
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return losses
"""),
    Variant("train_logistic", "own sigmoid and bce_loss", """
def train_logistic(x, y, w, b, lr, epochs):
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = bce_loss(sigmoid(logistic_forward(x, w, b)), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
"""),
    # --------------------------------------------------------------------------------------- accuracy
    Variant("accuracy", "sigmoid > 0.5", """
def accuracy(logits, y):
    return ((torch.sigmoid(logits) > 0.5).float() == y).float().mean().item()
"""),
    Variant("accuracy", "count / N", """
def accuracy(logits, y):
    correct = ((logits > 0) == (y == 1)).sum().item()
    return correct / len(y)
"""),
    Variant("accuracy", "round of sigmoid", """
def accuracy(logits, y):
    return float((torch.round(torch.sigmoid(logits)) == y).double().mean())
"""),
    Variant("accuracy", "where and python loop", """
def accuracy(logits, y):
    predicted = torch.where(logits > 0, 1.0, 0.0)
    hits = 0
    for p, t in zip(predicted.reshape(-1).tolist(), y.reshape(-1).tolist()):
        hits += p == t
    return hits / len(predicted)
"""),
    Variant("accuracy", "gt and eq", "def accuracy(logits, y):\n    return logits.gt(0).float().eq(y).float().mean().item()\n"),
]

MISTAKES = [
    # ---------------------------------------------------------------------------------------- sigmoid
    Variant("sigmoid", "torch.sigmoid", "def sigmoid(z):\n    return torch.sigmoid(z)\n", hint="torch.sigmoid"),
    Variant("sigmoid", "nn.Sigmoid", "def sigmoid(z):\n    return nn.Sigmoid()(z)\n", hint="forbids"),
    Variant("sigmoid", "torch.special.expit", "def sigmoid(z):\n    return torch.special.expit(z)\n",
            hint="torch.special.expit"),
    Variant("sigmoid", "exp(z) / (1 + exp(z))", "def sigmoid(z):\n    return torch.exp(z) / (1 + torch.exp(z))\n",
            hint="overflows"),
    Variant("sigmoid", "sign of the exponent", "def sigmoid(z):\n    return 1 / (1 + torch.exp(z))\n",
            hint="sign is flipped"),
    Variant("sigmoid", "in place on z", "def sigmoid(z):\n    return z.neg_().exp_().add_(1).reciprocal_()\n",
            hint="modified its input z"),
    Variant("sigmoid", "clamped in place", """
def sigmoid(z):
    z.clamp_(-50, 50)
    return 1 / (1 + torch.exp(-z))
""", hint="modified its input z"),
    Variant("sigmoid", "exp of logsigmoid", "def sigmoid(z):\n    return torch.exp(nn.functional.logsigmoid(z))\n",
            hint="logsigmoid"),
    # --------------------------------------------------------------------------------------- bce_loss
    Variant("bce_loss", "nn.BCELoss", "def bce_loss(p, y):\n    return nn.BCELoss()(p, y)\n", hint="nn.BCELoss"),
    Variant("bce_loss", "functional", "def bce_loss(p, y):\n    return nn.functional.binary_cross_entropy(p, y)\n",
            hint="forbids"),
    Variant("bce_loss", "with logits of logit(p)",
            "def bce_loss(p, y):\n    return nn.BCEWithLogitsLoss()(torch.logit(p), y)\n", hint="BCEWithLogitsLoss"),
    Variant("bce_loss", "minus sign missing",
            "def bce_loss(p, y):\n    return (y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n",
            hint="sign is flipped"),
    Variant("bce_loss", "sum instead of mean",
            "def bce_loss(p, y):\n    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum()\n",
            hint="instead of averaging"),
    Variant("bce_loss", "log2", "def bce_loss(p, y):\n    return -(y * torch.log2(p) + (1 - y) * torch.log2(1 - p)).mean()\n",
            hint="natural logarithm"),
    Variant("bce_loss", "log of the product of likelihoods", """
def bce_loss(p, y):
    likelihood = torch.prod(p ** y * (1 - p) ** (1 - y))
    return -torch.log(likelihood) / len(p)
""", hint="log(0)"),
    Variant("bce_loss", "clamped in place", """
def bce_loss(p, y):
    p.clamp_(1e-5, 1 - 1e-5)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
""", hint="modified its input p"),
    Variant("bce_loss", "one term only", "def bce_loss(p, y):\n    return -(y * torch.log(p)).mean()\n",
            hint="not the correct result"),
    # ------------------------------------------------------------------------------- logistic_forward
    Variant("logistic_forward", "sigmoid applied",
            "def logistic_forward(x, w, b):\n    return torch.sigmoid(x @ w + b)\n", hint="without sigmoid"),
    Variant("logistic_forward", "missing bias", "def logistic_forward(x, w, b):\n    return x @ w\n",
            hint="bias b is missing"),
    Variant("logistic_forward", "sum without keepdim", "def logistic_forward(x, w, b):\n    return (x * w.T).sum(1) + b\n",
            hint="expected shape"),
    Variant("logistic_forward", "detached", "def logistic_forward(x, w, b):\n    return (x @ w + b).detach()\n",
            hint="cut from the graph"),
    # --------------------------------------------------------------------------------- train_logistic
    Variant("train_logistic", "double sigmoid", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(torch.sigmoid(logistic_forward(x, w, b)), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
""", hint="sigmoid twice"),
    Variant("train_logistic", "Adam", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
""", hint="Adam"),
    Variant("train_logistic", "momentum", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=0.9)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
""", hint="momentum"),
    Variant("train_logistic", "zero_grad between backward and step", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
    return losses
""", hint="between backward and step"),
    Variant("train_logistic", "never zeroed", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
""", hint="never zeroed"),
    Variant("train_logistic", "loss recorded after the step", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        criterion(logistic_forward(x, w, b), y).backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(criterion(logistic_forward(x, w, b), y).item())
    return losses
""", hint="after that epoch's step"),
    Variant("train_logistic", "learning rate hard-coded", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=0.1)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
""", hint="learning rate of 0.1"),
    Variant("train_logistic", "epochs hard-coded", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(1000):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
""", hint="hard-coded"),
    Variant("train_logistic", "BCELoss on the logits", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCELoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
""", hint="BCEWithLogitsLoss"),
    Variant("train_logistic", "gradient ascent", """
def train_logistic(x, y, w, b, lr, epochs):
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        loss = criterion(logistic_forward(x, w, b), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        (-loss).backward()
        optimizer.step()
    return losses
""", hint="gradient ascent"),
    # --------------------------------------------------------------------------------------- accuracy
    Variant("accuracy", "logits thresholded at 0.5",
            "def accuracy(logits, y):\n    return ((logits > 0.5).float() == y).float().mean().item()\n",
            hint="thresholded at 0.5"),
    Variant("accuracy", "returns a tensor", "def accuracy(logits, y):\n    return ((logits > 0).float() == y).float().mean()\n",
            hint=".item()"),
    Variant("accuracy", "percentage",
            "def accuracy(logits, y):\n    return 100 * ((logits > 0).float() == y).float().mean().item()\n",
            hint="percentage"),
    Variant("accuracy", "broadcast (N,) against (N, 1)",
            "def accuracy(logits, y):\n    return ((logits > 0).float().squeeze() == y).float().mean().item()\n",
            hint="(N, N) table"),
    Variant("accuracy", "sigmoid thresholded at 0", """
def accuracy(logits, y):
    return ((torch.sigmoid(logits) > 0).float() == y).float().mean().item()
""", hint="every row was predicted as class 1"),
    Variant("accuracy", "number of correct rows",
            "def accuracy(logits, y):\n    return float(((logits > 0).float() == y).sum())\n", hint="divide by N"),
]
