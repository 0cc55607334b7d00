"""The course: its assignments, their notebooks, and the points of every blank.

This table is the one place that says which blanks exist and what each is worth; the hidden tests,
the notebooks' hidden cells and the results all agree with it (``tests/test_course.py`` checks).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Assignment:
    name: str  # folder name, e.g. "02_linear_regression"
    stem: str  # notebook stem and solutions module, e.g. "linear_regression"
    blanks: dict[str, int]  # grade_id -> points

    @property
    def notebook(self) -> str:
        return f"{self.stem}.ipynb"

    @property
    def max_score(self) -> int:
        return sum(self.blanks.values())


ASSIGNMENTS: dict[str, Assignment] = {
    a.name: a
    for a in [
        Assignment("01_tensors_autograd", "tensors_autograd", {
            "row_max": 2, "swap_and_flatten": 2, "drop_channel_dim": 2, "double_backward": 2, "add_inplace": 2,
        }),
        Assignment("02_linear_regression", "linear_regression", {
            "linear_model": 1, "mse_loss": 2, "mse_grads": 3, "train_linear": 4,
        }),
        Assignment("03_logistic_regression", "logistic_regression", {
            "sigmoid": 2, "bce_loss": 2, "logistic_forward": 1, "train_logistic": 4, "accuracy": 2,
        }),
        Assignment("04_modules", "modules", {
            "make_seq_net": 2, "TwoBranchNet": 3, "save_weights": 2, "load_weights": 2,
        }),
        Assignment("05_multiclass", "multiclass", {
            "softmax": 3, "cross_entropy": 3, "binary_entropy": 2,
        }),
        Assignment("06_initialization", "initialization", {
            "set_weight_from_numpy": 2, "init_linear_normal": 3, "init_xavier": 3,
        }),
    ]
}


def assignment_of_blank(blank: str) -> Assignment:
    for a in ASSIGNMENTS.values():
        if blank in a.blanks:
            return a
    raise KeyError(f"no assignment has a blank named {blank!r}")


def find_assignment(name: str) -> Assignment | None:
    """An assignment by folder name (``02_linear_regression``) or notebook stem (``linear_regression``)."""
    for a in ASSIGNMENTS.values():
        if name in (a.name, a.stem, a.notebook):
            return a
    return None
