"""External catalog for 01_tensors_autograd: answers adapted from public code (see README.md).

Each entry's name cites its source (repository and path, or page). Code was adapted minimally to the
blank's signature; the author's operations and idioms are kept, even where they are wrong for the spec.
"""
from autograder.authoring.catalog import Variant

CORRECT = [
    # ---------------------------------------------------------------------------------------------- row_max
    Variant("row_max", "pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py: torch.max(outputs, 1)", """
def row_max(x):
    return torch.max(x, 1)
"""),
    Variant("row_max", "yunjey/pytorch-tutorial tutorials/01-basics/feedforward_neural_network/main.py: "
            "torch.max(outputs.data, 1)", """
def row_max(x):
    return torch.max(x.data, 1)
"""),
    Variant("row_max", "jih3508/study_ml PyTorch/MAX_Argmax.py: t.max(dim=1)", """
def row_max(x):
    return x.max(dim=1)
"""),
    # ------------------------------------------------------------------------------------- swap_and_flatten
    Variant("swap_and_flatten", "harvardnlp/annotated-transformer the_annotated_transformer.py (MultiHeadedAttention): "
            "transpose(...).contiguous().view(...)", """
def swap_and_flatten(x):
    return x.transpose(0, 1).contiguous().view(x.size(1), -1)
"""),
    Variant("swap_and_flatten", "d2l-ai/d2l-en chapter_attention-mechanisms-and-transformers/multihead-attention.md "
            "(transpose_output): permute then reshape(X.shape[0], ..., -1)", """
def swap_and_flatten(x):
    X = x.permute(1, 0, 2)
    return X.reshape(X.shape[0], -1)
"""),
    # ------------------------------------------------------------------------------------- drop_channel_dim
    Variant("drop_channel_dim", "pytorch/tutorials beginner_source/blitz/cifar10_tutorial.py: torch.flatten(x, 1)", """
def drop_channel_dim(x):
    return torch.flatten(x, 1)
"""),
    Variant("drop_channel_dim", "yunjey/pytorch-tutorial tutorials/02-intermediate/convolutional_neural_network/main.py: "
            "out.reshape(out.size(0), -1)", """
def drop_channel_dim(x):
    out = x.reshape(x.size(0), -1)
    return out
"""),
    Variant("drop_channel_dim", "kuangliu/pytorch-cifar models/preact_resnet.py: out.view(out.size(0), -1)", """
def drop_channel_dim(x):
    out = x.view(x.size(0), -1)
    return out
"""),
    # -------------------------------------------------------------------------------------- double_backward
    Variant("double_backward", "pytorch/tutorials beginner_source/basics/autogradqs_tutorial.py: "
            "backward(torch.ones_like(out), retain_graph=True) called twice, grads accumulate", """
def double_backward(x):
    inp = x.clone().requires_grad_(True)
    out = (inp**2 + 3*inp).sum()
    out.backward(torch.ones_like(out), retain_graph=True)
    out.backward(torch.ones_like(out), retain_graph=True)
    return inp.grad
"""),
    Variant("double_backward", "pythonkb.com/python-pytorch-runtimeerror-trying-to-backward-through-the-graph-a-second-"
            "time-but-the-buffers-have-already-been-freed (the fix): y.backward(retain_graph=True); y.backward()", """
def double_backward(x):
    x = torch.tensor(x, requires_grad=True)
    y = torch.sum(x ** 2 + 3 * x)
    y.backward(retain_graph=True)
    # Perform the second backward pass
    y.backward()
    return x.grad
"""),
    # ----------------------------------------------------------------------------------------- add_inplace
    Variant("add_inplace", "d2l-ai/d2l-en chapter_preliminaries/ndarray.md: X += Y keeps id(X)", """
def add_inplace(x, y):
    x += y
    return x
"""),
    Variant("add_inplace", "d2l-ai/d2l-en chapter_preliminaries/ndarray.md: slice assignment X[:] = X + Y", """
def add_inplace(x, y):
    x[:] = x + y
    return x
"""),
    Variant("add_inplace", "pytorch/tutorials beginner_source/basics/tensorqs_tutorial.py (in-place operations): "
            "tensor.add_(5)", """
def add_inplace(x, y):
    x.add_(y)
    return x
"""),
]

