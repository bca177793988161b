"""Branch and BranchContainer: marks, guarded second marks, timing, records."""

from __future__ import annotations

import itertools
import json

import pytest

from runlab.branch import Branch, BranchContainer, BranchStateError, BranchStatus, ExceptionInfo, output_summary
from runlab.errors import RunlabError

MARKS = {
    "success": lambda b: b.mark_success("out"),
    "failure": lambda b: b.mark_failure(ValueError("bad")),
    "skipped": lambda b: b.mark_skipped("not needed"),
    "cancelled": lambda b: b.mark_cancelled("exit"),
}


def test_a_new_branch_is_pending_with_a_start_and_no_duration() -> None:
    b = Branch.start("abc", {"x": 1})
    assert b.status is BranchStatus.PENDING and not b.done
    assert b.start_ts > 0 and b.end_ts is None and b.duration is None
    assert b.output is None and b.exception_info is None


@pytest.mark.parametrize(("first", "second"), list(itertools.product(MARKS, MARKS)))
def test_a_branch_is_marked_once(first: str, second: str) -> None:
    b = Branch.start("abc", {"x": 1})
    MARKS[first](b)
    status, output, info, end = b.status, b.output, b.exception_info, b.end_ts
    with pytest.raises(BranchStateError, match="already marked") as caught:
        MARKS[second](b)
    assert isinstance(caught.value, RunlabError) and isinstance(caught.value, RuntimeError)
    assert (b.status, b.output, b.exception_info, b.end_ts) == (status, output, info, end)


def test_success_records_output_and_times() -> None:
    b = Branch.start("abc", {"x": 1})
    b.mark_success({"answer": 42})
    assert b.status is BranchStatus.SUCCESS and b.output == {"answer": 42}
    assert b.duration is not None and b.duration >= 0
    assert b.end_ts is not None and b.end_ts >= b.start_ts


def _explode() -> None:
    raise KeyError("ünïcode ✓")


def test_failure_captures_type_message_and_traceback() -> None:
    b = Branch.start("abc", {})
    try:
        _explode()
    except KeyError as exc:
        b.mark_failure(exc)
    info = b.exception_info
    assert info is not None and b.status is BranchStatus.FAILED
    assert info.type == "KeyError" and "ünïcode ✓" in info.message
    assert "_explode" in info.traceback and "Traceback" in info.traceback
    assert json.loads(json.dumps(b.to_dict()))["exception"]["type"] == "KeyError"


def test_skip_and_cancel_keep_the_reason() -> None:
    s, c = Branch.start("a", {}), Branch.start("b", {})
    s.mark_skipped("budget")
    c.mark_cancelled("exit")
    assert s.exception_info == ExceptionInfo("Skipped", "budget")
    assert c.status is BranchStatus.CANCELLED and c.exception_info is not None and c.exception_info.message == "exit"


def test_to_dict_is_json_ready() -> None:
    b = Branch.start("abc", {"lr": 1.0, "tags": ("a", "b")}, role="background", call_id="7")
    b.mark_success(object())
    d = b.to_dict()
    assert set(d) == {"config_id", "config", "role", "call_id", "status", "start_ts", "end_ts", "duration", "output",
                      "exception"}  # fmt: skip
    assert d["config"] == {"lr": 1, "tags": ["a", "b"]} and d["role"] == "background" and d["call_id"] == "7"
    assert d["status"] == "success" and isinstance(d["output"], str)
    json.dumps(d)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (True, True),
        (1.0, 1),
        (float("nan"), "NaN"),
        ("short", "short"),
        ("x" * 5000, "x" * 1997 + "..."),
        ({"a": [1, 2]}, {"a": [1, 2]}),
        ([{"k": "v" * 3000}], None),  # too long as JSON: text, cut
        (b"bytes", "b'bytes'"),
    ],
)
def test_output_summary(value: object, expected: object) -> None:
    got = output_summary(value)
    if expected is None and value is not None:
        assert isinstance(got, str) and len(got) == 2000 and got.endswith("...")
    else:
        assert got == expected


def test_container_filters_and_lookups() -> None:
    a, b, c = Branch.start("aa11", {"x": 1}), Branch.start("bb22", {"x": 2}), Branch.start("ab33", {"x": 3})
    a.mark_success(1)
    b.mark_failure(ValueError("no"))
    box = BranchContainer([a, b, c])
    assert len(box) == 3 and list(box) == [a, b, c] and box[1] is b and list(box[1:]) == [b, c]
    assert box.successful() == [a] and box.failed() == [b] and box.pending() == [c]
    assert box.by_config_id("bb22") is b and box.by_config_id("bb") is b
    assert box.by_config_id("a") is None  # ambiguous prefix
    assert box.by_config_id("zz") is None
    assert box.outputs() == {"aa11": 1}
    assert [d["status"] for d in box.to_list()] == ["success", "failed", "pending"]
    assert "aa11:success" in repr(box)


def test_marks_race_from_threads_leave_exactly_one_winner() -> None:
    import threading

    for _ in range(20):
        b = Branch.start("abc", {})
        wins: list[str] = []
        barrier = threading.Barrier(4)

        def mark(name: str, b: Branch = b, wins: list[str] = wins, barrier: threading.Barrier = barrier) -> None:
            barrier.wait(timeout=30)
            try:
                MARKS[name](b)
                wins.append(name)
            except BranchStateError:
                pass

        threads = [threading.Thread(target=mark, args=(n,)) for n in MARKS]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and b.done
