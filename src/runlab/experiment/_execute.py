"""``execute(request)``: run a :class:`~runlab.request.RunRequest` in this process.

The same request gives the same run (parameters, links, origin) wherever it executes: in
the process that built it, or in a fresh one with ``python -m runlab.execute FILE``. Each
target kind has one way to run:

- ``"functional"``: the file is executed as ``__main__`` with the request pending; its
  ``experiment.run_if_main()`` claims and runs it (see :mod:`runlab.experiment._pending`).
- ``"config"``: the config file's experiment is built (:meth:`runlab.Experiment.from_spec`)
  with the request's values and runs it.
- ``"script"`` / ``"context"``: a :class:`~runlab.ScriptExecutor` runs the script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import ExperimentNotFoundError, ValidationError
from ._request import RunRequest, RunResult, Target

__all__ = ["execute", "run_config", "run_file"]


def execute(request: RunRequest, *, raise_errors: bool = False) -> RunResult:
    """Run ``request`` here; returns its :class:`~runlab.request.RunResult`.

    Args:
        request: what to run.
        raise_errors: re-raise the experiment's exception once its run is recorded (by
            default the result carries it: ``result.status``, ``result.error``,
            ``result.exception``).

    Raises:
        UsageError: bad input (a missing file, an unknown parameter ...); no run exists.
        KeyboardInterrupt: Ctrl-C, once the run is recorded as cancelled.

    Example:
        >>> import pathlib, tempfile, runlab
        >>> from runlab.request import RunRequest, RunOptions, Target
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "double.py"
        >>> _ = f.write_text("x = 1\\ndef main():\\n    return 2 * x\\n")
        >>> req = RunRequest(Target("script", f), {"x": 21}, RunOptions(root=str(f.parent / "runs"), capture=False))
        >>> result = runlab.execute(req)
        >>> result.status.value, result.value
        ('completed', 42)
    """
    target = request.target
    if target.path is None:
        raise ValidationError(
            "This run request names no file (its experiment was made in memory): run it with "
            "experiment.execute_request(request) in the process that made the experiment."
        )
    if target.kind == "script":
        from ._dispatch import file_kind

        if target.path.is_file() and file_kind(target.path) == "functional":  # it would run itself, then fail
            raise ValidationError(
                f"{target.path} is a functional experiment (it makes a runlab Experiment), not a plain script: "
                f"give Target('functional', {str(target.path)!r}) (runlab run and the sweep builders pick the "
                "kind themselves)."
            )
    if target.kind in ("script", "context"):
        from ._script import Script, ScriptExecutor

        script = Script(target.path, entrypoint=target.entrypoint, run_as_main=target.run_as_main)
        executor = ScriptExecutor(script, root=request.options.root, capture=request.options.capture)
        result = executor.execute_request(request)
    elif target.kind == "config":
        result = run_config(request)
    else:
        result = run_file(request)
    if result.exception is not None and (raise_errors or isinstance(result.exception, KeyboardInterrupt)):
        raise result.exception
    return result


def run_file(request: RunRequest, argv: Sequence[str] = ()) -> RunResult:
    """Execute a functional experiment file as ``__main__`` with ``request`` pending.

    ``argv``: command-line overrides the experiment parses against its parameters (``runlab
    run``'s); they are also the file's ``sys.argv[1:]``.

    Raises:
        ExperimentNotFoundError: the file makes no experiment that runs (no ``run_if_main()``).
    """
    from ._loader import exec_file
    from ._pending import PendingRequest, pending  # a plain script's run needs no pending request

    file = request.target.path
    assert file is not None
    waiting = PendingRequest(request, list(argv))
    try:
        with pending(waiting):
            exec_file(file, as_main=True, argv=[str(file), *argv])
    except BaseException as exc:
        if waiting.results and waiting.results[-1].exception is exc:
            return waiting.results[-1]
        raise
    if not waiting.claimed or not waiting.results:
        raise ExperimentNotFoundError(
            f"{file} defines no experiment that runs: end it with 'experiment.run_if_main()' (or run it as a script)."
        )
    return waiting.results[-1]


def run_config(request: RunRequest, argv: Sequence[str] = ()) -> RunResult:
    """Run a ``"config"`` target: the experiment its ``extend`` names, with the request's values.

    ``argv``: command-line overrides, parsed against the experiment's parameters.

    Raises:
        ValidationError, ConfigError, ParameterError: a bad config or value; no run exists.
    """
    from ..params import Config, load_spec
    from ._dispatch import file_kind
    from ._functional import Experiment

    path = request.target.path
    assert path is not None
    spec = load_spec(path)
    if spec.extend is None:
        raise ValidationError(
            f"{path} names no experiment: add 'extend: path/to/experiment.py' to it, or run "
            f"'runlab run EXPERIMENT.py -c {path}'."
        )
    if file_kind(spec.extend) != "functional":
        script = replace(request, target=Target("script", spec.extend))
        return execute(script)
    experiment = Experiment.from_spec(spec, Config(globals_dict=dict(request.params)), config_path=path)
    overrides = experiment.runner.typed({}, argv) if argv else {}
    return experiment.execute_request(replace(request, params=overrides))


def read_and_execute(path: str | Path) -> RunResult:
    """:func:`execute` the request in file ``path`` (see ``python -m runlab.execute``)."""
    return execute(RunRequest.read(path))
