"""The data-only protocol between the trusted grader and a sandbox: ``wire`` (frames and their size caps) and
``codec`` (values as data: tensors, modules, containers). Both sides import it; it imports neither."""
