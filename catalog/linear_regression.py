"""Student answers for 02_linear_regression: correct ways of writing each blank, and real mistakes."""
from autograder.authoring.catalog import Variant

# The notebook's globals, for the mistakes that read them instead of their arguments (15 points, like the csv).
NOTEBOOK_DATA = """
x_train = torch.linspace(2.0, 11.0, 15).reshape(15, 1)
y_train = 0.25 * x_train + 0.8
"""

CORRECT = [
    # ----------------------------------------------------------------------------------- linear_model
    Variant("linear_model", "w * x + b", "def linear_model(x, w, b):\n    return w * x + b\n"),
    Variant("linear_model", "mul and add", "def linear_model(x, w, b):\n    return x.mul(w).add(b)\n"),
    Variant("linear_model", "addcmul", "def linear_model(x, w, b):\n    return torch.addcmul(b, x, w)\n"),
    Variant("linear_model", "matmul with a (1, 1) weight",
            "def linear_model(x, w, b):\n    return x @ w.reshape(1, 1) + b\n"),
    Variant("linear_model", "nn.functional.linear",
            "def linear_model(x, w, b):\n    return torch.nn.functional.linear(x, w.view(1, 1), b)\n"),
    # --------------------------------------------------------------------------------------- mse_loss
    Variant("mse_loss", "torch.mean", "def mse_loss(y_pred, y):\n    return torch.mean((y - y_pred) ** 2)\n"),
    Variant("mse_loss", "sum / n", "def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).sum() / len(y)\n"),
    Variant("mse_loss", "sum / numel", """
def mse_loss(y_pred, y):
    diff = y_pred - y
    return (diff * diff).sum() / diff.numel()
"""),
    Variant("mse_loss", "nn.MSELoss", "def mse_loss(y_pred, y):\n    return torch.nn.MSELoss()(y_pred, y)\n"),
    Variant("mse_loss", "functional", "def mse_loss(y_pred, y):\n    return torch.nn.functional.mse_loss(y_pred, y)\n"),
    Variant("mse_loss", "pow and mean", "def mse_loss(y_pred, y):\n    return (y_pred - y).pow(2).mean()\n"),
    # -------------------------------------------------------------------------------------- mse_grads
    Variant("mse_grads", "mean instead of 2/n sum", """
def mse_grads(x, y, w, b):
    r = linear_model(x, w, b) - y
    return 2 * (x * r).mean().reshape(1), 2 * r.mean().reshape(1)
"""),
    Variant("mse_grads", "matrix products", """
def mse_grads(x, y, w, b):
    n = len(x)
    r = x * w + b - y
    dw = 2 / n * (x.T @ r).reshape(-1)
    db = 2 / n * (torch.ones(1, n) @ r).reshape(-1)
    return dw, db
"""),
    Variant("mse_grads", "loop over examples", """
def mse_grads(x, y, w, b):
    n = x.shape[0]
    dw = torch.zeros(1)
    db = torch.zeros(1)
    for i in range(n):
        r = w * x[i] + b - y[i]
        dw += 2 * x[i] * r / n
        db += 2 * r / n
    return dw, db
"""),
    Variant("mse_grads", "sum with keepdim and view", """
def mse_grads(x, y, w, b):
    residual = (x * w + b) - y
    dw = 2.0 * torch.sum(x * residual, dim=0) / x.shape[0]
    db = 2.0 * torch.sum(residual, dim=0) / x.shape[0]
    return dw.view(1), db.view(1)
"""),
    Variant("mse_grads", "returns a list", """
def mse_grads(x, y, w, b):
    r = x * w + b - y
    return [torch.stack([2 * (x * r).mean()]), torch.stack([2 * r.mean()])]
"""),
    # ----------------------------------------------------------------------------------- train_linear
    Variant("train_linear", "w.data, zeroing guarded before backward (course notes)", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for epoch in range(epochs):
        if w.grad is not None:
            w.grad.zero_()
            b.grad.zero_()
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        w.data -= lr * w.grad.data
        b.data -= lr * b.grad.data
    return losses
"""),
    Variant("train_linear", "torch.optim.SGD", """
def train_linear(x, y, w, b, lr, epochs):
    optimizer = torch.optim.SGD([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = mse_loss(linear_model(x, w, b), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses
"""),
    Variant("train_linear", "grad set to None, sub_", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        loss.backward()
        with torch.no_grad():
            w.sub_(lr * w.grad)
            b.sub_(lr * b.grad)
        w.grad = None
        b.grad = None
        losses.append(loss.item())
    return losses
"""),
    Variant("train_linear", "autograd.grad, update in a loop over parameters", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        grads = torch.autograd.grad(loss, [w, b])
        with torch.no_grad():
            for p, g in zip((w, b), grads):
                p -= lr * g
    return losses
"""),
    Variant("train_linear", "add_ with alpha, zeroed inside no_grad", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w.add_(w.grad, alpha=-lr)
            b.add_(b.grad, alpha=-lr)
            w.grad.zero_()
            b.grad.zero_()
    return losses
"""),
]

MISTAKES = [
    # ----------------------------------------------------------------------------------- linear_model
    Variant("linear_model", "missing bias", "def linear_model(x, w, b):\n    return x * w\n", hint="bias b is missing"),
    Variant("linear_model", "x @ w", "def linear_model(x, w, b):\n    return x @ w + b\n", hint="x @ w"),
    Variant("linear_model", "b subtracted", "def linear_model(x, w, b):\n    return x * w - b\n",
            hint="subtracted instead of added"),
    Variant("linear_model", "detached predictions",
            "def linear_model(x, w, b):\n    return (x * w + b).detach()\n", hint="cut from the graph"),
    # --------------------------------------------------------------------------------------- mse_loss
    Variant("mse_loss", "sum instead of mean", "def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).sum()\n",
            hint="instead of averaging"),
    Variant("mse_loss", "reads y_train", NOTEBOOK_DATA + "def mse_loss(y_pred, y):\n"
            "    return ((y_pred - y_train) ** 2).mean()\n", hint="x_train / y_train"),
    Variant("mse_loss", "returns a float", "def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).mean().item()\n",
            hint="no .item()"),
    Variant("mse_loss", "rebuilt with torch.tensor",
            "def mse_loss(y_pred, y):\n    return torch.tensor(((y_pred - y) ** 2).mean().item())\n",
            hint="cut from the graph"),
    Variant("mse_loss", "mean over dim 0", "def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).mean(dim=0)\n",
            hint="without a dim"),
    Variant("mse_loss", "half of the mse", "def mse_loss(y_pred, y):\n    return ((y_pred - y) ** 2).mean() / 2\n",
            hint="0.5 times"),
    # -------------------------------------------------------------------------------------- mse_grads
    Variant("mse_grads", "factor 2 missing", """
def mse_grads(x, y, w, b):
    r = x * w + b - y
    return (x * r).mean().reshape(1), r.mean().reshape(1)
""", hint="factor 2"),
    Variant("mse_grads", "sign flipped", """
def mse_grads(x, y, w, b):
    r = y - (x * w + b)
    return 2 * (x * r).mean().reshape(1), 2 * r.mean().reshape(1)
""", hint="sign is flipped"),
    Variant("mse_grads", "sum instead of mean", """
def mse_grads(x, y, w, b):
    r = x * w + b - y
    return 2 * (x * r).sum().reshape(1), 2 * r.sum().reshape(1)
""", hint="instead of averaging"),
    Variant("mse_grads", "dw without x", """
def mse_grads(x, y, w, b):
    r = x * w + b - y
    return 2 * r.mean().reshape(1), 2 * r.mean().reshape(1)
""", hint="factor x_i is missing"),
    Variant("mse_grads", "reads the notebook's data", NOTEBOOK_DATA + """
def mse_grads(x, y, w, b):
    r = x_train * w + b - y_train
    return 2 * (x_train * r).mean().reshape(1), 2 * r.mean().reshape(1)
""", hint="x_train / y_train"),
    Variant("mse_grads", "autograd", """
def mse_grads(x, y, w, b):
    w = w.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    mse_loss(linear_model(x, w, b), y).backward()
    return w.grad, b.grad
""", hint="forbids backward"),
    Variant("mse_grads", "torch.func.grad", """
def mse_grads(x, y, w, b):
    return torch.func.grad(lambda w, b: ((x * w + b - y) ** 2).mean(), argnums=(0, 1))(w, b)
""", hint="uses autograd"),
    Variant("mse_grads", "0-dim gradients", """
def mse_grads(x, y, w, b):
    r = x * w + b - y
    return 2 * (x * r).mean(), 2 * r.mean()
""", hint="reshape(1)"),
    Variant("mse_grads", "in-place on the input", """
def mse_grads(x, y, w, b):
    r = x * w + b - y
    n = x.shape[0]
    x.mul_(r)
    return 2 / n * x.sum().reshape(1), 2 / n * r.sum().reshape(1)
""", hint="modified its input x"),
    # ----------------------------------------------------------------------------------- train_linear
    Variant("train_linear", "gradients never zeroed", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return losses
""", hint="never zeroed"),
    Variant("train_linear", "rebinding w = w - lr * w.grad", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        w = w - lr * w.grad
        b = b - lr * b.grad
    return losses
""", hint="w = w - lr * w.grad"),
    Variant("train_linear", "rebinding to new leaves", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        w = (w - lr * w.grad).detach().requires_grad_(True)
        b = (b - lr * b.grad).detach().requires_grad_(True)
    return losses
""", hint="did not change"),
    Variant("train_linear", "gradient ascent", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w += lr * w.grad
            b += lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="gradient ascent"),
    Variant("train_linear", "loss recorded after the update", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            losses.append(mse_loss(linear_model(x, w, b), y).item())
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="after that epoch's update"),
    Variant("train_linear", "learning rate hard-coded", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            b -= 0.01 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="learning rate of 0.01"),
    Variant("train_linear", "epochs hard-coded", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(100):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="hard-coded"),
    Variant("train_linear", "zeroing before backward, unguarded (course notes)", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        w.grad.zero_()
        b.grad.zero_()
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return losses
""", hint="None until the first backward"),
    Variant("train_linear", "zeroed between backward and update", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        w.grad.zero_()
        b.grad.zero_()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return losses
""", hint="never change"),
    Variant("train_linear", "update outside no_grad", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="torch.no_grad()"),
    Variant("train_linear", "losses kept as tensors", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.detach())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="loss.item()"),
    Variant("train_linear", "SGD with momentum", """
def train_linear(x, y, w, b, lr, epochs):
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=0.9)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
""", hint="momentum"),
    Variant("train_linear", "Adam", """
def train_linear(x, y, w, b, lr, epochs):
    optimizer = torch.optim.Adam([w, b], lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
""", hint="Adam"),
    Variant("train_linear", "trains on the notebook's data", NOTEBOOK_DATA + """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x_train, w, b), y_train)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
""", hint="x_train / y_train"),
]
