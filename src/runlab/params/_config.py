"""Python-first configs: :class:`Config`, :class:`ConfigGenerator` and loading ``.py`` config files."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterable, Iterator, Mapping, Sized
from contextlib import contextmanager
from dataclasses import field
from pathlib import Path
from types import ModuleType
from typing import Any

from .._valueclass import value_class
from ._errors import ConfigError, did_you_mean

__all__ = ["Config", "ConfigGenerator", "load_python_config", "open_python_config", "yields_configs"]

_FIELDS = ("globals_dict", "args", "kwargs", "metadata")
_ALIASES = {"globals": "globals_dict", "params": "globals_dict", "parameters": "globals_dict"}


@value_class
class Config:
    """What to change for one run: globals of the script, arguments of its entry point, metadata.

    Attributes:
        globals_dict: module globals to set (parameter names to values).
        args: positional arguments for the entry point function.
        kwargs: keyword arguments for the entry point function.
        metadata: free-form information for tracking (not part of :attr:`id`).

    Raises:
        ConfigError: a field has the wrong type or a globals name is not a string.

    Example:
        >>> c = Config(globals_dict={"LR": 0.1}, kwargs={"device": "cpu"})
        >>> c.globals_dict["LR"], len(c.id)
        (0.1, 12)
    """

    globals_dict: dict[str, Any] = field(default_factory=dict)
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.metadata is None:
            self.metadata = {}
        for name in ("globals_dict", "kwargs", "metadata"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise ConfigError(
                    f"Config {name} must be a dict, got {type(value).__name__} {value!r}. "
                    f"Write e.g. Config({name}={{'NAME': 1}})."
                )
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise ConfigError(f"Config {name} keys must be strings; got {bad[0]!r}.")
            setattr(self, name, dict(value))
        if isinstance(self.args, (str, bytes)) or not isinstance(self.args, (list, tuple)):
            raise ConfigError(f"Config args must be a list or tuple, got {type(self.args).__name__} {self.args!r}.")
        self.args = list(self.args)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Config:
        """A config from a plain dict with keys ``globals`` (or ``globals_dict``), ``args``, ``kwargs``, ``metadata``.

        Raises:
            ConfigError: an unknown key (with a suggestion) or a field of the wrong type.

        Example:
            >>> Config.from_dict({"globals": {"LR": 0.1}, "args": [1]}).args
            [1]
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"A config must be a mapping, got {type(data).__name__} {data!r}.")
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = _ALIASES.get(key, key)
            if name not in _FIELDS:
                raise ConfigError(
                    f"Unknown config key {key!r}.{did_you_mean(key, [*_FIELDS, 'globals'])} "
                    f"Valid keys: {', '.join(['globals', *_FIELDS[1:]])}."
                )
            values[name] = value
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (the inverse of :meth:`from_dict`)."""
        return {"globals": self.globals_dict, "args": self.args, "kwargs": self.kwargs, "metadata": self.metadata}

    @property
    def id(self) -> str:
        """The stable config id: a short hash of globals, args and kwargs (see :func:`config_id`)."""
        from ._ids import config_id

        return config_id(self)


class ConfigGenerator:
    """An iterator over configs that checks each item is a :class:`Config`.

    Wraps a generator or any iterable (a ``config_gen()`` that yields). It can be iterated once;
    :attr:`exhausted` tells when it is used up.

    Raises:
        ConfigError: (while iterating) an item is not a :class:`Config`.

    Example:
        >>> gen = ConfigGenerator(Config(globals_dict={"LR": lr}) for lr in (0.1, 0.01))
        >>> [c.globals_dict["LR"] for c in gen], gen.exhausted
        ([0.1, 0.01], True)
    """

    def __init__(self, source: Iterable[Any], origin: str = "config_gen()") -> None:
        self._iterator: Iterator[Any] = iter(source)
        self._origin = origin
        self._count = 0
        self._exhausted = False

    def __iter__(self) -> Iterator[Config]:
        return self

    def __next__(self) -> Config:
        if self._exhausted:
            raise StopIteration
        try:
            item = next(self._iterator)
        except StopIteration:
            self._exhausted = True
            raise
        if not isinstance(item, Config):
            self._exhausted = True
            raise ConfigError(
                f"{self._origin} yielded {type(item).__name__} {_short(item)} as item {self._count + 1}; "
                "it must yield Config objects, e.g. yield Config(globals_dict={'LR': 0.1})."
            )
        self._count += 1
        return item

    @property
    def exhausted(self) -> bool:
        """True once the underlying iterator has ended."""
        return self._exhausted


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


_counter = itertools.count()


def load_python_config(path: str | Path) -> list[Config]:
    """Run a Python config file and return its configs (not yet expanded).

    The file defines ``CONFIG`` (a :class:`Config`, a list of them or a :class:`ConfigGenerator`)
    or ``config_gen()`` returning one :class:`Config` or an iterable of them (usually it yields).
    The file runs as its own module with its folder on ``sys.path`` while it runs.

    Raises:
        ConfigError: the file is missing, raises, defines neither name, or produces non-Config items.
    """
    configs, _ = open_python_config(path)
    return list(configs)


def yields_configs(path: str | Path) -> bool:
    """Whether a Python config file's ``config_gen()`` is a generator (it ``yield``s), read statically.

    Such a generator is consulted lazily, one config per run (see :func:`open_python_config`),
    so nothing may count its configs before the runs.

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "gen.py"
        >>> _ = f.write_text("def config_gen():\\n    yield 1\\n")
        >>> yields_configs(f), yields_configs(f.parent / "missing.py")
        (True, False)
    """
    import ast

    try:
        tree = ast.parse(Path(path).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "config_gen":
            return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(node))
    return False


def open_python_config(path: str | Path) -> tuple[Iterator[Config], bool]:
    """Like :func:`load_python_config`, lazily: the configs one at a time, and whether there is exactly one.

    A generator (``config_gen()`` that yields) is consulted for the next config only when
    the caller asks for it, e.g. after the previous run finished, so it can read what that
    run left behind (KohakuEngine's resume pattern). The file's module stays importable
    (``sys.modules``) and its folder on ``sys.path`` only while the file or the generator runs.

    Raises:
        ConfigError: (also while iterating) the file is missing, raises, defines neither
            name, or produces non-Config items.
    """
    from .._pyfile import load_module

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file not found: {path}.", str(path))
    with _config_errors(path):
        module = load_module(path, f"_runlab_config_{next(_counter)}_{path.stem}", keep=False)
        if hasattr(module, "config_gen"):
            if not callable(module.config_gen):
                raise ConfigError(f"{path}: config_gen must be a function.", str(path))
            with _importable(module, path):
                produced = module.config_gen()
            origin = f"config_gen() in {path}"
        elif hasattr(module, "CONFIG"):
            produced = module.CONFIG
            origin = f"CONFIG in {path}"
        else:
            raise ConfigError(
                f"{path} defines neither CONFIG nor config_gen(). Add CONFIG = Config(...) or a function "
                "config_gen() that returns or yields Config objects.",
                str(path),
            )
        if isinstance(produced, Config):
            return iter([produced]), True
        if isinstance(produced, (str, bytes, Mapping)) or not isinstance(produced, Iterable):
            raise ConfigError(
                f"{origin} gave {type(produced).__name__} {_short(produced)}; it must be a Config or "
                "yield Config objects.",
                str(path),
            )
        if isinstance(produced, Sized) and not len(produced):  # CONFIG = []: nothing would run
            raise ConfigError(f"{origin} is empty: give at least one Config.", str(path))
    return _lazy(ConfigGenerator(produced, origin), module, path, origin), False


def _lazy(configs: Iterator[Config], module: ModuleType, path: Path, origin: str) -> Iterator[Config]:
    given = 0
    while True:
        with _config_errors(path), _importable(module, path):
            try:
                config = next(configs)
            except StopIteration:
                if not given:  # a generator with nothing left to do (the resume pattern): say so, run nothing
                    import warnings

                    from ..store import RunlabWarning

                    warnings.warn(f"{origin} gave no configs: nothing to run.", RunlabWarning, stacklevel=2)
                return
        given += 1
        yield config


@contextmanager
def _importable(module: ModuleType, path: Path) -> Iterator[None]:
    """The config module importable and its folder on ``sys.path`` (dataclasses and pickling look it up)."""
    from .._pyfile import folder_on_path, forgetting_siblings

    sys.modules[module.__name__] = module
    folder = str(path.resolve().parent)
    try:
        with folder_on_path(folder), forgetting_siblings(folder, keep=module.__name__):
            yield
    finally:
        sys.modules.pop(module.__name__, None)


@contextmanager
def _config_errors(path: Path) -> Iterator[None]:
    """Any error of the user's config code as a :class:`ConfigError` naming the file and line."""
    try:
        yield
    except ConfigError as exc:
        line = None if exc.path else _user_line(exc, path)
        if line is None:  # runlab's own message about the file, which names it
            exc.path = exc.path or str(path)
            raise
        # raised by the file's code, e.g. Config(globals_dict=[...]): say where
        raise ConfigError(f"Python config {path} (line {line}): {exc}", str(path), line) from None
    except (Exception, SystemExit) as exc:
        line = _user_line(exc, path)
        where = f" (line {line})" if line else ""
        what = f"called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else f"raised {type(exc).__name__}"
        detail = "" if isinstance(exc, SystemExit) else f": {exc}"
        raise ConfigError(
            f"Python config {path} {what}{where}{detail}. Fix the config file.",
            str(path),
            line,
        ) from exc


def _user_line(exc: BaseException, path: Path) -> int | None:
    resolved = str(path.resolve())
    line = None
    import traceback

    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve().as_posix() == Path(resolved).as_posix():
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError):
        line = exc.lineno
    return line
