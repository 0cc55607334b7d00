"""The kit inside other platforms' pipelines: Gradescope (``gradescope``), nbgrader (``nbgrader_preprocessor`` for
autograde, ``nbgrader_hidden`` for the hidden test cells) and a Dask cluster (``dask_executor``)."""
