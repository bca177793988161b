"""The plugin base class, the ``@hook`` decorator and the plugin data types."""

from __future__ import annotations

import enum
import inspect
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from .._valueclass import value_class
from ..hooks import check_hook_name, check_priority

if TYPE_CHECKING:
    from ._manager import PluginManager

__all__ = [
    "BasePlugin", "Plugin", "PluginContext", "PluginMetadata", "PluginResult", "PluginState", "PluginStatus",
    "StateChange", "hook",
]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])


def hook(name: str, priority: int = 0) -> Callable[[F], F]:
    """Mark a :class:`Plugin` method as the implementation of hook ``name``.

    Higher priorities run first. The method receives the keyword arguments it names
    (or all of them with ``**kwargs``).

    Raises:
        ValidationError: ``name`` is not a non-empty string (``@hook`` written without its
            name) or ``priority`` is not an integer; raised where the class is defined.

    Example:
        >>> from runlab.plugins import Plugin, hook
        >>> class Hello(Plugin):
        ...     name = "hello"
        ...     @hook("run_state_changed", priority=5)
        ...     def changed(self, run, new):
        ...         print(new)
    """

    name = check_hook_name(name)  # a bare @hook would otherwise register nothing, silently
    priority = check_priority(priority, name)

    def mark(fn: F) -> F:
        marks: list[tuple[str, int]] = list(getattr(fn, "__runlab_hooks__", ()))
        marks.append((name, priority))
        fn.__runlab_hooks__ = marks  # type: ignore[attr-defined]
        fn.__hook__ = name  # type: ignore[attr-defined]  # PyComex's marks, for code that reads them
        fn.__priority__ = priority  # type: ignore[attr-defined]
        return fn

    return mark


class PluginState(str, enum.Enum):
    """Where a plugin is in its life.

    ``DISCOVERED`` found, not imported; ``LOADED`` imported and instantiated;
    ``INITIALIZED`` :meth:`Plugin.initialize` ran and its hooks are registered;
    ``RUNNING`` serving hooks after ``after_plugins_loaded``; ``STOPPED`` disabled,
    inactive (a package missing) or unloaded; ``ERROR`` a hook raised (the plugin keeps
    serving); ``FAILED`` loading or initialising failed (its hooks are not registered).
    """

    DISCOVERED = "discovered"
    LOADED = "loaded"
    INITIALIZED = "initialized"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"
    FAILED = "failed"

    def __str__(self) -> str:  # f"Status: {state}" reads "Status: running"
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


PluginStatus = PluginState
"""The plugin system's (seed 003) name for :class:`PluginState`."""


@value_class(frozen=True)
class StateChange:
    """One entry of a plugin's state history."""

    state: PluginState
    time: datetime
    reason: str = ""


@value_class(frozen=True)
class PluginMetadata:
    """What a plugin says about itself (shown by ``runlab plugins info``).

    ``entry_point`` is where the plugin's class is found: ``"module:Class"`` for an installed
    or built-in plugin, the file or package path for a folder plugin ("" when unknown).
    """

    name: str
    version: str = "0"
    author: str = ""
    description: str = ""
    dependencies: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    entry_point: str = ""


@value_class
class PluginContext:
    """What a plugin's command (:meth:`Plugin.execute`) receives.

    Attributes:
        name: the plugin's name.
        args: positional arguments of the command.
        kwargs: keyword arguments of the command.
        config: the plugin's settings (``[tool.runlab.plugins.NAME]``, or a ``config.yml``
            beside a folder plugin).
        manager: the plugin manager (None outside one).
        logger: a logger named ``runlab.plugins.NAME``.
        environment: the environment variables the command sees (default: a copy of ``os.environ``).
    """

    name: str
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    manager: PluginManager | None = None
    logger: logging.Logger = field(default=None)  # type: ignore[assignment]  # set in __post_init__
    environment: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    def __post_init__(self) -> None:
        if self.logger is None:
            self.logger = logging.getLogger(f"runlab.plugins.{self.name}")


