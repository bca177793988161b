"""PyComex's public run phases of a functional experiment, mixed into :class:`runlab.Experiment`.

``experiment.initialize()`` creates and starts a run without calling the main function,
``experiment.execute()`` runs the main function with its hooks and finalizes, and
``experiment.finalize()`` ends an initialized run. They are the three phases every run of a
functional experiment goes through (:class:`~runlab.experiment._runner.ExperimentRunner`'s
``open``, ``body`` and ``close``); :meth:`runlab.Experiment.run` is all three with overrides.

runlab's own ``execute(request)`` (run a :class:`~runlab.request.RunRequest` with this object)
is :meth:`runlab.Experiment.execute_request`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..lifecycle import Run
    from ._runner import ExperimentRunner

__all__ = ["ExperimentPhases"]


class ExperimentPhases:
    """``initialize()``, ``execute()`` and ``finalize()`` (see the module docstring)."""

    if TYPE_CHECKING:
        runner: ExperimentRunner

    def initialize(self, overrides: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Run:
        """PyComex's ``initialize()``: create and start a run (folder, record, code copies, ``analysis.py``;
        state ``running``) with parameter overrides, without calling the main function. Code between
        this and :meth:`finalize` records into the run (``e["a"] = 1``, ``e.track``, ``e.PARAM``).

        Raises:
            ExperimentContextError: a run this object initialized is not finalized yet.
            ParameterError: an unknown parameter or a value of the wrong type (no run is made).
        """
        return self.runner.initialize({**dict(overrides or {}), **kwargs})

    def execute(self) -> Run:
        """PyComex's ``execute()``: :meth:`initialize` (unless a run is initialized already), the testing
        functions, ``before_run`` hooks, the main function and ``after_run`` hooks, then :meth:`finalize`;
        returns the finished run. The user's exception propagates once the run is recorded as failed.

        Example:
            >>> import tempfile
            >>> from runlab import Experiment
            >>> exp = Experiment(glob={"N": 2}, root=tempfile.mkdtemp(), namespace="phases")
            >>> _ = exp(lambda e: e.N * 10)
            >>> exp.initialize(N=4).status  # doctest: +ELLIPSIS
            20... | run ... of phases started in ...
            'running'
            >>> run = exp.execute()
            >>> run.status, run.params["N"], exp.finalize() is run
            ('completed', 4, True)

        Raises:
            ValidationError: no main function was registered with ``@experiment``.
        """
        return self.runner.execute_main()

    def finalize(self, error: BaseException | None = None) -> Run:
        """PyComex's ``finalize()``: end the run :meth:`initialize` started (completed, or failed with
        ``error``), restore the module's globals and fire ``after_experiment_finalize``; returns the run.
        After :meth:`execute` (which finalizes) it returns that run unchanged.

        Raises:
            ExperimentContextError: no run was initialized.
        """
        return self.runner.finalize(error)
