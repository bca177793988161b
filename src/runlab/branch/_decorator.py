"""``@branch``: run a function over a config pool with a strategy, recording every branch."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import itertools
import os
import sys
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..errors import ValidationError
from . import _background as bg
from . import registry
from ._branch import Branch, BranchContainer
from ._configs import BranchConfig, ConfigSource, resolve_configs
from ._errors import LoggerClosedError, StrategyError
from ._fork import reinit_locks, reset_in_child
from ._logger_specs import resolve_logger
from ._loggers import BranchSession, LoggerBackend
from ._strategies import Plan, Strategy, check_strategy

__all__ = ["Branching", "branch"]

F = TypeVar("F", bound=Callable[..., Any])


def _qualname(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", None) or type(fn).__qualname__)


def _model_of(annotation: Any) -> type | None:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and hasattr(candidate, "model_validate"):
            return candidate
    return None


def _target(fn: Callable[..., Any]) -> tuple[str, type | None, int | None]:
    """The parameter that receives the config, its pydantic model (or None) and its position."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:  # builtins and classes implemented in C
        raise ValidationError(f"@branch cannot read the parameters of {_qualname(fn)} ({exc}); decorate a Python "
                              "function that has a parameter named 'config'.") from None  # fmt: skip
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # unresolvable string annotations: use them as written
        hints = {}
    params = list(sig.parameters.values())
    chosen = sig.parameters.get("config")
    if chosen is None:
        chosen = next((p for p in params if _model_of(hints.get(p.name, p.annotation)) is not None), None)
    if chosen is None:
        raise ValidationError(f"{_qualname(fn)}() has no parameter to receive its config: add a parameter named "
                              "'config', or one annotated with a pydantic model (settings: MyModel).")  # fmt: skip
    if chosen.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL,
                       inspect.Parameter.VAR_KEYWORD):  # fmt: skip
        raise ValidationError(f"{_qualname(fn)}(): the config parameter {chosen.name!r} must accept a keyword "
                              "argument (not positional-only, *args or **kwargs).")  # fmt: skip
    position = None
    if chosen.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
        position = [p.name for p in params].index(chosen.name)
    return chosen.name, _model_of(hints.get(chosen.name, chosen.annotation)), position


def _strategy(spec: Any) -> tuple[Strategy, str]:
    if isinstance(spec, str):
        obj = registry.get(spec)
        return obj, str(getattr(obj, "name", None) or spec)
    if isinstance(spec, type):
        if not callable(getattr(spec, "plan", None)):
            check_strategy(spec, f"class {spec.__name__}")
        try:
            made = spec()
        except TypeError as exc:
            raise StrategyError(f"Cannot make strategy {spec.__name__}() without arguments ({exc}); pass an "
                                f"object instead, e.g. strategy={spec.__name__}(...).") from None  # fmt: skip
        obj = check_strategy(made, f"an instance of {spec.__name__}")
    else:
        obj = check_strategy(spec)
    return obj, str(getattr(obj, "name", None) or type(obj).__name__)