@value_class
class PluginResult:
    """The outcome of a plugin command: output on success, error text and traceback on failure.

    A command may return its own :class:`PluginResult` (its ``metadata`` kept); the manager
    fills in ``duration_ms`` and does not wrap it again.
    """

    success: bool
    output: Any = None
    error: str | None = None
    traceback: str | None = None
    duration_ms: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)


class Plugin:
    """Base class of runlab plugins.

    Subclass it, set the class attributes and decorate methods with :func:`hook`; the
    manager instantiates the class once, calls :meth:`initialize` and registers the hook
    methods. Hooks may be called from several threads (``metrics_logged`` comes from a
    run's writer thread), so keep shared state behind a lock. A plugin never changes a
    finished run's ``run.json``; it may add files under the run's ``artifacts/``.

    Class attributes:
        name: unique name (default: the entry-point name or file stem).
        version, author, description, tags, dependencies: shown by ``runlab plugins info``.
        requires: importable module names the plugin needs; when one is missing the plugin
            stays inactive with a one-line notice (``install_hint`` says what to install).
        critical: if True, the plugin's failure fails the run instead of being isolated.
        enabled_by_default: False for plugins a project must enable in ``[tool.runlab]``.

    Example:
        >>> from runlab.plugins import Plugin, hook
        >>> class Announce(Plugin):
        ...     '''Print every state change.'''
        ...     name = "announce"
        ...     @hook("run_state_changed")
        ...     def changed(self, run, new):
        ...         print(run.id, new)
    """

    name: str = ""
    version: str = "0"
    author: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    install_hint: str = ""
    critical: bool = False
    enabled_by_default: bool = True

    def __init__(self, settings: Mapping[str, Any] | None = None, *, config: Any = None) -> None:
        self.settings: dict[str, Any] = dict(settings or {})
        self.state: dict[str, Any] = {}
        self.config = config  # PyComex's Plugin(config=...): the host config (its ``pm`` is the manager)
        self._registered_with: PluginManager | None = None

    def register(self, manager: PluginManager | None = None) -> None:
        """Register this plugin's hooks (PyComex's ``Plugin.register()``).

        With ``manager``, or the host config's ``pm`` (``Plugin(config=config)``), or else the
        process's manager; see :meth:`PluginManager.add`.
        """
        target = manager if manager is not None else getattr(self.config, "pm", None)
        if target is None:
            from ._process import get_manager

            target = get_manager()
        target.add(self)
        self._registered_with = target

    def unregister(self) -> None:
        """Remove this plugin's hooks from the manager :meth:`register` gave them to (cleanup runs)."""
        if self._registered_with is not None:
            self._registered_with.cleanup_plugin(self.name or type(self).__name__)
            self._registered_with = None

    @property
    def metadata(self) -> PluginMetadata:
        """The plugin's :class:`PluginMetadata` (description defaults to the docstring's first line)."""
        doc = inspect.getdoc(type(self)) if type(self).__doc__ else ""
        return PluginMetadata(
            name=self.name,
            version=str(self.version),
            author=self.author,
            description=self.description or (doc or "").split("\n\n")[0].replace("\n", " "),
            dependencies=tuple(self.dependencies),
            tags=tuple(self.tags),
        )

    @classmethod
    def _hook_attributes(cls) -> list[str]:
        found = []
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if getattr(value, "__runlab_hooks__", None):
                    found.append(attr)
        return list(dict.fromkeys(found))

    @classmethod
    def declared_hooks(cls) -> list[tuple[str, int]]:
        """``(hook name, priority)`` of every ``@hook`` method, without instantiating the class."""
        return [mark for attr in cls._hook_attributes() for mark in getattr(getattr(cls, attr), "__runlab_hooks__", ())]

    @classmethod
    def check_metadata(cls, name: str | None = None) -> None:
        """Refuse the class when a metadata attribute has the wrong type (``tags = "gpu"``, ``requires = 5``).

        Checked when the plugin loads, so ``runlab plugins list`` / ``info`` / ``help`` never
        fail on it later. ``name`` is the plugin's name in messages.

        Raises:
            ValidationError: names the plugin, the attribute, its value and what to write.
        """
        from ..errors import ValidationError

        who = f"plugin {name or cls.name or cls.__name__!r} ({cls.__module__}.{cls.__qualname__})"
        for attr in ("tags", "dependencies", "requires"):
            value = getattr(cls, attr)
            if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
                raise ValidationError(
                    f"Invalid {attr!r} of {who}: {value!r} is not a tuple of strings. "
                    f'Write for example {attr} = ("{value if isinstance(value, str) else "name"}",).'
                )
        for attr in ("author", "description", "install_hint"):
            value = getattr(cls, attr)
            if not isinstance(value, str):
                raise ValidationError(f"Invalid {attr!r} of {who}: {value!r} is not a string.")
        for attr in ("critical", "enabled_by_default"):
            value = getattr(cls, attr)
            if not isinstance(value, bool):
                raise ValidationError(f"Invalid {attr!r} of {who}: {value!r} is not True or False.")

    @classmethod
    def check_hooks(cls, specs: Mapping[str, Any] | None = None, name: str | None = None) -> None:
        """Refuse the class when a ``@hook`` method names an argument its hook never passes.

        Checked before the plugin is instantiated, so a misspelt argument fails loading at
        once instead of failing on every call. ``name`` is the plugin's name in messages
        (default: :attr:`name`, else the class name).

        Raises:
            HookSignatureError: names the plugin, the method, the hook and the argument.
        """
        from ..hooks import HOOKS, check_signature

        table = HOOKS if specs is None else specs
        for attr in cls._hook_attributes():
            raw = inspect.getattr_static(cls, attr)
            fn = getattr(cls, attr)
            unbound = not isinstance(raw, (staticmethod, classmethod))
            for hook_name, _priority in getattr(fn, "__runlab_hooks__", ()):
                owner = f"{cls.__qualname__}.{attr} (plugin {name or cls.name or cls.__name__!r})"
                check_signature(hook_name, fn, spec=table.get(hook_name), unbound=unbound, owner=owner)

    def hook_methods(self) -> list[tuple[str, int, Callable[..., Any]]]:
        """``(hook name, priority, callable)`` for every ``@hook`` method, in definition order, then
        for functions marked by ``@hook`` that were set on the instance (``plugin.f = f``)."""
        result = []
        for attr in self._hook_attributes():
            method = getattr(self, attr)
            for name, priority in getattr(method, "__runlab_hooks__", ()):
                result.append((name, priority, method))
        for value in list(vars(self).values()):
            if callable(value):
                marks = getattr(value, "__runlab_hooks__", None)
                if marks is None and isinstance(getattr(value, "__hook__", None), str):  # PyComex's own marks
                    marks = [(value.__hook__, int(getattr(value, "__priority__", 0)))]
                result.extend((name, priority, value) for name, priority in marks or ())
        return result

    def initialize(self, context: PluginContext) -> None:
        """Prepare resources before the hooks are registered; raise to fail loading."""

    def cleanup(self) -> None:
        """Release resources when the plugin is unloaded, reloaded or the manager closes."""

    def execute(self, context: PluginContext) -> Any:
        """Run the plugin's command; the return value becomes :attr:`PluginResult.output`."""
        raise NotImplementedError(f"Plugin {self.name!r} has no command to execute.")

    def get_help(self) -> str:
        """Help text for ``runlab plugins help NAME`` (default: the class docstring); override it or :meth:`help`."""
        return inspect.getdoc(type(self)) or self.description or "(no help)"

    def help(self) -> str:
        """Help text for ``runlab plugins help NAME``: :meth:`get_help` unless overridden."""
        return self.get_help()

    def set_state(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key`` in the plugin's own state (:attr:`state`), across hook calls."""
        self.state[key] = value

    def get_state(self, key: str, default: Any = None) -> Any:
        """The value kept under ``key`` by :meth:`set_state`, else ``default``."""
        return self.state.get(key, default)


BasePlugin = Plugin
"""The plugin system's (seed 003) name for :class:`Plugin`."""


def _now() -> datetime:
    return datetime.now().astimezone()


def _elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
