"""nbgrader configuration: this repository is the course directory.

    nbgrader generate_assignment 02_linear_regression --force   # source/ -> release/
    nbgrader autograde 02_linear_regression                     # submitted/ -> autograded/
    nbgrader generate_feedback 02_linear_regression             # autograded/ -> feedback/
"""
import os

c = get_config()  # noqa: F821 (nbgrader injects get_config)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "torch-basics"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.pt"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# The hidden cells grade a whole blank each and report partial credit as their value.
c.ExecutePreprocessor.timeout = 120
