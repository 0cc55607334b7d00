"""Every boundary exercises.md states for the blanks of 01_tensors_autograd, 02_linear_regression and
03_logistic_regression, and the hidden test (a function in hidden/test_<assignment>.py) that judges it.

tests/test_boundaries.py checks that each named test exists. A size argument at 1, a threshold exactly at the
threshold, a stated range at both ends, a non-contiguous input where the spec names one, epochs = 1 for a training
loop; the typical inputs of each blank are in its value tests.
"""

BOUNDARIES = {
    # 01_tensors_autograd
    "row_max": [
        ("N = 1: one row", "test_row_max_one_row"),
        ("M = 1: one column (the index is 0)", "test_row_max_one_column"),
        ("a non-contiguous (transposed) x among the typical inputs", "test_row_max_values"),
    ],
    "swap_and_flatten": [
        ("x non-contiguous, made with transpose or with permute", "test_swap_and_flatten_edges"),
        ("A = 1, B = 1 and C = 1", "test_swap_and_flatten_edges"),
    ],
    "drop_channel_dim": [
        ("N = 1 (and N = D = 1)", "test_drop_batch_of_one"),
        ("D = 1 (and N = D = 1)", "test_drop_one_feature"),
        ("a non-contiguous x among the typical inputs", "test_drop_values"),
    ],
    "double_backward": [
        ("x of one element", "test_double_backward_one_element"),
        ("x does not require grad, and still does not after the call", "test_double_backward_leaves_x"),
        ("backward called twice on the same graph: autograd's engine runs exactly two backward passes",
         "test_double_backward_twice"),
    ],
    "add_inplace": [
        ("x non-contiguous (a transposed view keeps its strides when updated in place)", "test_add_values"),
        ("x of rank 1 and of rank 3", "test_add_values"),
        ("the same storage: x a view into a larger tensor, which must see the sum", "test_add_keeps_storage"),
    ],
    # 02_linear_regression
    "linear_model": [
        ("N = 1: one point", "test_linear_model_one_point"),
        ("w and b that require grad: the predictions stay on the graph", "test_linear_model_values"),
        ("the gradient reaches w and b (the reference's, for an output gradient)", "test_linear_model_gradients"),
    ],
    "mse_loss": [
        ("N = 1: one point", "test_mse_loss_one_point"),
        ("predictions that require grad: the loss stays on the graph (it is used with backward)",
         "test_mse_loss_values"),
        ("differentiable: the gradient reaches y_pred (the reference's)", "test_mse_loss_gradients"),
    ],
    "mse_grads": [
        ("N = 1: one point (sum and mean agree there)", "test_grads_one_point"),
        ("no autograd: backward, torch.autograd.grad, torch.func, or any backward pass of the engine",
         "test_grads_by_hand"),
    ],
    "train_linear": [
        ("epochs = 1: one loss, before the only update", "test_train_one_epoch"),
        ("N = 1: one point", "test_train_one_point"),
        ("after the call w and b are still leaves that require grad", "test_train_keeps_leaves"),
        ("backward called in every epoch: one backward pass of autograd's engine per epoch",
         "test_train_backward_each_epoch"),
    ],
    # 03_logistic_regression
    "sigmoid": [
        ("|z| up to 1000 at both signs (finite, in [0, 1])", "test_sigmoid_extreme"),
        ("z = 0 and |z| = 1e-3", "test_sigmoid_extreme"),
        ("z of rank 1 and of rank 3 (non-contiguous)", "test_sigmoid_values"),
        ("no torch.sigmoid, Tensor.sigmoid, torch.special.expit, F.sigmoid, nn.Sigmoid, logsigmoid",
         "test_sigmoid_by_hand"),
    ],
    "bce_loss": [
        ("p near 0 and near 1, strictly inside (0, 1), with confident wrong labels", "test_bce_near_ends"),
        ("N = 1: one example, of each label", "test_bce_one_example"),
        ("400 examples (a product of probabilities underflows)", "test_bce_values"),
        ("no binary_cross_entropy (functional or nn.BCELoss), nor its with-logits forms", "test_bce_by_hand"),
    ],
    "logistic_forward": [
        ("N = 1: one row", "test_forward_one_row"),
        ("Parameters w and b: the logits stay on the graph", "test_forward_values"),
        ("the gradient reaches w and b (the reference's)", "test_forward_gradients"),
    ],
    "train_logistic": [
        ("epochs = 1: one loss, before the only step", "test_train_one_epoch"),
        ("N = 1: one row", "test_train_one_row"),
        ("the caller's w and b stay the same Parameter objects", "test_train_keeps_parameters"),
        ("zero_grad, backward, step in every epoch: one backward pass per epoch", "test_train_backward_each_epoch"),
    ],
    "accuracy": [
        ("a logit of exactly 0 is class 0 (the threshold at the threshold)", "test_accuracy_logit_zero"),
        ("N = 1: one row, right (1.0) and wrong (0.0)", "test_accuracy_one_row"),
        ("small positive logits, between 0 and 0.5, are class 1", "test_accuracy_values"),
    ],
}
