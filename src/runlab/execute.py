"""``python -m runlab.execute REQUEST_FILE [--result RESULT_FILE]``: run a run request in this process.

What executors call in a fresh process (a local worker, a Dask worker, a SLURM job): the
request written with :meth:`runlab.request.RunRequest.write` gives the same run as
``runlab.execute(request)`` in the process that built it.

Prints ``run ID STATE FOLDER`` and exits 0 when the run completed, 1 when it failed, 130
when it was cancelled, 2 for a bad request (one line on stderr; no run). With ``--result``
the :class:`~runlab.request.RunResult` is written there as JSON (also when the run failed);
when that file cannot be written the run is still recorded and the exit code is at least 1.

This module is also importable as ``runlab.execute``, and calling it runs a request, so
``runlab.execute(request)`` works whether the name resolves to the function or to this
module.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .experiment._execute import execute
from .experiment._request import RunRequest, RunResult

__all__ = ["execute", "main"]

_USAGE = "usage: python -m runlab.execute REQUEST_FILE [--result RESULT_FILE]"
_EXIT = {"completed": 0, "failed": 1, "cancelled": 130}


def _args(argv: list[str]) -> tuple[Path, Path | None]:
    if argv in ([], ["-h"], ["--help"]):
        print(__doc__.split("\n\n")[0] if __doc__ else _USAGE)
        print(_USAGE)
        raise SystemExit(0 if argv else 2)
    request, result, rest = argv[0], None, argv[1:]
    if rest and rest[0].startswith("--result"):
        if rest[0] == "--result" and len(rest) > 1:
            result, rest = rest[1], rest[2:]
        elif rest[0].startswith("--result="):
            result, rest = rest[0].split("=", 1)[1], rest[1:]
    if rest or request.startswith("-"):
        print(f"error: unexpected argument {(rest or [request])[0]!r}. {_USAGE}", file=sys.stderr)
        raise SystemExit(2)
    return Path(request), Path(result) if result else None


def main(argv: list[str] | None = None) -> int:
    """Run the request file named in ``argv``; returns the exit code."""
    from .errors import UsageError
    from .lifecycle import add_listener

    request_file, result_file = _args(list(sys.argv[1:] if argv is None else argv))
    created: list[Any] = []

    def collect(event: str, run: Any, **data: Any) -> None:
        if event == "run_state_changed" and data.get("old") is None:
            created.append(run)

    remove = add_listener(collect)
    try:
        request = RunRequest.read(request_file)
        result = execute(request)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        if not created:
            return 130
        result = RunResult.of(created[-1], None, exc)
    finally:
        remove()
    if result.exception is not None and not isinstance(result.exception, KeyboardInterrupt):
        from .experiment._traceback import print_user_traceback

        print_user_traceback(result.exception)
    if result_file is not None:
        try:
            result_file.write_text(result.to_json(), encoding="utf-8")
        except (OSError, UsageError) as exc:  # the run is recorded; say why its result file is not
            print(f"error: cannot write the result to {result_file}: {exc}", file=sys.stderr)
            print(f"run {result.run_id} {result.status.value:<9} {result.folder}", flush=True)
            return _EXIT.get(result.status.value, 1) or 1
    print(f"run {result.run_id} {result.status.value:<9} {result.folder}", flush=True)
    return _EXIT.get(result.status.value, 1)


class _CallableModule(ModuleType):
    """This module, callable as :func:`execute` (``runlab.execute`` may resolve to either)."""

    def __call__(self, request: RunRequest, *, raise_errors: bool = False) -> RunResult:
        return execute(request, raise_errors=raise_errors)


if __name__ == "__main__":
    sys.exit(main())
else:
    sys.modules[__name__].__class__ = _CallableModule