class Branching:
    """The state behind a decorated function, at ``fn.branching``: pool, strategy, logger, last call.

    Attributes:
        configs: the config pool (:class:`~runlab.branch.BranchConfig`, in order).
        strategy: the strategy object; ``strategy_name`` its name in records.
        logger: the logger backend (None: nothing is recorded).
        session: the :class:`~runlab.branch.BranchSession` every branch is recorded under.
    """

    def __init__(self, fn: Callable[..., Any], configs: ConfigSource, strategy: Any, logger: Any) -> None:
        self.fn = fn
        self.is_async = inspect.iscoroutinefunction(fn) or (
            not inspect.isfunction(fn) and inspect.iscoroutinefunction(type(fn).__call__)
        )
        self.param, self.model, self._position = _target(fn)
        self.configs: list[BranchConfig] = resolve_configs(configs, self.model)
        self._ids = {c.config_id for c in self.configs}
        self.strategy, self.strategy_name = _strategy(strategy)
        check = getattr(self.strategy, "check", None)
        if callable(check):
            check(self.configs)
        self.logger: LoggerBackend | None = resolve_logger(logger)
        function = f"{getattr(fn, '__module__', None) or '?'}.{_qualname(fn)}"
        self.session = BranchSession(os.urandom(6).hex(), function, self.strategy_name, tuple(self.configs))
        reset_in_child(self)
        self._calls = itertools.count(1)
        self._last_var: contextvars.ContextVar[BranchContainer | None] = contextvars.ContextVar(
            f"runlab_branch_last_{id(self)}", default=None
        )
        self._last: BranchContainer | None = None
        self._warned = False
        if self.logger is not None:
            bg.use_logger(self.logger)
        bg.ensure_exit_hook()

    def _after_fork(self) -> None:
        # a forked child is another process: its branches belong to a session (run) of its own
        old = self.session
        self.session = BranchSession(os.urandom(6).hex(), old.function, old.strategy, old.configs)
        self._warned = False
        reinit_locks(self.strategy)  # a user's strategy guards its state with locks the parent's threads may hold

    def __repr__(self) -> str:
        return f"<Branching {self.session.function} strategy={self.strategy_name} configs={len(self.configs)}>"

    # -- inspection -------------------------------------------------------------------
    @property
    def last_branches(self) -> BranchContainer | None:
        """The branches of the last call made in this thread or task (else the last call anywhere).

        Background branches appear while still pending and change as they finish.
        """
        return self._last_var.get() or self._last

    def pending(self) -> list[Branch]:
        """This function's background branches still running."""
        return bg.pending_background(self.session)

    def join(self, timeout: float | None = None) -> list[Branch]:
        """Wait for this function's background threads (sync functions); returns the branches still running."""
        return bg.wait_background(timeout, self.session)

    async def ajoin(self, timeout: float | None = None, cancel: bool = True) -> list[Branch]:
        """Await this function's background tasks on the running loop (async functions).

        After ``timeout`` seconds the tasks left are cancelled (``cancel=True``) and recorded as
        ``cancelled``. Returns the branches that had not finished.
        """
        return await drain(timeout, cancel=cancel, session=self.session)

    # -- a call -----------------------------------------------------------------------
    def _plan(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Plan, str]:
        if self.param in kwargs or (self._position is not None and len(args) > self._position):
            raise ValidationError(f"{_qualname(self.fn)}() receives {self.param!r} from @branch; call it without "
                                  f"that argument.")  # fmt: skip
        plan = self.strategy.plan(self.configs)
        if not isinstance(plan, Plan) or not plan.run:
            raise StrategyError(f"Strategy {self.strategy_name!r} returned {plan!r}; plan() must return a Plan with "
                                "at least one config in run.")  # fmt: skip
        for config in (*plan.run, *plan.background):
            if config.config_id not in self._ids:
                raise StrategyError(f"Strategy {self.strategy_name!r} planned config {config.config_id}, which is "
                                    "not in the function's pool; plan only configs it was given.")  # fmt: skip
        return plan, str(next(self._calls))

    def _branches(self, plan: Plan, call_id: str) -> tuple[list[Branch], list[Branch]]:
        if plan.returns == "all":
            run = [Branch.start(c.config_id, c.value, "branch", call_id) for c in plan.run]
        else:
            run = [Branch.start(c.config_id, c.value, "primary" if i == 0 else "branch", call_id)
                   for i, c in enumerate(plan.run)]  # fmt: skip
        background = [Branch.start(c.config_id, c.value, "background", call_id) for c in plan.background]
        container = BranchContainer([*run, *background])
        self._last = container
        self._last_var.set(container)
        return run, background

    def _record(self, branch: Branch) -> None:
        if self.logger is None:
            return
        try:
            self.logger.record(branch, self.session)
        except LoggerClosedError:
            if not self._warned:
                self._warned = True
                print(f"runlab: branches of {self.session.function} are no longer recorded: its logger is closed.",
                      file=sys.__stderr__)  # fmt: skip

    def _settle(self, branch: Branch, output: Any = None, exc: BaseException | None = None,
                cancelled: str | None = None) -> bool:  # fmt: skip
        """Mark and record ``branch``; False when shutdown had cancelled it already."""
        from ._errors import BranchStateError

        try:
            if cancelled is not None:
                branch.mark_cancelled(cancelled)
            elif exc is not None:
                branch.mark_failure(exc)
            else:
                branch.mark_success(output)
        except BranchStateError:
            return False
        else:
            self._record(branch)
            return True
        finally:  # after the record: whoever waits for background branches then finds it in the logger
            if branch.role == "background":
                bg.untrack(branch)

    def _result(self, plan: Plan, run: list[Branch], errors: Sequence[BaseException | None]) -> Any:
        if plan.returns == "all":
            return BranchContainer(run)
        if errors[0] is not None:
            raise errors[0]
        return run[0].output

    # -- sync -------------------------------------------------------------------------
    def _call_sync(self, branch: Branch, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseException | None:
        try:
            output = self.fn(*args, **{**kwargs, self.param: branch.config})
        except Exception as exc:
            self._settle(branch, exc=exc)
            return exc
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: recorded, then passed on
            self._settle(branch, cancelled=f"{type(exc).__name__}: {exc}")
            raise
        self._settle(branch, output)
        return None

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one call of a sync function (the decorated function calls this)."""
        plan, call_id = self._plan(args, kwargs)
        run, background = self._branches(plan, call_id)
        for branch in background:
            bg.track(branch, self.logger, self.session)
            bg.run_in_thread(bg.BACKGROUND, functools.partial(self._call_quiet, branch, args, kwargs))
        errors: list[BaseException | None] = [None] * len(run)

        def job(i: int) -> None:
            errors[i] = self._call_sync(run[i], args, kwargs)

        events = [bg.run_in_thread(bg.AWAITED, functools.partial(job, i)) for i in range(1, len(run))]
        try:
            job(0)
            for event in events:
                event.wait()
        except BaseException as exc:  # KeyboardInterrupt: the call is over, and so are the branches it waited for
            for branch in run[1:]:  # still running in their threads: recorded as cancelled, a late outcome dropped
                self._settle(branch, cancelled=f"the call was interrupted ({type(exc).__name__})")
            raise
        return self._result(plan, run, errors)

    def _call_quiet(self, branch: Branch, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            self._call_sync(branch, args, kwargs)
        except BaseException as exc:  # a background thread: recorded already, never raised anywhere
            del exc

    # -- async ------------------------------------------------------------------------
    async def _call_async(self, branch: Branch, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseException | None:
        try:
            output = await self.fn(*args, **{**kwargs, self.param: branch.config})
        except asyncio.CancelledError:
            self._settle(branch, cancelled="its task was cancelled (or its event loop closed)")
            raise
        except Exception as exc:
            self._settle(branch, exc=exc)
            return exc
        except BaseException as exc:
            self._settle(branch, cancelled=f"{type(exc).__name__}: {exc}")
            raise
        self._settle(branch, output)
        return None

    async def acall(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one call of an async function (the decorated function awaits this)."""
        plan, call_id = self._plan(args, kwargs)
        run, background = self._branches(plan, call_id)
        loop = asyncio.get_running_loop()
        for branch in background:
            task = loop.create_task(self._call_async(branch, args, kwargs), name=f"runlab-branch-{branch.config_id}")
            bg.track(branch, self.logger, self.session, task)
        if len(run) == 1:
            errors: Sequence[BaseException | None] = [await self._call_async(run[0], args, kwargs)]
        else:
            errors = await asyncio.gather(*(self._call_async(b, args, kwargs) for b in run))
        return self._result(plan, run, errors)


async def drain(
    timeout: float | None = None, cancel: bool = True, session: BranchSession | None = None
) -> list[Branch]:
    """Await the background branches running on this event loop, at most ``timeout`` seconds.

    Call it before leaving ``asyncio.run(...)``: the loop's end would otherwise cancel them
    (they are then recorded as ``cancelled``). With ``cancel=True`` the tasks still running after
    ``timeout`` are cancelled and recorded as such.

    Returns:
        The branches that had not finished within ``timeout``.

    Example:
        >>> import asyncio, runlab.branch as rb
        >>> @rb.branch(configs=[{"d": 0.0}, {"d": 0.01}], strategy="shadow", logger="memory")
        ... async def nap(config):
        ...     await asyncio.sleep(config["d"])
        ...     return config["d"]
        >>> async def main():
        ...     first = await nap()
        ...     left = await rb.drain(timeout=30)
        ...     return first, left, [b.status.value for b in nap.branching.last_branches]
        >>> asyncio.run(main())
        (0.0, [], ['success', 'success'])
    """
    timeout = bg.check_timeout(timeout)
    pairs = bg.background_tasks(asyncio.get_running_loop(), session)
    if not pairs:
        return []
    _, pending = await asyncio.wait([task for _, task in pairs], timeout=timeout)
    left = [b for b, task in pairs if task in pending]
    if cancel and pending:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending)
    return left


