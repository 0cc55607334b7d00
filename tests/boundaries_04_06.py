"""Every boundary exercises.md states for the blanks of 04_modules, 05_multiclass and 06_initialization, in words,
with the hidden test that judges it (hidden/test_<assignment>.py). A boundary is a size argument at 1, a stated
range at its ends, "any rank" at ranks 1 and 3+, a case the spec names in parentheses (a Linear without bias,
buffers in the state_dict), or a named value."""

BOUNDARIES = {
    # ------------------------------------------------------------------------------------------ 04_modules
    "make_seq_net": [
        ("n_in = 1 and n_out = 1", "test_seq_net_sizes_of_one"),
        ("n_hidden = 1", "test_seq_net_sizes_of_one"),
        ("a batch of 1", "test_seq_net_sizes_of_one"),
        ("state_dict keys 0.weight, 0.bias, 2.weight, 2.bias (Tanh at index 1)", "test_seq_net_layers"),
        ("typical sizes, non-contiguous batches", "test_seq_net_outputs"),
    ],
    "TwoBranchNet": [
        ("a batch of 1", "test_two_branch_sizes_of_one"),
        ("n_in = 1", "test_two_branch_sizes_of_one"),
        ("n_hidden = 1", "test_two_branch_sizes_of_one"),
        ("n_out = 1", "test_two_branch_sizes_of_one"),
        ("a 3-D input and a non-contiguous batch", "test_two_branch_forward"),
        ("the gradient reaches every parameter of both branches (the reference's)", "test_two_branch_gradients"),
    ],
    "save_weights": [
        ("a nested network with buffers (BatchNorm) and a Linear without bias", "test_save_weights_state_dict"),
        ("a single Linear(1, 1)", "test_save_weights_single_layer"),
        ("readable by torch.load(path, weights_only=True)", "test_save_weights_loadable"),
        ("the network is left as it was", "test_save_weights_leaves_net"),
    ],
    "load_weights": [
        ("a nested network with buffers (BatchNorm) and a Linear without bias", "test_load_weights_values"),
        ("a single Linear(1, 1)", "test_load_weights_single_layer"),
        ("loads with weights_only=True", "test_load_weights_safely"),
        ("returns net itself", "test_load_weights_returns_net"),
        ("keeps the Parameter objects", "test_load_weights_in_place"),
    ],
    # ---------------------------------------------------------------------------------------- 05_multiclass
    "softmax": [
        ("rank 1 (the lower end of 'any rank >= 1')", "test_softmax_sizes_of_one"),
        ("one row (a batch of 1)", "test_softmax_sizes_of_one"),
        ("one class (a last dimension of size 1)", "test_softmax_sizes_of_one"),
        ("ranks 3 and 4 with every typical 2-D input, non-contiguous inputs", "test_softmax_values"),
        ("logits of magnitude 1000, at 2-D and 3-D", "test_softmax_large_logits"),
        ("the input is left unchanged", "test_softmax_leaves_input"),
        ("no torch.softmax, Tensor.softmax, F.softmax, nn.Softmax, log_softmax", "test_softmax_no_builtin"),
    ],
    "cross_entropy": [
        ("a batch of N = 1", "test_cross_entropy_sizes_of_one"),
        ("K = 1 class", "test_cross_entropy_sizes_of_one"),
        ("logits of magnitude 50", "test_cross_entropy_large_logits"),
        ("N = K (a square batch) and non-contiguous logits", "test_cross_entropy_values"),
        ("the inputs are left unchanged", "test_cross_entropy_leaves_inputs"),
        ("no cross_entropy, nll_loss, log_softmax in any form", "test_cross_entropy_no_builtin"),
    ],
    "binary_entropy": [
        ("p = 0 and p = 1 (H = 0, no NaN)", "test_entropy_at_0_and_1"),
        ("p = 0.5 (H = 1) and p = 0.1 (H ≈ 0.469)", "test_entropy_named_values"),
        ("a tensor of one element", "test_entropy_single_element"),
        ("ranks 1, 2 and 3, non-contiguous", "test_entropy_values"),
        ("the input is left unchanged", "test_entropy_leaves_input"),
    ],
    # ------------------------------------------------------------------------------------ 06_initialization
    "set_weight_from_numpy": [
        ("n_in = 1 (Linear(1, 4))", "test_numpy_sizes_of_one"),
        ("n_out = 1 (Linear(4, 1))", "test_numpy_sizes_of_one"),
        ("the same Parameter object, float32", "test_numpy_same_parameter"),
        ("returns layer itself", "test_numpy_returns_layer"),
        ("the bias and the array are left unchanged", "test_numpy_leaves_bias"),
    ],
    "init_linear_normal": [
        ("a Linear built with bias=False", "test_normal_without_bias"),
        ("net is itself a single nn.Linear", "test_normal_single_linear"),
        ("a small std (0.05 to 0.5), a medium one (0.6 to 0.9) and a large one (2 to 5)", "test_normal_std"),
        ("nested Linear layers (Sequential, ModuleList); LayerNorm and Conv1d untouched", "test_normal_std"),
        ("a normal distribution, not a uniform one", "test_normal_std"),
        ("keeps the Parameter objects, float32", "test_normal_in_place"),
        ("returns net itself", "test_normal_returns_net"),
    ],
    "init_xavier": [
        ("a Linear built with bias=False", "test_xavier_without_bias"),
        ("net is itself a single nn.Linear", "test_xavier_single_linear"),
        ("fan_in >> fan_out and fan_out >> fan_in", "test_xavier_bound"),
        ("nested Linear layers (Sequential, ModuleList); LayerNorm and Conv1d untouched", "test_xavier_bound"),
        ("a uniform distribution, not a normal one", "test_xavier_bound"),
        ("keeps the Parameter objects, float32", "test_xavier_in_place"),
        ("returns net itself", "test_xavier_returns_net"),
    ],
}
