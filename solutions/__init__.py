"""Reference solutions, one module per assignment (named after its notebook).

Imported only on the trusted side of the grader, never inside a student's sandbox.
The source notebooks' solution cells hold the same code: ``tests/test_course.py`` proves it.
"""
