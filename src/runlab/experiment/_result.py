"""What executing a run request gave: :class:`RunResult`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._valueclass import value_class
from ..errors import ValidationError
from ..store._status import RunStatus
from ._values import decode_value, encode_value

if TYPE_CHECKING:
    from ..lifecycle import Run

__all__ = ["RunResult", "record_result_metrics"]


@value_class
class RunResult:
    """What executing a request gave.

    Attributes:
        run_id: the run's ID (None when no run was created).
        status: the run's final state.
        folder: the run's folder.
        value: the experiment's return value (the main function's or the entry point's).
        error: ``"TypeError: message"`` when the run failed or was cancelled, else None.
        exception: the exception itself (in-process only; not serialised).
        run: the :class:`~runlab.Run` (in-process only; not serialised).
    """

    run_id: str | None
    status: RunStatus
    folder: Path | None
    value: Any = None
    error: str | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)
    run: Run | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, run: Run, value: Any = None, error: BaseException | None = None) -> RunResult:
        """The result of ``run`` (finished), its return ``value`` and the ``error`` it ended with."""
        summary = None
        if error is not None:
            summary = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        elif run.status != RunStatus.COMPLETED.value:
            recorded = run.metadata.get("error") or {}
            summary = f"{recorded.get('type') or run.status}: {recorded.get('message') or ''}".rstrip(": ")
        return cls(run.id, RunStatus(run.status), run.path, value, summary, error, run)

    def to_json(self) -> str:
        """The result as JSON (the value by the request's rule)."""
        return json.dumps(
            {
                "run_id": self.run_id,
                "status": self.status.value,
                "folder": str(self.folder) if self.folder is not None else None,
                "value": encode_value(self.value, "the result value"),
                "error": self.error,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> RunResult:
        """Read a result written by :meth:`to_json`.

        Raises:
            ValidationError: not a run result.
        """
        try:
            data = json.loads(text)
            return cls(
                run_id=data["run_id"],
                status=RunStatus(data["status"]),
                folder=Path(data["folder"]) if data.get("folder") else None,
                value=decode_value(data.get("value"), "the result value"),
                error=data.get("error"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(f"Not a run result: {type(exc).__name__}: {exc}.") from None


def record_result_metrics(run: Run, result: Any) -> None:
    """A numeric result (or a dict's numeric values) also as metrics ``result`` (``result/KEY``).

    So it can be listed, sorted, filtered and compared like any metric
    (``runlab list --sort -metrics.result``); a name the script logged itself is left alone.
    """

    def number(value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    items = {"result": result} if number(result) else {}
    if isinstance(result, Mapping):
        items = {f"result/{k}": v for k, v in result.items() if isinstance(k, str) and k.strip() and number(v)}
    for name, value in items.items():
        if name not in run._metric_names:
            try:
                run.log_metric(name, value)
            except Exception:  # an odd key: the result stays in data.json
                pass
