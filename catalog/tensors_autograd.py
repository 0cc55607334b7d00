"""Student answers for 01_tensors_autograd: correct ways of writing each blank, and real mistakes."""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ---------------------------------------------------------------------------------------- row_max
    Variant("row_max", "method max(dim=1)", "def row_max(x):\n    return x.max(dim=1)\n"),
    Variant("row_max", "torch.max positional dim", "def row_max(x):\n    return torch.max(x, 1)\n"),
    Variant("row_max", "last dim, plain tuple", "def row_max(x):\n    v, i = x.max(-1)\n    return (v, i)\n"),
    Variant("row_max", "amax and argmax", "def row_max(x):\n    return torch.amax(x, dim=1), torch.argmax(x, dim=1)\n"),
    Variant("row_max", "sort descending", """
def row_max(x):
    values, indices = torch.sort(x, dim=1, descending=True)
    return values[:, 0], indices[:, 0]
"""),
    Variant("row_max", "loop over rows", """
def row_max(x):
    values, indices = [], []
    for row in x:
        i = int(torch.argmax(row))
        values.append(row[i])
        indices.append(i)
    return torch.stack(values), torch.tensor(indices)
"""),
    Variant("row_max", "topk", """
def row_max(x):
    top = torch.topk(x, 1, dim=1)
    return top.values[:, 0], top.indices[:, 0]
"""),
    # ------------------------------------------------------------------------------- swap_and_flatten
    Variant("swap_and_flatten", "transpose then reshape",
            "def swap_and_flatten(x):\n    return x.transpose(0, 1).reshape(x.shape[1], -1)\n"),
    Variant("swap_and_flatten", "permute, contiguous, view", """
def swap_and_flatten(x):
    A, B, C = x.shape
    return x.permute(1, 0, 2).contiguous().view(B, A * C)
"""),
    Variant("swap_and_flatten", "flatten(1)", "def swap_and_flatten(x):\n    return x.transpose(0, 1).flatten(1)\n"),
    Variant("swap_and_flatten", "stack of rows", """
def swap_and_flatten(x):
    return torch.stack([x[:, j, :].reshape(-1) for j in range(x.shape[1])])
"""),
    Variant("swap_and_flatten", "cat of slices along dim 1", """
def swap_and_flatten(x):
    return torch.cat([x[a] for a in range(x.shape[0])], dim=1)
"""),
    # ------------------------------------------------------------------------------- drop_channel_dim
    Variant("drop_channel_dim", "squeeze(dim=1)", "def drop_channel_dim(x):\n    return x.squeeze(dim=1)\n"),
    Variant("drop_channel_dim", "indexing", "def drop_channel_dim(x):\n    return x[:, 0, :]\n"),
    Variant("drop_channel_dim", "indexing short", "def drop_channel_dim(x):\n    return x[:, 0]\n"),
    Variant("drop_channel_dim", "reshape with sizes",
            "def drop_channel_dim(x):\n    return x.reshape(x.shape[0], x.shape[2])\n"),
    Variant("drop_channel_dim", "view(N, -1)", "def drop_channel_dim(x):\n    return x.view(x.shape[0], -1)\n"),
    Variant("drop_channel_dim", "flatten(1)", "def drop_channel_dim(x):\n    return torch.flatten(x, 1)\n"),
    Variant("drop_channel_dim", "select", "def drop_channel_dim(x):\n    return x.select(1, 0)\n"),
    # -------------------------------------------------------------------------------- double_backward
    Variant("double_backward", "requires_grad attribute", """
def double_backward(x):
    leaf = x.detach().clone()
    leaf.requires_grad = True
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    y.backward()
    return leaf.grad
"""),
    Variant("double_backward", "torch.autograd.backward", """
def double_backward(x):
    leaf = x.clone().requires_grad_()
    y = torch.sum(leaf * leaf + 3 * leaf)
    torch.autograd.backward(y, retain_graph=True)
    torch.autograd.backward(y)
    return leaf.grad
"""),
    Variant("double_backward", "loop, torch.tensor copy", """
def double_backward(x):
    leaf = torch.tensor(x.tolist(), requires_grad=True)
    y = (leaf.pow(2) + 3 * leaf).sum()
    for i in range(2):
        y.backward(retain_graph=(i == 0))
    return leaf.grad
"""),
    Variant("double_backward", "retain both times, clone of grad", """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    return leaf.grad.clone()
"""),
    # ------------------------------------------------------------------------------------ add_inplace
    Variant("add_inplace", "+=", "def add_inplace(x, y):\n    x += y\n    return x\n"),
    Variant("add_inplace", "return add_", "def add_inplace(x, y):\n    return x.add_(y)\n"),
    Variant("add_inplace", "copy_", "def add_inplace(x, y):\n    x.copy_(x + y)\n    return x\n"),
    Variant("add_inplace", "slice assignment", "def add_inplace(x, y):\n    x[...] = x + y\n    return x\n"),
    Variant("add_inplace", "out=", "def add_inplace(x, y):\n    torch.add(x, y, out=x)\n    return x\n"),
]

