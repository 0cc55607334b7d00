"""External catalog for 02_linear_regression: answers adapted from public code (see README.md)."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ---------------------------------------------------------------------------------------- linear_model
    Variant("linear_model", "mrdbourke/pytorch-deep-learning 01_pytorch_workflow.ipynb (LinearRegressionModel.forward): "
            "self.weights * x + self.bias", """
def linear_model(x, w, b):
    return w * x + b  # <- this is the linear regression formula (y = m*x + b)
"""),
    Variant("linear_model", "deep-learning-with-pytorch/dlwpt-code p1ch5/1_parameter_estimation.ipynb: "
            "def model(t_u, w, b): return w * t_u + b", """
def linear_model(x, w, b):
    t_u = x
    return w * t_u + b
"""),
    # -------------------------------------------------------------------------------------------- mse_loss
    Variant("mse_loss", "rasbt/stat453-deep-learning-ss21 L05/code/linear-regr-gd.ipynb: torch.mean((yhat - y)**2)", """
def mse_loss(y_pred, y):
    yhat = y_pred
    return torch.mean((yhat - y)**2)
"""),
    Variant("mse_loss", "deep-learning-with-pytorch/dlwpt-code p1ch5/1_parameter_estimation.ipynb: "
            "squared_diffs.mean()", """
def mse_loss(y_pred, y):
    squared_diffs = (y_pred - y)**2
    return squared_diffs.mean()
"""),
    # ------------------------------------------------------------------------------------------- mse_grads
    Variant("mse_grads", "deep-learning-with-pytorch/dlwpt-code p1ch5/1_parameter_estimation.ipynb: "
            "dloss_fn 2 * (t_p - t_c) / t_p.size(0), chain rule, torch.stack (split into (1,) tensors)", """
def mse_grads(x, y, w, b):
    t_p = linear_model(x, w, b)
    dloss_dtp = 2 * (t_p - y) / t_p.size(0)
    dloss_dw = dloss_dtp * x
    dloss_db = dloss_dtp * 1.0
    grad = torch.stack([dloss_dw.sum(), dloss_db.sum()])
    return grad[0:1], grad[1:2]
"""),
    Variant("mse_grads", "rasbt/stat453-deep-learning-ss21 L05/code/linear-regr-gd.ipynb (LinearRegression1.backward): "
            "2*(yhat - y), mm(x.t(), ...) / y.size(0); sign flipped, reshaped to (1,)", """
def mse_grads(x, y, w, b):
    yhat = linear_model(x, w, b)
    grad_loss_yhat = 2*(yhat - y)
    grad_yhat_weights = x
    grad_yhat_bias = 1.
    # Chain rule: inner times outer
    grad_loss_weights = torch.mm(grad_yhat_weights.t(),
                                 grad_loss_yhat.view(-1, 1)) / y.size(0)
    grad_loss_bias = torch.sum(grad_yhat_bias*grad_loss_yhat) / y.size(0)
    return grad_loss_weights.view(1), grad_loss_bias.view(1)
"""),
    # ---------------------------------------------------------------------------------------- train_linear
    Variant("train_linear", "pytorch/tutorials beginner_source/nn_tutorial.py: loss.backward(); with torch.no_grad(): "
            "weights -= weights.grad * lr; weights.grad.zero_()", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for epoch in range(epochs):
        pred = linear_model(x, w, b)
        loss = mse_loss(pred, y)
        losses.append(loss.item())

        loss.backward()
        with torch.no_grad():
            w -= w.grad * lr
            b -= b.grad * lr
            w.grad.zero_()
            b.grad.zero_()
    return losses
"""),
    Variant("train_linear", "ShusenTang/Dive-into-DL-PyTorch docs/chapter03_DL-basics/3.2_linear-regression-scratch.md: "
            "param.data -= lr * param.grad; w.grad.data.zero_()", """
def sgd(params, lr):
    for param in params:
        param.data -= lr * param.grad  # 注意这里更改param时用的param.data

def train_linear(x, y, w, b, lr, epochs):
    losses = []
    net = linear_model
    loss = mse_loss
    for epoch in range(epochs):
        l = loss(net(x, w, b), y).sum()
        losses.append(l.item())
        l.backward()
        sgd([w, b], lr)
        # 不要忘了梯度清零
        w.grad.data.zero_()
        b.grad.data.zero_()
    return losses
"""),
    Variant("train_linear", "deep-learning-with-pytorch/dlwpt-code p1ch5/2_autograd.ipynb (training_loop): "
            "zero if grad is not None, backward, no_grad -=, float(loss)", """
def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for epoch in range(1, epochs + 1):
        for params in (w, b):
            if params.grad is not None:
                params.grad.zero_()

        t_p = linear_model(x, w, b)
        loss = mse_loss(t_p, y)
        loss.backward()

        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad

        losses.append(float(loss))
    return losses
"""),
]

