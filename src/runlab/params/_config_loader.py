"""``ConfigLoader``: KohakuEngine's config loader, over runlab's one way of reading config files.

Example:
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "sweep_config.py"
    >>> _ = f.write_text(
    ...     "from runlab.config import Config\\n"
    ...     "def config_gen():\\n"
    ...     "    for lr in [0.001, 0.01]:\\n"
    ...     "        yield Config(globals_dict={'learning_rate': lr})\\n")
    >>> gen = ConfigLoader.load_config(f)
    >>> type(gen).__name__, [c.globals_dict["learning_rate"] for c in gen]
    ('ConfigGenerator', [0.001, 0.01])
    >>> ConfigLoader.load_from_dict({"globals": {"name": "x"}, "kwargs": {"excited": True}}).kwargs
    {'excited': True}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._config import Config, ConfigGenerator
from ._errors import ConfigError

__all__ = ["ConfigLoader"]


class ConfigLoader:
    """Load configs from files (KohakuEngine's ``kohakuengine.config.ConfigLoader``).

    A thin front on :func:`runlab.params.load_config`: the same files (``.py`` with
    ``config_gen()`` or ``CONFIG``, ``.yml``, ``.toml``, ``.json``, a folder), the same
    checks and errors (:class:`~runlab.ConfigError`, also a ``ValueError``).
    """

    @staticmethod
    def load_config(config_path: str | os.PathLike[str]) -> Config | ConfigGenerator:
        """The file's config: a :class:`Config` when it gives exactly one (``CONFIG`` or a
        ``config_gen()`` that returns one), else a :class:`ConfigGenerator` over its configs,
        which asks a ``config_gen()`` generator for each next config only when iterated.

        Raises:
            ConfigError: the file is missing, raises, defines neither name, or gives non-Config items.
        """
        from ._files import iter_configs

        path = Path(config_path)
        configs, single = iter_configs(path)  # a generator is consulted for each next config only when asked
        if single and not _yields(path):
            return next(configs)
        return ConfigGenerator(configs, origin=f"config_gen() in {path}")

    @staticmethod
    def load_from_dict(data: Mapping[str, Any]) -> Config:
        """A :class:`Config` from a dict with keys ``globals``, ``args``, ``kwargs``, ``metadata``.

        Raises:
            ConfigError: an unknown key (with a suggestion) or a field of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"A config must be a dict, got {type(data).__name__} {data!r}.")
        return Config.from_dict(data)


def _yields(path: Path) -> bool:
    """Whether a Python config's ``config_gen`` is a generator function (it yields, even once)."""
    if path.suffix != ".py":
        return False
    import ast

    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "config_gen":
            return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(node))
    return False