def branch(configs: ConfigSource, strategy: Any = "shadow", logger: Any = "store") -> Callable[[F], F]:
    """Branch a function over a config pool: every call runs one or more configs, as the strategy says.

    The config reaches the function through its parameter named ``config``, or else the first
    parameter annotated with a pydantic model (configs are then validated into that model when
    the function is decorated). Callers call the function without it. Sync functions run extra
    branches on threads, async functions as tasks of the caller's loop.

    Args:
        configs: the pool: dicts, pydantic models, config files or a folder (see
            :func:`~runlab.branch.resolve_configs`); each config gets a stable id.
        strategy: a registered name (``"single"``, ``"round_robin"``, ``"shadow"``,
            ``"multi_branch"`` or one you registered), a strategy object, or a strategy class.
        logger: ``"store"`` (default: the runlab store), ``"mlflow"``, ``"memory"``, a
            :class:`~runlab.branch.LoggerBackend` object, or None to record nothing.

    Returns:
        The decorated function; ``fn.branching`` is its :class:`Branching` (pool, strategy,
        logger, ``last_branches``, ``join``).

    Raises:
        BranchConfigError: an empty pool, duplicate configs, a config the model refuses or
            with a key it does not declare, an unreadable config file.
        UnknownStrategyError, StrategyError: an unknown strategy name or a non-strategy.
        ValidationError: the function has no parameter for the config.
        BranchError: an unknown logger name or a non-logger object.

    Example:
        >>> import runlab.branch as rb
        >>> @rb.branch(configs=[{"greeting": "hi"}, {"greeting": "hello"}], strategy="round_robin", logger=None)
        ... def greet(name, config):
        ...     return f"{config['greeting']} {name}"
        >>> greet("ada"), greet("ada"), greet("ada")
        ('hi ada', 'hello ada', 'hi ada')
    """

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise ValidationError(f"@branch decorates a function, got {type(fn).__name__} {fn!r}.")
        state = Branching(fn, configs, strategy, logger)
        if state.is_async:

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await state.acall(args, kwargs)

            wrapper: Any = async_wrapper
        else:

            @functools.wraps(fn)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                return state.call(args, kwargs)

            wrapper = sync_wrapper
        wrapper.branching = state
        return typing.cast(F, wrapper)

    return decorate
