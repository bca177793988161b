"""What a functional experiment's code records through ``e``: tracked values and committed artifacts.

:class:`RunRecorder` is the recording collaborator of :class:`runlab.Experiment`:
``e.track()`` (metric points, or figures under ``artifacts/track/``) and ``e.commit_json()``,
``e.commit_raw()``, ``e.commit_fig()``, each also announced to plugins.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExperimentContextError, RunFinishedError, ValidationError
from ..hooks._specs import EXPERIMENT_COMMIT_FIG, EXPERIMENT_COMMIT_JSON, EXPERIMENT_COMMIT_RAW, EXPERIMENT_TRACK

if TYPE_CHECKING:
    from ..lifecycle import Run
    from ._functional import Experiment

__all__ = ["RunRecorder"]


class RunRecorder:
    """Records into the run an experiment is executing.

    Args:
        experiment: the experiment (plugins receive it as ``experiment``).

    Attributes:
        steps: the next step of each tracked name (reset for each run).
    """

    def __init__(self, experiment: Experiment) -> None:
        self.experiment = experiment
        self.steps: dict[str, int] = {}

    def running(self, what: str) -> Run:
        """The run in progress.

        Raises:
            ExperimentContextError: no run is in progress (``what`` names the call).
        """
        run = self.experiment.current_run
        if run is None or self.experiment.params.active is None or run.status != "running":
            raise ExperimentContextError(
                f"{what} needs a running experiment: call it inside the main function or a hook."
            )
        return run

    def _announce(self, hook: str, run: Run, /, **kwargs: Any) -> Any:
        from ..hooks import get_registry

        return get_registry().apply(hook, experiment=self.experiment, run=run, **kwargs)

    def store(self, key: str, value: Any) -> None:
        """``e[key] = value``: into the run's data (into memory before the first run).

        Raises:
            RunFinishedError: an archived run, or a run that has finished.
        """
        exp = self.experiment
        if exp.archive is not None:
            raise RunFinishedError(f"Cannot set {key!r}: this is an archived run ({exp.archive}), which is read-only.")
        run = exp.current_run
        if run is not None and exp.params.active is None:
            raise RunFinishedError(f"Run {run.id} has finished; its data no longer changes. Run the experiment again.")
        exp.data[key] = value

    def track(self, name: str, value: Any) -> None:
        """A number becomes a metric point (and joins the list ``e.data[NAME]``), a matplotlib figure
        ``artifacts/track/NAME_NNN.png``.

        Raises:
            ValidationError: ``value`` is neither a number nor a figure.
        """
        run = self.running("e.track()")
        step = self.steps[name] if name in self.steps else run.next_step(name)  # a resumed run goes on
        if callable(getattr(value, "savefig", None)):
            safe = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name.replace("/", "__"))
            run.log_figure(value, f"track/{safe}_{step:03d}.png")
        elif isinstance(value, (int, float)) or (hasattr(value, "item") and not isinstance(value, (str, bytes))):
            run.log_metric(name, value, step)
            run.data.append(name, value)  # PyComex: e.data["loss"] == [0.5, 0.4, ...]
        else:
            raise ValidationError(
                f"Cannot track {name!r}: {type(value).__name__} {value!r:.60} is neither a number nor a matplotlib "
                "figure. Store other values with e[key] = value."
            )
        self.steps[name] = step + 1
        self._announce(EXPERIMENT_TRACK, run, name=name, value=value, step=step)

    def commit_json(self, name: str, data: Any) -> Path:
        """Write ``data`` as JSON artifact ``name``; returns its path."""
        run = self.running("e.commit_json()")
        path = run.save_json(name, data)
        self._announce(EXPERIMENT_COMMIT_JSON, run, name=name, data=data, path=path)
        return path

    def commit_raw(self, name: str, content: str) -> Path:
        """Write text artifact ``name``; returns its path."""
        run = self.running("e.commit_raw()")
        path = run.save_text(name, content)
        self._announce(EXPERIMENT_COMMIT_RAW, run, name=name, content=content, path=path)
        return path

    def commit_fig(self, name: str, figure: Any, **savefig_kwargs: Any) -> Path:
        """Save a matplotlib figure as artifact ``name`` (PNG unless the name says otherwise); returns its path."""
        run = self.running("e.commit_fig()")
        path = run.log_figure(figure, name, **savefig_kwargs)
        self._announce(EXPERIMENT_COMMIT_FIG, run, name=name, figure=figure, path=path)
        return path
