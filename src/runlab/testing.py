"""Stand-ins for testing hooks and plugins without a run: :class:`MockConfig` and :class:`MockExperiment`.

PyComex's ``pycomex.testing``, ported: a plugin test builds a manager on a :class:`MockConfig`
and calls hooks with a :class:`MockExperiment`, so no archive folder or run is made.

Example:
    >>> from runlab.plugins import PluginManager
    >>> from runlab.testing import MockConfig, MockExperiment
    >>> config = MockConfig()
    >>> pm = PluginManager(config=config)
    >>> @pm.hook("after_run")
    ... def done(config, experiment, **kwargs):
    ...     experiment["results/seen"] = True
    >>> e = MockExperiment(parameters={"LR": 0.1})
    >>> _ = pm.apply_hook("after_run", experiment=e, run=None, result=None)
    >>> e["results/seen"], e.LR, config.pm is pm
    (True, 0.1, True)
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["MockConfig", "MockExperiment"]


class MockConfig:
    """PyComex's config singleton, for tests: ``data`` for hooks to write into, ``pm`` the manager.

    ``PluginManager(config=MockConfig())`` sets :attr:`pm` to itself and hands the config to
    every hook as ``config=``.

    Attributes:
        data: a free dict.
        pm: the plugin manager made with this config (None before).
        plugins: name -> plugin, for tests that keep them.
    """

    def __init__(self, **data: Any) -> None:
        self.data: dict[str, Any] = dict(data)
        self.pm: Any = None
        self.plugins: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"MockConfig(data={self.data!r})"


class MockExperiment:
    """An experiment stand-in: parameters as attributes, nested data by ``"a/b"`` keys, logs, tracks.

    Args:
        parameters: the parameter values (``e.NAME`` reads them).
        path: the "archive" folder (default: a new temporary folder).
        name: the experiment's name.

    Attributes:
        parameters, data, metadata (with ``"__track__"``), path, logs (what :meth:`log` got).
    """

    def __init__(
        self, parameters: Mapping[str, Any] | None = None, path: str | Path | None = None, name: str = "mock"
    ) -> None:
        object.__setattr__(self, "parameters", dict(parameters or {}))
        self.path = Path(path) if path is not None else Path(tempfile.mkdtemp(prefix="runlab-mock-"))
        self.name = name
        self.data: dict[str, Any] = {}
        self.metadata: dict[str, Any] = {"name": name, "parameters": {}, "__track__": []}
        self.logs: list[str] = []
        self.error: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        parameters = object.__getattribute__(self, "parameters")
        if name in parameters:
            return parameters[name]
        raise AttributeError(f"MockExperiment has no attribute or parameter {name!r}; parameters: {sorted(parameters)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.isupper() or (name.startswith("__") and name.endswith("__") and name[2:-2].isupper()):
            self.parameters[name] = value
        else:
            object.__setattr__(self, name, value)

    def __setitem__(self, key: str, value: Any) -> None:
        node = self.data
        *parents, last = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    def __getitem__(self, key: str) -> Any:
        node: Any = self.data
        for part in key.split("/"):
            node = node[part]
        return node

    def log(self, message: str) -> None:
        """Keep ``message`` in :attr:`logs` (and print it)."""
        self.logs.append(str(message))
        print(message)

    def track(self, name: str, value: Any) -> None:
        """Append ``value`` to ``data[name]`` and note ``name`` in ``metadata["__track__"]``."""
        self.data.setdefault(name, []).append(value)
        if name not in self.metadata["__track__"]:
            self.metadata["__track__"].append(name)
