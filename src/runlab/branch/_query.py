"""Reading branches back: session runs through the index, branch rows from their logs."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..store import RunRecord, RunSet, Store, get_store
from ..store._files import loads
from ._branch import BranchStatus
from ._store_logger import BRANCH_LOG, BRANCH_TAG

__all__ = ["iter_branches", "read_branches", "sessions"]

_STATUSES = tuple(s.value for s in BranchStatus)


def sessions(function: str | None = None, root: str | os.PathLike[str] | Store | None = None,
             status: str | Iterable[str] | None = None) -> RunSet:  # fmt: skip
    """The session runs of the store (one per decorated function and process), oldest first.

    Args:
        function: only this function's sessions: its ``module.qualname``, or a glob such as
            ``"*.generate"``.
        root: the store.
        status: run statuses (``running`` while the process lives, then ``completed``).

    Example:
        >>> import tempfile
        >>> len(sessions(root=tempfile.mkdtemp()))
        0
    """
    if function is not None and not isinstance(function, str):
        raise UsageError(f"Invalid function {function!r}: expected a function's module.qualname or a glob such as "
                         "'*.answer'.")  # fmt: skip
    where = None
    if function:
        quoted = function.replace("\\", "\\\\").replace("'", "\\'")
        where = f"experiment == '{quoted}'"
        if any(c in function for c in "*?["):
            return _glob(function, root, status)
    return get_store(root).runs(where=where, tags=BRANCH_TAG, status=status)


def _glob(pattern: str, root: str | os.PathLike[str] | Store | None, status: str | Iterable[str] | None) -> RunSet:
    import fnmatch

    store = get_store(root)
    every = store.runs(tags=BRANCH_TAG, status=status)
    keep = [r.id for r in every if r.experiment and fnmatch.fnmatchcase(r.experiment, pattern)]
    if not keep:
        return RunSet([], store.root)
    return store.runs(where="id in [" + ", ".join(f"'{i}'" for i in keep) + "]", tags=BRANCH_TAG)


def _folder(session: RunRecord | Any, root: str | os.PathLike[str] | Store | None) -> Path:
    if isinstance(session, (str, bytes)):
        session = get_store(root).load(str(session))
    path = getattr(session, "path", None)
    if path is None:
        raise UsageError(f"Not a session run: {session!r}. Give a run record from runlab.branch.sessions(), a run "
                         "or a run ID.")  # fmt: skip
    return Path(path)


def iter_branches(
    session: RunRecord | Any, root: str | os.PathLike[str] | Store | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the branch rows of a session run's log, oldest first.

    A torn last line (being written) is skipped; damaged lines (not JSON, or not a branch row)
    are skipped with a :class:`~runlab.store.RunlabWarning` naming the file and the lines.
    """
    return _rows(_folder(session, root))


def _is_row(row: Any) -> bool:
    """True for a branch row with the fields and types the readers rely on."""
    return (isinstance(row, dict) and isinstance(row.get("config_id"), str) and row.get("status") in _STATUSES
            and isinstance(row.get("role"), str) and isinstance(row.get("call_id"), str)
            and (row.get("duration") is None or isinstance(row["duration"], (int, float)))
            and (row.get("exception") is None or isinstance(row["exception"], dict)))  # fmt: skip


def _rows(folder: Path) -> Iterator[dict[str, Any]]:
    path = folder / BRANCH_LOG
    if not path.is_file():
        if _is_session(folder):  # created a moment ago: its log comes right after the run
            return
        raise UsageError(f"Run folder {path.parent} has no {BRANCH_LOG}: it is not a branch session run. "
                         "Find session runs with runlab.branch.sessions() or 'runlab branch list'.")  # fmt: skip
    damaged: list[int] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.endswith(b"\n"):
                break  # being written
            try:
                row = loads(line)
            except ValueError:
                row = None
            if _is_row(row):
                yield row
            else:
                damaged.append(number)
    if damaged:
        import warnings

        from ..store import RunlabWarning

        shown = ", ".join(map(str, damaged[:5])) + (", ..." if len(damaged) > 5 else "")
        warnings.warn(f"Skipped {len(damaged)} damaged line(s) of {path} (line {shown}): not branch rows.",
                      RunlabWarning, stacklevel=2)  # fmt: skip


def _is_session(folder: Path) -> bool:
    from ..store._files import read_json

    try:
        return BRANCH_TAG in (read_json(folder / "run.json").get("tags") or [])
    except (OSError, ValueError, AttributeError):
        return False


def read_branches(session: RunRecord | Any, root: str | os.PathLike[str] | Store | None = None, *,
                  status: str | Iterable[str] | None = None, config_id: str | None = None,
                  with_config: bool = True) -> list[dict[str, Any]]:  # fmt: skip
    """The branch rows of a session run, filtered by status and config id (a prefix works).

    Args:
        session: a run record (from :func:`sessions` or :func:`runlab.runs`), a ``Run``, or a
            run ID / name.
        root: the store, when ``session`` is an ID.
        status: one status or several (``success``, ``failed``, ``skipped``, ``cancelled``).
        config_id: only branches of this config (id or unique prefix).
        with_config: add each row's ``config`` from the session's config table.

    Raises:
        UsageError: an unknown status, or a run that is not a session run.
    """
    wanted = None
    if status is not None:
        wanted = {status} if isinstance(status, str) else set(status)
        bad = sorted(wanted - set(_STATUSES))
        if bad:
            raise UsageError(f"Invalid branch status {bad[0]!r}; valid statuses: {', '.join(_STATUSES)}.")
    folder = _folder(session, root)
    rows = [r for r in _rows(folder)
            if (wanted is None or r["status"] in wanted)
            and (config_id is None or str(r["config_id"]).startswith(config_id))]  # fmt: skip
    if with_config and rows:
        from ..store._files import read_json

        try:
            params = read_json(folder / "run.json").get("params")
            table = params["configs"]["value"]
        except (OSError, ValueError, AttributeError, KeyError, TypeError):  # damaged, or a pool JSON cannot hold
            table = None
        for row in rows:
            row["config"] = table.get(row["config_id"]) if isinstance(table, dict) else None
    return rows
