"""One config's execution (:class:`Branch`) and the branches of one call (:class:`BranchContainer`)."""

from __future__ import annotations

import enum
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import field
from typing import Any, overload

from .._valueclass import value_class
from ._errors import BranchStateError

__all__ = ["Branch", "BranchContainer", "BranchStatus", "ExceptionInfo", "output_summary"]

OUTPUT_LIMIT = 2000
"""Characters of an output's text kept by :func:`output_summary` (records of the logger backends)."""


class BranchStatus(str, enum.Enum):
    """Where a branch stands. ``pending`` until it is marked; every other state is final.

    ``cancelled`` is a background branch still running when the process (or its event loop)
    ended: it was waited for a bounded time, then given up.
    """

    PENDING = "pending"
    SUCCESS = "success"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


@value_class(frozen=True)
class ExceptionInfo:
    """What a failed branch raised: the exception's type name, message and formatted traceback.

    Example:
        >>> try:
        ...     1 / 0
        ... except ZeroDivisionError as exc:
        ...     info = ExceptionInfo.of(exc)
        >>> info.type, info.message
        ('ZeroDivisionError', 'division by zero')
    """

    type: str
    message: str
    traceback: str = ""

    @classmethod
    def of(cls, exc: BaseException) -> ExceptionInfo:
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(type(exc).__name__, _utf8(_text(exc, str)), _utf8(text))

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}


def _text(value: Any, show: Callable[[Any], str] = repr) -> str:
    """``show(value)``, or a placeholder when that raises (a broken ``__repr__``, an int too long for text)."""
    try:
        return show(value)
    except Exception as exc:
        return f"<{type(value).__name__} object: {getattr(show, '__name__', 'repr')}() failed: {type(exc).__name__}>"


