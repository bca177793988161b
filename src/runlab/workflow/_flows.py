"""Workflows (KohakuEngine flows): ``Sequential``, ``Parallel`` and ``Pipeline`` on any executor.

A workflow is a set of :class:`Step`\\ s with dependencies. Steps whose dependencies completed run
(on the executor, several at once where it has workers); a step that fails skips the steps that
depend on it. Every run records the ``workflow`` id and its step name (``trial``); the workflow
record under ``<root>/.runlab/workflows/`` links the runs. A step reads its dependencies' runs
with :func:`inputs`.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..errors import UsageError, ValidationError
from ..executors import Executor, RunRequest, RunResult, get_executor
from ._graph import Step, order_steps
from ._record import StepRecord, WorkflowRecord, load_workflow

__all__ = ["Parallel", "Pipeline", "Sequential", "Workflow", "inputs"]

#: Seconds a workflow whose loop raised waits for its cancelled runs' results before it ends ``failed``.
ABANDON_WAIT = 30.0


def _as_script(item: Any) -> Any:
    from ..experiment import Script

    if isinstance(item, Script):
        return item
    if isinstance(item, (str, os.PathLike)):
        return Script(item)
    raise ValidationError(f"Invalid workflow step {item!r}: give a runlab.Script or the path of a .py file.")


def _unique_names(scripts: Sequence[Any]) -> list[str]:
    names: list[str] = []
    for script in scripts:
        base = Path(str(script.file)).stem
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return names


class Workflow:
    """Steps with dependencies, run in dependency order on an executor.

    Args:
        steps: the :class:`Step`\\ s.
        root: the store (default: as for every run).
        executor: ``"inline"``, ``"local"``, ``"dask"`` or an :class:`~runlab.executors.Executor`.
        workers: runs at a time (``local``/``dask``).
        name: the workflow's name in its record.

    After :meth:`run`, :attr:`record` is the :class:`WorkflowRecord` and :attr:`results` maps each
    step to its runs' results.
    """

    kind = "pipeline"

    def __init__(self, steps: Sequence[Step], *, root: str | os.PathLike[str] | None = None,
                 executor: str | Executor = "inline", workers: int | None = None, name: str | None = None,
                 fork: bool = True) -> None:  # fmt: skip
        if not isinstance(executor, (str, Executor)):
            raise ValidationError(f"Invalid executor {executor!r}: give a name (inline, local, dask) or an Executor.")
        self._order = order_steps(steps)  # before taking them: a refused step leaves the workflow as it was
        self.steps = list(steps)
        self.root = root
        self.executor = executor
        self.workers = workers
        self.name = name
        self.fork = fork
        self.record: WorkflowRecord | None = None
        self.results: dict[str, list[RunResult]] = {}

    def validate(self) -> bool:
        """Check the steps (names, dependencies, no cycle); True, or raises :class:`ValidationError`."""
        order_steps(self.steps)
        return True

    def _executor(self) -> Executor:
        if isinstance(self.executor, Executor):
            return self.executor
        options: dict[str, Any] = {}
        if self.workers is not None and self.executor != "inline":
            options["workers"] = self.workers
        if self.executor == "local" and not self.fork:
            options["fork"] = False
        return get_executor(self.executor, **options)

    def _requests(self, step: Step, workflow_id: str, store_root: Path) -> Iterator[RunRequest]:
        from ..experiment import ScriptExecutor
        from ..experiment._script import _configs

        script = step.script
        runner = ScriptExecutor(script, root=store_root, links={"workflow": workflow_id, "trial": step.name})
        configs, _ = _configs(script.config)
        for config in configs:
            request = runner.request(config, via=f"workflow {self.kind}")
            if step.arguments:  # the entry point's arguments, given by name and recorded, as runlab run does
                target = replace(request.target, kwargs={**request.target.kwargs, **step.arguments})
                request = replace(request, target=target, recorded={**request.recorded, **step.arguments})
            yield request

    def run(self) -> list[RunResult]:
        """Run the workflow; the results of every run, step by step (in the steps' order).

        Once its record is written, ``workflow ID started (runlab workflow show ID)`` goes to
        stderr, so the id is known even when this process is killed before the workflow ends.

        Raises:
            KeyboardInterrupt: after Ctrl-C cancelled the running runs (the record says cancelled).
            Exception: whatever else stopped the workflow (an executor's error, a record it could not
                write), after the running runs were cancelled; the record says failed, with the error.
        """
        from ..store import get_store

        if not self.steps:
            raise ValidationError("A workflow needs at least one step.")
        store_root = get_store(self.root).root
        owned = not isinstance(self.executor, Executor)
        executor = self._executor()  # an unknown executor or a bad worker count is refused before the record exists
        try:
            record = WorkflowRecord(store_root, self.kind, {s.name: StepRecord(list(s.after)) for s in self.steps},
                                    self.name)  # fmt: skip
            self.record = record
            self.results = {name: [] for name in self._order}
            with record.beating():  # a driver that dies leaves a record that reads crashed
                print(f"workflow {record.id} started (runlab workflow show {record.id})", file=sys.stderr, flush=True)
                self._loop(executor, record, store_root)
        finally:
            if owned:
                executor.close()
        return [r for name in self._order for r in self.results[name]]

    def _loop(self, executor: Executor, record: WorkflowRecord, store_root: Path) -> None:
        by_name = {s.name: s for s in self.steps}
        dependents: dict[str, list[str]] = {s.name: [] for s in self.steps}
        for s in self.steps:
            for dep in dict.fromkeys(s.after):
                dependents[dep].append(s.name)
        iters: dict[str, Iterator[RunRequest]] = {}
        outstanding: dict[str, int] = {name: 0 for name in by_name}
        futures: dict[cf.Future[RunResult], str] = {}
        ended: list[str] = []  # steps that ended, whose dependents are still to start or skip

        def submit_next(name: str) -> bool:
            try:
                request = next(iters[name])
            except StopIteration:
                return False
            except UsageError as exc:  # a bad config of this step: it fails, its dependents are skipped
                record.steps[name].error = str(exc)
                record.steps[name].state = "failed"
                return False
            outstanding[name] += 1
            executor.submit_to(futures, name, request)  # Ctrl-C inside it: the run is in futures all the same
            return True

        def start(name: str) -> None:
            record.steps[name].state = "running"
            iters[name] = self._requests(by_name[name], record.id, store_root)
            if by_name[name].lazy:
                submit_next(name)
            else:
                while submit_next(name):
                    pass
            if outstanding[name] == 0:
                ended.append(name)

        def settle() -> None:
            """Start or skip the dependents of the steps that ended (a work list: any depth, no recursion)."""
            while ended:
                name = ended.pop()
                step = record.steps[name]
                if step.state == "running":
                    step.state = "completed"
                if step.state != "skipped":
                    record.save()  # a dependent reads this step's runs through runlab.inputs()
                for child in dependents[name]:
                    deps = [record.steps[d].state for d in by_name[child].after]
                    if record.steps[child].state != "pending":
                        continue
                    if all(s == "completed" for s in deps):
                        start(child)
                    elif any(s in ("failed", "skipped", "cancelled") for s in deps):
                        record.steps[child].state = "skipped"
                        record.steps[child].error = f"skipped: step {name!r} did not complete"
                        ended.append(child)

        try:
            for name in self._order:
                if not by_name[name].after and record.steps[name].state == "pending":
                    start(name)
            settle()
            record.save()
            while futures:
                done, _ = cf.wait(list(futures), return_when=cf.FIRST_COMPLETED)
                for future in done:
                    name = futures.pop(future)
                    outstanding[name] -= 1
                    self._note(record.steps[name], self.results[name], future.result())
                    step = record.steps[name]
                    if step.state == "running" and by_name[name].lazy and submit_next(name):
                        continue
                    if outstanding[name] == 0:
                        ended.append(name)
                        settle()
                record.save()
        except KeyboardInterrupt:
            executor.cancel()
            for future, name in futures.items():
                self._note(record.steps[name], self.results[name], future.result())
            for step in record.steps.values():
                if step.state in ("pending", "running"):
                    step.state = "cancelled"
            self._close(record, "cancelled")
            raise
        except Exception as exc:  # the executor's, a record it could not write: the record says failed, not running
            self._abandon(executor, record, futures, exc)
            raise
        states = {s.state for s in record.steps.values()}
        self._close(record, "completed" if states == {"completed"} else "failed")

    def _abandon(self, executor: Executor, record: WorkflowRecord, futures: dict[cf.Future[RunResult], str],
                 exc: Exception) -> None:  # fmt: skip
        """After ``exc`` stopped the loop: cancel the running runs (as Ctrl-C does), note the results that
        come back, and end the record ``failed`` with the error, so it does not read ``running`` until
        its heartbeat is stale while this process goes on. A failure here goes to stderr (the caller
        raises ``exc`` after)."""
        error = f"{type(exc).__name__}: {exc}"
        try:
            executor.cancel()
            done, _ = cf.wait(list(futures), timeout=ABANDON_WAIT)  # a broken executor may never answer
            for future, name in futures.items():
                if future in done and not future.cancelled() and future.exception() is None:
                    self._note(record.steps[name], self.results[name], future.result())
        except Exception as more:
            print(f"runlab: cancelling workflow {record.id}'s runs failed too: {type(more).__name__}: {more}",
                  file=sys.stderr)  # fmt: skip
        for step in record.steps.values():
            if step.state in ("pending", "running"):
                step.state = "cancelled"
        record.error = error
        try:
            self._close(record, "failed")
        except Exception as more:
            print(f"runlab: writing workflow record {record.path} failed too: {type(more).__name__}: {more}",
                  file=sys.stderr)  # fmt: skip

    @staticmethod
    def _note(step: StepRecord, results: list[RunResult], result: RunResult) -> None:
        results.append(result)
        if result.run_id:
            step.runs.append(result.run_id)
        if result.status != "completed" and step.state == "running":
            step.state = "cancelled" if result.status == "cancelled" else "failed"
            step.error = result.error

    @staticmethod
    def _close(record: WorkflowRecord, state: str) -> None:
        record.state = state
        record.ended = time.time()
        record.save()

    @property
    def ok(self) -> bool:
        """True after a run in which every step completed."""
        return self.record is not None and self.record.state == "completed"


class Sequential(Workflow):
    """Scripts one after another; a generator config is iterated lazily (the next config after the run).

    A failed run stops the workflow: the following scripts are skipped.

    Example:
        >>> import pathlib, tempfile
        >>> from runlab import Script
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.py").write_text("def main():\\n    return 1\\n")
        >>> flow = Sequential([Script(d / "a.py"), Script(d / "a.py")], root=d / "runs")
        >>> [r.value for r in flow.run()], list(flow.record.steps)
        ([1, 1], ['a', 'a-2'])
    """

    kind = "sequential"

    def __init__(self, scripts: Sequence[Any], **options: Any) -> None:
        scripts = [_as_script(s) for s in scripts]
        names = _unique_names(scripts)
        steps = [Step(n, s, [names[i - 1]] if i else []) for i, (n, s) in enumerate(zip(names, scripts, strict=True))]
        super().__init__(steps, **options)


class Parallel(Workflow):
    """Scripts (and every config of each) at the same time, ``max_workers`` at once, each in its own process.

    Args:
        scripts: :class:`runlab.Script` objects or paths.
        max_workers: runs at a time (default: the number of CPUs).
        mode: ``"subprocess"`` (a fresh interpreter per run, full isolation) or ``"pool"``
            (processes forked from a warm pool process; faster to start).
        executor: run on another executor instead (``"dask"``).
    """

    kind = "parallel"

    def __init__(self, scripts: Sequence[Any], max_workers: int | None = None, mode: str = "subprocess",
                 use_subprocess: bool | None = None, **options: Any) -> None:  # fmt: skip
        if use_subprocess is not None:  # KohakuEngine's spelling
            mode = "subprocess" if use_subprocess else "pool"
        if mode not in ("subprocess", "pool"):
            raise ValidationError(f"Invalid mode {mode!r} for Parallel: use 'subprocess' or 'pool'.")
        scripts = [_as_script(s) for s in scripts]
        steps = [Step(n, s, lazy=False) for n, s in zip(_unique_names(scripts), scripts, strict=True)]
        options.setdefault("executor", "local")
        workers = max_workers if max_workers is not None else os.cpu_count() or 1  # 0 is refused, not the default
        super().__init__(steps, workers=workers, fork=mode == "pool", **options)


class Pipeline(Workflow):
    """Steps that depend on earlier steps, in dependency order, on any executor.

    Build it from :class:`Step`\\ s, or a mapping of step name to a script or ``(script, [deps])``,
    or add steps with :meth:`step`. A step reads its dependencies' runs with :func:`inputs`.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "prep.py").write_text("def main():\\n    return 1\\n")
        >>> pipe = Pipeline(root=d / "runs")
        >>> prep = pipe.step("prep", d / "prep.py")
        >>> train = pipe.step("train", d / "prep.py", after=[prep])
        >>> [r.value for r in pipe.run()], pipe.record.steps["train"].after
        ([1, 1], ['prep'])
    """

    kind = "pipeline"

    def __init__(self, steps: Sequence[Step] | Mapping[str, Any] | None = None, **options: Any) -> None:
        self._options = options
        made: list[Step] = []
        if isinstance(steps, Mapping):
            for name, value in steps.items():
                if isinstance(value, tuple) and len(value) != 2:
                    raise ValidationError(
                        f"Invalid step {name!r}: {value!r}; give a script or (script, [dependencies])."
                    )
                script, after = value if isinstance(value, tuple) else (value, [])
                made.append(Step(name, _as_script(script), after))
        else:
            made = [replace(s, script=_as_script(s.script)) for s in steps or []]
        super().__init__(made, **options)

    def step(self, name: str, script: Any, after: Sequence[str | Step] = ()) -> Step:
        """Add a step; returns it (pass it in another step's ``after``)."""
        new = Step(name, _as_script(script), after)  # type: ignore[arg-type]
        super().__init__([*self.steps, new], **self._options)
        return new


def inputs(run: Any = None) -> dict[str, Any]:
    """The runs of the current workflow step's dependencies: ``{step name: RunRecord}`` (the step's last run).

    Read a dependency's result with ``inputs()["prep"].data["result"]``, its files with
    ``.artifact("model.pt")``, its metrics with ``.summaries``.

    Raises:
        UsageError: not inside a run of a workflow step.
    """
    from ..experiment._current import current_run
    from ..store import get_store

    run = run or current_run()
    meta = run.metadata
    workflow, step = meta.get("workflow"), meta.get("trial")
    if not workflow or step is None:
        raise UsageError("runlab.inputs() reads a workflow step's dependencies; this run is not a workflow step.")
    store = get_store(run.store)
    record = load_workflow(store.root, workflow)
    deps = record.steps[str(step)].after if str(step) in record.steps else []
    return {dep: store.load(record.steps[dep].runs[-1]) for dep in deps if record.steps[dep].runs}
