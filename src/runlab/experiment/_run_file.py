"""``runlab.run_file``: KohakuEngine's Python API ``run(script, config_path=...)`` under a clear name.

``runlab.run`` is the context manager of the context style, so KohakuEngine's convenience
function ``kohakuengine.run`` is :func:`run_file` here. It is :func:`runlab.run_script` with
KohakuEngine's arguments: a config file, or the fields of one :class:`~runlab.Config`.

Example:
    >>> import pathlib, tempfile, runlab
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "hello.py"
    >>> _ = f.write_text("name = 'World'\\ndef main(excited=False):\\n    return f'Hello, {name}' + '!' * excited\\n")
    >>> run = runlab.run_file(f, globals_dict={"name": "runlab"}, kwargs={"excited": True},
    ...                       root=f.parent / "runs", capture=False)
    >>> run.data["result"]
    'Hello, runlab!'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from ..errors import ValidationError
from ..lifecycle import Run
from ..params import Config
from ..store._store import Store
from ._run_script import run_script

__all__ = ["run_file"]

_FIELDS = ("globals_dict", "args", "kwargs", "metadata")


def run_file(
    script_path: str | os.PathLike[str],
    config_path: str | os.PathLike[str] | None = None,
    *,
    entrypoint: str | None = None,
    root: str | os.PathLike[str] | Store | None = None,
    namespace: str | None = None,
    name: str | None = None,
    tags: Iterable[str] | str | None = None,
    capture: bool = True,
    **config_kwargs: Any,
) -> Run | list[Run]:
    """Run a script with a config file or inline config fields (KohakuEngine's ``run``).

    Args:
        script_path: the ``.py`` file (``"train.py:fit"`` also names the entry point).
        config_path: a config file (``.py`` with ``config_gen()`` or ``CONFIG``, ``.yml``,
            ``.toml``, ``.json``); a generator makes one run per config, in order.
        entrypoint, root, namespace, name, tags, capture: as for :func:`runlab.run_script`.
        config_kwargs: the fields of one :class:`~runlab.Config` instead of a file:
            ``globals_dict``, ``args``, ``kwargs``, ``metadata``.

    Returns:
        The finished run (the entry point's return value is ``run.data["result"]``), or the
        list of runs when the config file gives several.

    Raises:
        ValidationError: both a config file and config fields, or an unknown config field.
        ExperimentNotFoundError, ConfigError: a missing script or a bad config, before any run exists.
        BaseException: the script's exception, once its run is recorded as failed.
    """
    unknown = [k for k in config_kwargs if k not in _FIELDS]
    if unknown:
        raise ValidationError(
            f"Unknown argument {unknown[0]!r} for runlab.run_file: the config fields are {', '.join(_FIELDS)} "
            "(or give config_path=)."
        )
    if config_path is not None and config_kwargs:
        raise ValidationError(
            f"Give runlab.run_file either config_path={os.fspath(config_path)!r} or config fields "
            f"({', '.join(config_kwargs)}), not both."
        )
    options: dict[str, Any] = {"root": root, "namespace": namespace, "name": name, "tags": tags, "capture": capture}
    if config_path is not None:
        return run_script(script_path, os.fspath(config_path), entrypoint, **options)
    return run_script(script_path, Config(**config_kwargs) if config_kwargs else None, entrypoint, **options)
