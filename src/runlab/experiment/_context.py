"""The context-manager style (Yanex): ``with runlab.run(...) as run:`` and module functions.

The block's run is the current run (see :mod:`runlab.experiment._current`): the module
functions (:func:`get_params`, :func:`log_results`, ...) act on it, in this thread or task.
Inside a script started by ``runlab run`` (or :func:`runlab.run_script`), the block joins
the run the command created instead of starting its own: its ``params`` are added where the
command did not set them, its tags are added, and ending the block early ends that run.
The keys of a literal ``params={...}`` dict are the script's parameters (read statically by
:func:`~runlab.experiment.script_params`): the command records the values given for them
(``runlab run ctx.py --lr=0.5``, ``--sweep``, ``-c``), so the joining block reads those.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from contextvars import Token
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from weakref import WeakKeyDictionary

from ..errors import (
    DirtyWorkingDirectoryError,
    ExperimentAlreadyRunningError,
    ValidationError,
)
from ..lifecycle import Run
from ..store import RunStatus
from ..store._api import get_store
from ..store._store import Store
from ._current import attachable, current_run, reset_current, set_current
from ._driver import EndRun as _EndRun
from ._driver import RunDriver
from ._request import Origin, RunOptions, RunRequest, Target


def _main_source() -> Path | None:
    from ..lifecycle._run import _main_source as main_source

    return main_source()


__all__ = [
    "RunContext",
    "cancel",
    "completed",
    "current_run",
    "fail",
    "get_param",
    "get_params",
    "get_status",
    "log_artifact",
    "log_matplotlib_figure",
    "log_results",
    "log_text",
    "run",
]

_result_steps: WeakKeyDictionary[Run, dict[str, set[int]]] = WeakKeyDictionary()  # for "step replaced" warnings
_MISSING = object()


class RunContext:
    """What :func:`run` returns: enter it to start the run and make it current.

    Leaving the block normally completes the run; :func:`completed`, :func:`fail` and
    :func:`cancel` end it early with that state (and the block exits cleanly); any other
    exception fails the run and propagates; Ctrl-C and SIGTERM cancel it and propagate.
    Plugins receive this object as ``experiment`` in the experiment hooks.
    """

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.run: Run | None = None
        self._driver: RunDriver | None = None
        self._token: Token[Run | None] | None = None

    def request(self) -> RunRequest:
        """The block's :class:`~runlab.request.RunRequest`: a ``"context"`` target (the script
        running the block, as ``runlab rerun`` starts it again), its params and options."""
        opts = self.options
        tags = opts.get("tags")
        return RunRequest(
            Target("context", _main_source()),
            params=dict(opts.get("params") or {}),
            options=RunOptions(
                name=opts.get("name"),
                tags=(tags,) if isinstance(tags, str) else tuple(tags or ()),
                description=opts.get("description"),
                namespace=opts.get("namespace"),
                root=opts.get("root"),
            ),
            origin=Origin("runlab.run"),
        )

    def __enter__(self) -> Run:
        request = self.request()
        joined = attachable()
        if joined is not None:
            self.run = joined
            self._join(joined, request)
            self._token = set_current(joined)
            return joined
        store = get_store(self.options.get("root"))
        if self.options.get("require_clean_git"):
            _check_clean_git()
        if self.options.get("exclusive"):
            running = store.runs(status="running", limit=5)
            if len(running):
                raise ExperimentAlreadyRunningError(
                    f"Run {running[0].id} is still running in {store.root}; exclusive mode allows one at a time. "
                    "Wait for it, cancel it, or drop exclusive=True."
                )
        self._driver = RunDriver(self, store)
        opts = request.options
        self.run = self._driver.initialize(
            params=request.params,
            name=opts.name,
            tags=list(opts.tags),
            description=opts.description,
            namespace=opts.namespace,
            links=request.links.to_dict(),
            origin=request.record_origin() if request.target.path is not None else None,
        )
        _announce(self.run)  # before the run starts: not copied into out.log
        return self._driver.start()

    @staticmethod
    def _join(run: Run, request: RunRequest) -> None:
        run.update_origin(style="context")  # runlab rerun gives the block its params back
        present = run.params
        extra = {k: v for k, v in request.params.items() if k not in present}
        if extra:
            run.log_params(extra)
        if request.options.tags:
            run.add_tags(*request.options.tags)
        opts, meta = request.options, run.metadata
        # the block's name and description apply where the command set none
        name = opts.name if opts.name and not meta.get("name") else None
        description = opts.description if opts.description and not meta.get("description") else None
        if name is not None or description is not None:
            run.set_info(name=name, description=description)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        assert self.run is not None
        ended = isinstance(exc, _EndRun)
        if ended:
            assert isinstance(exc, _EndRun)
            self.run.finish(exc.status, exc.message if exc.status is not RunStatus.COMPLETED else None)
        if self._driver is None:  # joined the command's run: it finishes that run
            assert self._token is not None
            reset_current(self._token)
            return ended
        self._driver.end(None if ended else exc)
        if not ended and exc is None and self._driver.error is not None:
            raise self._driver.error  # a critical plugin failed the run
        return ended


def run(
    params: Mapping[str, Any] | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    description: str | None = None,
    namespace: str | None = None,
    root: str | os.PathLike[str] | Store | None = None,
    *,
    exclusive: bool = False,
    require_clean_git: bool = False,
) -> RunContext:
    """Start a run for the duration of a ``with`` block and make it the current run.

    Args:
        params: parameter values; read back with :func:`get_params` / :func:`get_param`.
        name, tags, description, namespace, root: as for :func:`runlab.start_run`.
        exclusive: refuse to start while another run of the store is running
            (:class:`~runlab.ExperimentAlreadyRunningError`).
        require_clean_git: refuse to start when the git tree has uncommitted changes
            (:class:`~runlab.DirtyWorkingDirectoryError`).

    Example:
        >>> import runlab, tempfile
        >>> with runlab.run(params={"model": {"lr": 0.1}}, root=tempfile.mkdtemp()) as r:
        ...     runlab.log_results({"loss": 0.5}, step=0)
        ...     lr = runlab.get_param("model.lr")
        >>> lr, r.status
        (0.1, 'completed')
    """
    if params is not None and not isinstance(params, Mapping):
        raise ValidationError(f"Invalid params {params!r}: expected a mapping of names to values.")
    return RunContext(
        params=params,
        name=name,
        tags=tags,
        description=description,
        namespace=namespace,
        root=root,
        exclusive=exclusive,
        require_clean_git=require_clean_git,
    )


def _announce(run: Run) -> None:
    """One line on stderr with the run's ID and folder, unless ``RUNLAB_QUIET`` is set (not "0")."""
    if os.environ.get("RUNLAB_QUIET", "0") not in ("", "0"):
        return
    import sys

    try:
        folder = os.path.relpath(run.path)
    except ValueError:  # another drive (Windows)
        folder = str(run.path)
    if folder.startswith(".."):
        folder = str(run.path)
    print(f"runlab: run {run.id} in {folder}", file=sys.stderr, flush=True)