MISTAKES = [
    # ---------------------------------------------------------------------------------------------- row_max
    Variant("row_max", "jih3508/study_ml PyTorch/MAX_Argmax.py: t.max(dim=0)[0], t.max(dim=0)[1] (column maxima)", """
def row_max(x):
    return x.max(dim=0)[0], x.max(dim=0)[1]
"""),
    Variant("row_max", "mrdbourke/pytorch-deep-learning 00_pytorch_fundamentals.ipynb: tensor.max() and "
            "tensor.argmax() without dim (one value for the whole tensor)", """
def row_max(x):
    return x.max(), x.argmax()
"""),
    # ------------------------------------------------------------------------------------- swap_and_flatten
    Variant("swap_and_flatten", "marioraach.de/en/blog/pytorch-transpose-view (the failing code): "
            "transpose(0, 1) then view (non-contiguous)", """
def swap_and_flatten(x):
    x_rotated = x.transpose(0, 1)
    return x_rotated.view(x.shape[1], x.shape[0] * x.shape[2])
"""),
    Variant("swap_and_flatten", "liu-nlp.ai/tdde09/blog/posts/2024-01-19 (the failing code): permute(...).view(...)", """
def swap_and_flatten(x):
    return x.permute(1, 0, 2).view(x.shape[1], -1)
"""),
    # ------------------------------------------------------------------------------------- drop_channel_dim
    Variant("drop_channel_dim", "mrdbourke/pytorch-deep-learning 00_pytorch_fundamentals.ipynb: x_reshaped.squeeze() "
            "(drops every size-1 dim, breaks N = 1 or D = 1)", """
def drop_channel_dim(x):
    x_squeezed = x.squeeze()
    return x_squeezed
"""),
    Variant("drop_channel_dim", "pytorch/tutorials beginner_source/dcgan_faces_tutorial.py: netD(...).view(-1) "
            "(flattens to 1-D)", """
def drop_channel_dim(x):
    return x.view(-1)
"""),
    # -------------------------------------------------------------------------------------- double_backward
    Variant("double_backward", "pythonkb.com/python-pytorch-runtimeerror-trying-to-backward-through-the-graph-a-second-"
            "time-but-the-buffers-have-already-been-freed (the failing code): backward twice without retain_graph", """
def double_backward(x):
    x = torch.tensor(x, requires_grad=True)
    y = torch.sum(x ** 2 + 3 * x)
    # Perform the first backward pass
    y.backward()
    # Perform the second backward pass
    y.backward()
    return x.grad
"""),
    Variant("double_backward", "pytorch/tutorials beginner_source/basics/autogradqs_tutorial.py: "
            "inp.grad.zero_() before the second call ('Call after zeroing gradients')", """
def double_backward(x):
    inp = x.clone().requires_grad_(True)
    out = (inp**2 + 3*inp).sum()
    out.backward(torch.ones_like(out), retain_graph=True)
    inp.grad.zero_()
    out.backward(torch.ones_like(out), retain_graph=True)
    return inp.grad
"""),
    Variant("double_backward", "d2l-ai/d2l-en chapter_preliminaries/autograd.md: x.requires_grad_(True) on the "
            "tensor itself (modifies the caller's input)", """
def double_backward(x):
    x.requires_grad_(True)
    y = (x**2 + 3*x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad
"""),
    # ----------------------------------------------------------------------------------------- add_inplace
    Variant("add_inplace", "d2l-ai/d2l-en chapter_preliminaries/ndarray.md: Y = Y + X allocates a new tensor", """
def add_inplace(x, y):
    x = x + y
    return x
"""),
    Variant("add_inplace", "mrdbourke/pytorch-deep-learning 00_pytorch_fundamentals.ipynb: tensor + 10 "
            "(tensors don't change unless reassigned)", """
def add_inplace(x, y):
    return x + y
"""),
]
