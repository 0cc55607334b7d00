"""Autograder for the PyTorch-basics course: sandboxed grading with pytest-written hidden tests."""