def _check_clean_git() -> None:
    from ..lifecycle._capture import capture_git

    info, _ = capture_git(Path.cwd())
    if info.get("dirty"):
        raise DirtyWorkingDirectoryError(
            f"The git working tree at {info.get('repository')} has uncommitted changes and require_clean_git "
            "is set. Commit or stash them, or drop require_clean_git."
        )


def get_params() -> dict[str, Any]:
    """The current run's parameters (a copy)."""
    return current_run().params


def get_param(key: str, default: Any = _MISSING) -> Any:
    """One parameter; dotted keys reach into nested dicts (``"model.lr"``).

    Raises:
        KeyError: the key is missing and no default was given.
    """
    node: Any = current_run().params
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif default is _MISSING:
            raise KeyError(f"No parameter {key!r}; parameters: {', '.join(current_run().params) or 'none'}.")
        else:
            return default
    return node


def get_status() -> str:
    """The current run's state."""
    return current_run().status


def log_results(data: Mapping[str, Any], step: int | None = None) -> None:
    """Log a step's results: numbers become metrics, other values go to ``data.json`` under ``results/``.

    Logging a step that was already logged warns that its values are replaced (the later
    point is the one summaries and the UI show).
    """
    if not isinstance(data, Mapping):
        raise ValidationError(f"Invalid results {data!r}: expected a mapping such as {{'loss': 0.1}}.")
    current = current_run()
    seen = _result_steps.setdefault(current, {})
    for key, value in data.items():
        name = str(key)
        if isinstance(value, (int, float)) or (hasattr(value, "item") and not isinstance(value, (str, bytes))):
            if step is not None:
                steps = seen.setdefault(name, set())
                if step in steps:
                    warnings.warn(f"Replacing the result {name!r} of step {step}.", UserWarning, stacklevel=2)
                steps.add(step)
            current.log_metric(name, value, step)
        else:
            current.data[f"results/{step if step is not None else 'final'}/{name}"] = value


def log_artifact(name: str, path: str | os.PathLike[str]) -> Path:
    """Copy the file or folder at ``path`` into the current run's artifacts as ``name``."""
    return current_run().log_artifact(path, name)


def log_matplotlib_figure(figure: Any, filename: str, **savefig_kwargs: Any) -> Path:
    """Save a matplotlib figure into the current run's artifacts."""
    return current_run().log_figure(figure, filename, **savefig_kwargs)


def log_text(content: str, filename: str) -> Path:
    """Write text into the current run's artifacts."""
    return current_run().save_text(filename, content)


def _end(status: RunStatus, message: str | None) -> Literal[False]:
    current_run()  # raises outside a run
    raise _EndRun(status, message)


def completed() -> None:
    """End the current ``with runlab.run()`` block now, as completed."""
    _end(RunStatus.COMPLETED, None)


def fail(message: str) -> None:
    """End the current ``with runlab.run()`` block now, as failed with ``message``."""
    _end(RunStatus.FAILED, message)


def cancel(message: str) -> None:
    """End the current ``with runlab.run()`` block now, as cancelled with ``message``."""
    _end(RunStatus.CANCELLED, message)