MISTAKES = [
    # ---------------------------------------------------------------------------------------- linear_model
    Variant("linear_model", "d2l-ai/d2l-en chapter_linear-regression/linear-regression-scratch.md (forward): "
            "d2l.matmul(X, self.w) + self.b, with a (1,) w gives shape (N,)", """
def linear_model(x, w, b):
    return torch.matmul(x, w) + b
"""),
    Variant("linear_model", "rasbt/stat453-deep-learning-ss21 L05/code/linear-regr-gd.ipynb (LinearRegression1.forward): "
            "torch.add(torch.mm(x, weights), bias).view(-1)", """
def linear_model(x, w, b):
    netinputs = torch.add(torch.mm(x, w), b)
    activations = netinputs
    return activations.view(-1)
"""),
    # -------------------------------------------------------------------------------------------- mse_loss
    Variant("mse_loss", "d2l-ai/d2l-en chapter_linear-regression/linear-regression-scratch.md (loss): "
            "mean of (y_hat - y) ** 2 / 2", """
def mse_loss(y_pred, y):
    l = (y_pred - y) ** 2 / 2
    return l.mean()
"""),
    Variant("mse_loss", "ShusenTang/Dive-into-DL-PyTorch docs/chapter03_DL-basics/3.2_linear-regression-scratch.md "
            "(squared_loss): unreduced vector, divided by 2", """
def mse_loss(y_pred, y):
    # 注意这里返回的是向量, 另外, pytorch里的MSELoss并没有除以 2
    return (y_pred - y.view(y_pred.size())) ** 2 / 2
"""),
    Variant("mse_loss", "mrdbourke/pytorch-deep-learning 01_pytorch_workflow.ipynb: loss_fn = nn.L1Loss() (MAE)", """
def mse_loss(y_pred, y):
    loss_fn = nn.L1Loss()
    return loss_fn(y_pred, y)
"""),
    # ------------------------------------------------------------------------------------------- mse_grads
    Variant("mse_grads", "jcjohnson/pytorch-examples tensor/two_layer_net_tensor.py: grad_y_pred = 2.0 * (y_pred - y) "
            "(gradient of the summed loss, no 1/n)", """
def mse_grads(x, y, w, b):
    y_pred = x * w + b
    grad_y_pred = 2.0 * (y_pred - y)
    grad_w = x.t().mm(grad_y_pred)
    grad_b = grad_y_pred.sum(0)
    return grad_w.view(1), grad_b
"""),
    Variant("mse_grads", "rasbt/stat453-deep-learning-ss21 L06/code/adaline-with-autograd.ipynb: "
            "torch.autograd.grad(loss, weight, retain_graph=True) (forbidden in this blank)", """
from torch.autograd import grad

def mse_grads(x, y, w, b):
    w = w.clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    loss = mse_loss(linear_model(x, w, b), y)
    grad_w = grad(loss, w, retain_graph=True)[0]
    grad_b = grad(loss, b)[0]
    return grad_w, grad_b
"""),
    # ---------------------------------------------------------------------------------------- train_linear
    Variant("train_linear", "mrdbourke/pytorch-deep-learning 01_pytorch_workflow.ipynb: optimizer loop that logs "
            "loss.detach().numpy() (NumPy arrays, not Python floats)", """
def train_linear(x, y, w, b, lr, epochs):
    optimizer = torch.optim.SGD(params=[w, b], lr=lr)
    train_loss_values = []
    for epoch in range(epochs):
        # 1. Forward pass on train data
        y_pred = linear_model(x, w, b)
        # 2. Calculate the loss
        loss = mse_loss(y_pred, y)
        # 3. Zero grad of the optimizer
        optimizer.zero_grad()
        # 4. Loss backwards
        loss.backward()
        # 5. Progress the optimizer
        optimizer.step()
        train_loss_values.append(loss.detach().numpy())
    return train_loss_values
"""),
    Variant("train_linear", "rasbt/stat453-deep-learning-ss21 L05/code/linear-regr-gd.ipynb (train): logs the loss "
            "recomputed after the update, as tensors", """
def train_linear(x, y, w, b, lr, epochs):
    cost = []
    for e in range(epochs):
        #### Compute outputs ####
        yhat = linear_model(x, w, b)
        #### Compute gradients ####
        loss = mse_loss(yhat, y)
        loss.backward()
        #### Update weights ####
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
        #### Logging ####
        yhat = linear_model(x, w, b)  # not that this is a bit wasteful here
        curr_loss = mse_loss(yhat, y)
        cost.append(curr_loss)
    return cost
"""),
]
