"""Names a package imports on first use (PEP 562), so importing the package stays cheap.

One mechanism for ``runlab``, ``runlab.experiment`` and ``runlab.params``: each keeps a table of
name -> module and gets its module ``__getattr__`` from :func:`lazy_getattr`.

Example:
    >>> getter = lazy_getattr("runlab.params", {"logspace": "._sweep"}, {})
    >>> [round(x, 4) for x in getter("logspace")(-2, -1, 2)]
    [0.01, 0.1]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, table: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``table[name]`` names the module holding ``name``
    (relative to ``package`` when it starts with ``.``), imported when ``name`` is first used; the
    value is kept in ``namespace`` (the package's ``globals()``), so the next use costs nothing.
    An entry whose module's last part is ``name`` itself gives that module (``runlab.branch``).
    """

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = import_module(target, package)
        value = module if target.rpartition(".")[2] == name else getattr(module, name)
        namespace[name] = value
        return value

    return __getattr__
