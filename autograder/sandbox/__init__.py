"""Running untrusted code: the processes that run a submission, their isolation, and the side that runs in them.

In the grader's process: ``zygote`` (the zygote and its sandboxes as the grader sees them), ``zygote_client``
(one zygote shared by several grading processes), ``hostprobe`` (which isolation levels this host allows, and why
not). In the zygote and the sandboxes it forks: ``zygote_process`` (the zygote itself), ``isolation`` (namespaces, a
private root, limits, uids), ``seccomp`` (the system-call filter) and ``child`` (the sandbox side: runs the cells,
answers calls). Nothing here imports the trusted grading core; data crosses through :mod:`autograder.protocol`.
"""
