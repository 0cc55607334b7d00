"""Reference solutions for 02_linear_regression."""
import torch


def linear_model(x, w, b):
    return x * w + b


def mse_loss(y_pred, y):
    return ((y_pred - y) ** 2).mean()


def mse_grads(x, y, w, b):
    residual = x * w + b - y
    n = x.shape[0]
    dw = (2.0 / n) * (x * residual).sum().reshape(1)
    db = (2.0 / n) * residual.sum().reshape(1)
    return dw, db


def train_linear(x, y, w, b, lr, epochs):
    losses = []
    for _ in range(epochs):
        loss = mse_loss(linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()
    return losses