MISTAKES = [
    # ---------------------------------------------------------------------------------------- row_max
    Variant("row_max", "max over dim 0", "def row_max(x):\n    return torch.max(x, dim=0)\n", hint="dim=0"),
    Variant("row_max", "max of everything", "def row_max(x):\n    return x.max()\n", hint="expected a tuple of 2"),
    Variant("row_max", "indices and values swapped",
            "def row_max(x):\n    v, i = x.max(dim=1)\n    return i, v\n", hint="the order is (values, indices)"),
    Variant("row_max", "float indices",
            "def row_max(x):\n    v, i = x.max(dim=1)\n    return v, i.float()\n", hint="torch.int64"),
    Variant("row_max", "keepdim=True", "def row_max(x):\n    return x.max(dim=1, keepdim=True)\n",
            hint="extra dimension of size 1"),
    Variant("row_max", "values only", "def row_max(x):\n    return x.max(dim=1).values\n",
            hint="expected a tuple of 2"),
    # ------------------------------------------------------------------------------- swap_and_flatten
    Variant("swap_and_flatten", "reshape without permute",
            "def swap_and_flatten(x):\n    return x.reshape(x.shape[1], -1)\n", hint="wrong order"),
    Variant("swap_and_flatten", "view after permute",
            "def swap_and_flatten(x):\n    return x.permute(1, 0, 2).view(x.shape[1], -1)\n",
            hint="use reshape, or .contiguous().view"),
    Variant("swap_and_flatten", "view of x", "def swap_and_flatten(x):\n    return x.view(x.shape[1], -1)\n",
            hint="use reshape"),
    Variant("swap_and_flatten", "wrong permutation",
            "def swap_and_flatten(x):\n    return x.permute(1, 2, 0).reshape(x.shape[1], -1)\n", hint="wrong order"),
    Variant("swap_and_flatten", "flattened completely",
            "def swap_and_flatten(x):\n    return x.permute(1, 0, 2).flatten()\n", hint="expected shape"),
    Variant("swap_and_flatten", "transpose_ in place", """
def swap_and_flatten(x):
    B = x.shape[1]
    return x.transpose_(0, 1).reshape(B, -1)
""", hint="modified its input x"),
    # ------------------------------------------------------------------------------- drop_channel_dim
    Variant("drop_channel_dim", "squeeze() with a batch of one", "def drop_channel_dim(x):\n    return x.squeeze()\n",
            hint="squeeze(1)"),
    Variant("drop_channel_dim", "squeeze(0)", "def drop_channel_dim(x):\n    return x.squeeze(0)\n",
            hint="expected shape"),
    Variant("drop_channel_dim", "squeeze_ in place", "def drop_channel_dim(x):\n    return x.squeeze_(1)\n",
            hint="in-place squeeze_"),
    Variant("drop_channel_dim", "first example only", "def drop_channel_dim(x):\n    return x[0]\n",
            hint="expected shape"),
    # -------------------------------------------------------------------------------- double_backward
    Variant("double_backward", "retain_graph forgotten", """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward()
    y.backward()
    return leaf.grad
""", hint="retain_graph=True"),
    Variant("double_backward", "one backward only", """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward()
    return leaf.grad
""", hint="ONE backward pass"),
    Variant("double_backward", "zeroed in between", """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    leaf.grad.zero_()
    y.backward()
    return leaf.grad
""", hint="without zeroing"),
    Variant("double_backward", "x itself made to require grad", """
def double_backward(x):
    x.requires_grad_(True)
    y = (x ** 2 + 3 * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad
""", hint="leaf copy"),
    Variant("double_backward", "the formula instead of autograd",
            "def double_backward(x):\n    return 2 * (2 * x + 3)\n", hint="backward was never called"),
    Variant("double_backward", "no leaf that requires grad", """
def double_backward(x):
    leaf = x.detach().clone()
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    y.backward()
    return leaf.grad
""", hint="must require grad"),
    Variant("double_backward", "grad of a non-leaf", """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True) * 1.0
    y = (leaf ** 2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    y.backward()
    return leaf.grad
""", hint="returned None"),
    # ------------------------------------------------------------------------------------ add_inplace
    Variant("add_inplace", "new tensor returned", "def add_inplace(x, y):\n    return x + y\n",
            hint="x = x + y creates a new tensor"),
    Variant("add_inplace", "rebinding x", "def add_inplace(x, y):\n    x = x + y\n    return x\n",
            hint="x.add_(y)"),
    Variant("add_inplace", "in place, but a copy returned",
            "def add_inplace(x, y):\n    x.add_(y)\n    return x.clone()\n", hint="not x itself"),
    Variant("add_inplace", "y modified", "def add_inplace(x, y):\n    x.add_(y)\n    y.zero_()\n    return x\n",
            hint="modified its input y"),
]
