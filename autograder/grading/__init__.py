"""The trusted grading core: the course (``course``), what is graded (``discover``, ``notebook``), a handle on a
submission (``submission``, ``torchfile``), the hidden tests' pytest plugin and the marking policy (``plugin``,
``policy``), checks and feedback (``compare``, ``hints``), grading a batch (``runner``, ``workers``, ``ahead``) and its
results (``results``). It drives :mod:`autograder.sandbox` and never runs student code itself."""
