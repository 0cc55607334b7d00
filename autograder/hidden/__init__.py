"""The hidden tests: one pytest module per assignment, ``test_<assignment>.py``.

How to write one (the plugin in :mod:`autograder.plugin` supplies the fixtures)::

    ASSIGNMENT = "02_linear_regression"          # which notebook's submissions this module grades

    @pytest.mark.blank("mse_grads", points=1)    # the blank it judges; a blank's mark = sum of its tests
    def test_gradient_away_from_optimum(sub, rng, ref):
        "dw and db match the closed-form gradient away from the optimum"   # the name students read
        x, y, w, b = ...                          # inputs drawn from rng: seeded by the course secret
        result = sub.run("mse_grads", x, y, w, b, watch=True)   # runs in the sandbox, data comes back
        dw, db = result.value
        expect(dw, "dw").tensor(shape=(1,)).close_to(ref.mse_grads(x, y, w, b)[0], hints=[hints.FACTOR_2])

- ``sub``: :class:`autograder.submission.Submission` — ``sub.call(name, *args)`` returns the value;
  ``sub.run(...)`` returns a :class:`~autograder.submission.CallResult` with the arguments after the call,
  ``returned_arg``, ``torch_calls`` (with ``watch=True``) and ``files`` (torch.save/torch.load calls seen).
  A call that fails raises :class:`~autograder.submission.SubmissionError` whose message is the feedback.
- ``rng``: a seeded ``torch.Generator``; ``ref``: the reference solutions module (trusted side only).
- ``@pytest.mark.blank(name, points=p, property=True)`` marks a test of a *property* of a right answer
  (inputs left unchanged, no forbidden API, the same object returned...): it earns its points only if the
  blank passes at least one value test, so a function that returns zeros earns nothing.
- ``ERROR_HINTS = [(words, hint), ...]`` at module level: when a call fails and its message contains all
  ``words`` (lower case), the student's feedback gets ``hint`` (e.g. "backward through the graph a second
  time" -> keep the graph with retain_graph=True).
- Checks: :func:`autograder.compare.expect` and the hints of :mod:`autograder.hints`. A failing check
  raises :class:`~autograder.compare.Mismatch`; its message is what the student reads. One property per test.
"""
