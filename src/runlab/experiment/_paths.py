"""PyComex's path helpers for an experiment module: :func:`folder_path` and :func:`file_namespace`.

A PyComex experiment names its archive location from its own file::

    experiment = Experiment(base_path=folder_path(__file__), namespace=file_namespace(__file__),
                            glob=globals())

runs go to ``<the file's folder>/results/<the file's name>/``, beside the experiment.

Example:
    >>> folder_path("/home/me/exps/train.py")
    '/home/me/exps'
    >>> file_namespace("/home/me/exps/train.py")
    'results/train'
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ValidationError

__all__ = ["file_namespace", "folder_path"]


def _file(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValidationError(f"Invalid file path {path!r}: pass the module's __file__, e.g. folder_path(__file__).")
    return Path(os.fspath(path))


def folder_path(path: str | os.PathLike[str]) -> str:
    """The absolute folder that holds ``path`` (PyComex's ``pycomex.utils.folder_path``).

    Raises:
        ValidationError: ``path`` is not a path (e.g. ``None``, ``__file__`` of an interactive session).
    """
    return str(_file(path).absolute().parent)


def file_namespace(path: str | os.PathLike[str], prefix: str = "results") -> str:
    """The namespace ``"results/<file name without suffix>"`` (PyComex's ``pycomex.utils.file_namespace``).

    Args:
        path: the experiment module's ``__file__``.
        prefix: the namespace's first segment (``""`` for none).

    Raises:
        ValidationError: ``path`` is not a path.
    """
    stem = _file(path).name.split(".")[0]
    return f"{prefix}/{stem}" if prefix else stem
