"""nbgrader configuration: this repository is the course directory (README.md, "With nbgrader").

    nbgrader generate_assignment 02_linear_regression   # source/ -> release/, and the assignment into gradebook.db
    nbgrader autograde 02_linear_regression             # submitted/ -> autograded/ and grades, by the sandboxed engine
    nbgrader generate_feedback 02_linear_regression     # autograded/ -> feedback/
    nbgrader export                                     # gradebook.db -> grades.csv

`nbgrader autograde` grades with the kit's engine (autograder/platforms/nbgrader_preprocessor.py), as `python -m autograder
grade` does: student code runs in the sandbox, the hidden tests on the trusted side; nothing runs in a kernel.
"""
import os
import warnings

from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput, DeduplicateIds, LimitOutput,
                                    OverwriteKernelspec, SaveAutoGrades)
from sqlalchemy.exc import SAWarning

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

# release/ is committed: generate_assignment regenerates it (the same files) and so always registers the assignment
# and its notebooks in gradebook.db, which autograde needs; without this it would skip "existing" assignments.
c.GenerateAssignment.force = True

# nbgrader's gradebook adds each new submission to its session in a way SQLAlchemy 2 warns about on autoflush
# ("Object of type <SubmittedAssignment> not in session, add operation along 'Student.submissions' will not
# proceed"), three times per student, though the rows are written: that warning, from nbgrader's api module only.
warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session", category=SAWarning,
                        module=r"nbgrader\.api")

# Sanitizing a submission: nbgrader's steps, with OverwriteCells replaced by RestoreHiddenTests, which gives a test cell
# its hidden part back without the warning nbgrader prints for every untouched test cell of every student
# ("Attribute 'checksum' ... has changed", nbgrader issue #1961); a test cell a student edited is still reported.
c.Autograde.sanitize_preprocessors = [
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    "autograder.platforms.nbgrader_preprocessor.RestoreHiddenTests",
    CheckCellMetadata,
]

# Autograde with the sandboxed engine instead of nbgrader's Execute (which runs the hidden cells in the student's
# kernel, after code the student controls): SandboxedGrading grades the submitted notebook like `python -m
# autograder grade` and writes each test cell's feedback and points, which SaveAutoGrades records per blank.
c.Autograde.autograde_preprocessors = [
    "autograder.platforms.nbgrader_preprocessor.SandboxedGrading",
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# The late penalty is late.toml's (autograder/after/late.py: grace, share per day or hour, cap, cut-off, extensions),
# the same as `python -m autograder grade` applies: its due dates and extensions are written into the gradebook.
c.AssignLatePenalties.plugin_class = "autograder.after.late.LatePenaltyPlugin"
# c.SandboxedGrading.jobs = 4                # notebooks graded in parallel (default: one per CPU)
# c.SandboxedGrading.isolation = "userns"    # refuse to grade below this isolation level

# Validate (`nbgrader validate`, the Validate button) runs the release notebook: each test cell's visible part
# runs the blank's self-checks and fails, naming the blank, while one fails.
c.ExecutePreprocessor.timeout = 120
