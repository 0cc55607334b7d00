"""Writing a course: declarations of what each blank is checked on, the hidden tests and self-checks made from them,
new assignments, and the proofs a course passes before it is released (check-course, the mutation audit).

A hidden test module uses::

    from autograder.authoring import Blank, Gradients, Mistake, Unchanged, declare
"""
from autograder.authoring.declarations import (
    BackwardPasses, Blank, Draw, Gradients, InPlace, Leaves, Mistake, Property, PythonFloat, ReturnsArgument,
    Unchanged,
)
from autograder.authoring.generate import declare

__all__ = ["BackwardPasses", "Blank", "Draw", "Gradients", "InPlace", "Leaves", "Mistake", "Property", "PythonFloat",
           "ReturnsArgument", "Unchanged", "declare"]