def _utf8(text: str) -> str:
    """``text``, with lone surrogates (undecodable bytes of file names) escaped so that UTF-8 JSON can hold it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def output_summary(value: Any, limit: int = OUTPUT_LIMIT) -> Any:
    """A JSON-ready summary of a branch's output: small JSON values as they are, anything else as text.

    Text longer than ``limit`` characters is cut and ends with ``...``. Whatever the value, the
    summary can be written as JSON: integers beyond 64 bits become text, and lone surrogates in
    strings are escaped.

    Example:
        >>> output_summary({"answer": 42}), output_summary("x" * 10, limit=6), output_summary(object)
        ({'answer': 42}, 'xxx...', "<class 'object'>")
        >>> output_summary(10**20)
        '100000000000000000000'
    """
    from ..params import canonical

    if value is None or isinstance(value, (bool, float)) or (isinstance(value, int) and -(2**63) <= value < 2**64):
        return canonical(value)
    if isinstance(value, str):
        return _utf8(value if len(value) <= limit else value[: limit - 3] + "...")
    if isinstance(value, (dict, list, tuple)) or hasattr(value, "model_dump"):
        from ..store._files import dumps

        try:
            summary = canonical(value)
            text: str | None = dumps(summary, indent=False).decode("utf-8")
        except Exception:  # beyond JSON (integers over 64 bits, lone surrogates), or a value that fails
            text = None
        if text is not None and len(text) <= limit:
            return summary
    text = _utf8(_text(value, str if isinstance(value, int) else repr))
    return text if len(text) <= limit else text[: limit - 3] + "..."


@value_class(eq=False)
class Branch:
    """One config's execution inside a branched call.

    A branch starts ``pending`` and is marked exactly once: :meth:`mark_success`,
    :meth:`mark_failure`, :meth:`mark_skipped` or :meth:`mark_cancelled`; a second mark raises
    :class:`~runlab.branch.BranchStateError`. Marking is thread-safe.

    Attributes:
        config_id: the config's stable id (:func:`runlab.params.config_id`).
        config: the config as the function received it (a dict or a pydantic model).
        role: ``"primary"`` (its result reaches the caller), ``"background"`` (Shadow's other
            configs) or ``"branch"`` (one of MultiBranch's configs).
        call_id: the id shared by the branches of one call.
        start_ts, end_ts: start and end as epoch seconds (``end_ts`` is None while pending).
        status: a :class:`BranchStatus`.
        output: the function's return value (success only).
        exception_info: type, message and traceback of a failure, or the reason of a skip or cancel.

    Example:
        >>> b = Branch.start("3f2a9c01d4e5", {"temperature": 0.2})
        >>> b.mark_success("hello")
        >>> b.status, b.output, b.duration is not None
        (<BranchStatus.SUCCESS: 'success'>, 'hello', True)
        >>> b.mark_failure(RuntimeError("again"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        runlab.branch._errors.BranchStateError: Branch 3f2a9c01d4e5 is already marked 'success'; ...
    """

    config_id: str
    config: Any
    role: str = "primary"
    call_id: str = ""
    start_ts: float = field(default_factory=time.time)
    end_ts: float | None = None
    status: BranchStatus = BranchStatus.PENDING
    output: Any = None
    exception_info: ExceptionInfo | None = None
    _t0: float = field(default_factory=time.perf_counter, repr=False)
    _elapsed: float | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(cls, config_id: str, config: Any, role: str = "primary", call_id: str = "") -> Branch:
        """A new pending branch, started now."""
        return cls(config_id, config, role, call_id)

    @property
    def duration(self) -> float | None:
        """Seconds from start to the mark (a monotonic clock), or None while pending."""
        return self._elapsed

    @property
    def done(self) -> bool:
        """True once the branch is marked."""
        return self.status is not BranchStatus.PENDING

    def _finish(self, status: BranchStatus, output: Any = None, info: ExceptionInfo | None = None) -> None:
        with self._lock:
            if self.status is not BranchStatus.PENDING:
                raise BranchStateError(
                    f"Branch {self.config_id} is already marked {self.status.value!r}; a branch is marked once."
                )
            self._elapsed = time.perf_counter() - self._t0
            self.end_ts = time.time()
            self.output = output
            self.exception_info = info
            self.status = status

    def mark_success(self, output: Any = None) -> None:
        """Record the function's return value."""
        self._finish(BranchStatus.SUCCESS, output)

    def mark_failure(self, exc: BaseException) -> None:
        """Record an exception (type, message, traceback)."""
        self._finish(BranchStatus.FAILED, info=ExceptionInfo.of(exc))

    def mark_skipped(self, reason: str = "") -> None:
        """Record that the branch did not run (``reason`` is kept as the message)."""
        self._finish(BranchStatus.SKIPPED, info=ExceptionInfo("Skipped", reason))

    def mark_cancelled(self, reason: str = "") -> None:
        """Record that the branch was given up before it finished (at exit, or its event loop closed)."""
        self._finish(BranchStatus.CANCELLED, info=ExceptionInfo("Cancelled", reason))

    def to_dict(self, output_limit: int | None = OUTPUT_LIMIT) -> dict[str, Any]:
        """A JSON-ready record: ids, config, role, status, times, output summary and exception info.

        ``output_limit=None`` keeps the output object itself instead of its summary.
        """
        from ..params import canonical

        return {
            "config_id": self.config_id,
            "config": canonical(self.config),
            "role": self.role,
            "call_id": self.call_id,
            "status": self.status.value,
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "duration": self.duration,
            "output": self.output if output_limit is None else output_summary(self.output, output_limit),
            "exception": self.exception_info.to_dict() if self.exception_info else None,
        }


class BranchContainer(Sequence[Branch]):
    """The branches of one call, in config order (MultiBranch's return value).

    Example:
        >>> a, b = Branch.start("a1", {"x": 1}), Branch.start("b2", {"x": 2})
        >>> a.mark_success(1); b.mark_failure(ValueError("bad"))
        >>> c = BranchContainer([a, b])
        >>> [x.config_id for x in c.successful()], [x.config_id for x in c.failed()], c.by_config_id("b2") is b
        (['a1'], ['b2'], True)
    """

    def __init__(self, branches: Sequence[Branch] = ()) -> None:
        self._branches = list(branches)

    @overload
    def __getitem__(self, index: int) -> Branch: ...
    @overload
    def __getitem__(self, index: slice) -> BranchContainer: ...
    def __getitem__(self, index: int | slice) -> Branch | BranchContainer:
        if isinstance(index, slice):
            return BranchContainer(self._branches[index])
        return self._branches[index]

    def __len__(self) -> int:
        return len(self._branches)

    def __iter__(self) -> Iterator[Branch]:
        return iter(self._branches)

    def __repr__(self) -> str:
        inner = ", ".join(f"{b.config_id}:{b.status.value}" for b in self._branches)
        return f"BranchContainer([{inner}])"

    def successful(self) -> list[Branch]:
        """The branches marked success."""
        return [b for b in self._branches if b.status is BranchStatus.SUCCESS]

    def failed(self) -> list[Branch]:
        """The branches marked failed."""
        return [b for b in self._branches if b.status is BranchStatus.FAILED]

    def pending(self) -> list[Branch]:
        """The branches not marked yet (background branches still running)."""
        return [b for b in self._branches if b.status is BranchStatus.PENDING]

    def by_config_id(self, config_id: str) -> Branch | None:
        """The branch of a config id (a unique prefix also matches), or None."""
        for b in self._branches:
            if b.config_id == config_id:
                return b
        matches = [b for b in self._branches if b.config_id.startswith(config_id)] if config_id else []
        return matches[0] if len(matches) == 1 else None

    def outputs(self) -> dict[str, Any]:
        """``{config_id: output}`` of the successful branches."""
        return {b.config_id: b.output for b in self.successful()}

    def to_list(self) -> list[dict[str, Any]]:
        """Every branch's :meth:`Branch.to_dict`."""
        return [b.to_dict() for b in self._branches]
