"""Reference solutions for 01_tensors_autograd."""
import torch


def row_max(x):
    return torch.max(x, dim=1)


def swap_and_flatten(x):
    return x.permute(1, 0, 2).reshape(x.shape[1], -1)


def drop_channel_dim(x):
    return x.squeeze(1)


def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf**2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    y.backward()
    return leaf.grad


def add_inplace(x, y):
    x.add_(y)
    return x
