"""Parameter types that act when a parameter is read, written or packaged for reproduction."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar, Protocol

__all__ = ["ActionableParameterType", "CopiedPath", "HasFolder"]


class HasFolder(Protocol):
    """What :class:`CopiedPath` needs of the experiment or run: its folder."""

    @property
    def path(self) -> Path: ...


class ActionableParameterType:
    """Base of parameter types whose values are processed on access.

    Used as an annotation, ``MY_FILE: CopiedPath = "data.csv"``. The experiment layer calls the
    class methods; ``experiment`` is the running experiment or run (anything with the attributes
    the subclass documents). All three hooks return the value to use and must not keep state in
    the class: they may be called from several threads and processes at once.

    Attributes:
        value_type: the type a value is validated as (text from the command line is converted to it).

    Example:
        >>> class Upper(ActionableParameterType):
        ...     value_type = str
        ...     @classmethod
        ...     def get(cls, experiment, value):
        ...         return value.upper()
        >>> Upper.get(None, "adam")
        'ADAM'
    """

    value_type: ClassVar[Any] = Any

    @classmethod
    def get(cls, experiment: Any, value: Any) -> Any:
        """Called when the parameter is read (``e.PARAM``); returns what the reader sees."""
        return value

    @classmethod
    def set(cls, experiment: Any, value: Any) -> Any:
        """Called when the parameter is assigned (``e.PARAM = value``); returns what is stored."""
        return value

    @classmethod
    def on_reproducible(cls, experiment: Any, value: Any) -> Any:
        """Called when a run is packaged in reproducible mode; returns the value to record."""
        return value


class CopiedPath(ActionableParameterType):
    """A file or folder that is copied into the run folder in reproducible mode.

    ``on_reproducible`` copies the path to ``<run folder>/copied/<name>`` and records that
    relative location, so the reproduced run finds its input in the archive. ``get`` returns the
    path as given when it exists, and otherwise falls back to the copy in the run folder (when
    reproducing on another machine, where the original is missing).

    ``experiment`` must have a ``path`` attribute: the run folder (see :class:`HasFolder`).

    Example:
        >>> CopiedPath.value_type
        <class 'pathlib.Path'>
    """

    value_type: ClassVar[Any] = Path
    folder: ClassVar[str] = "copied"

    @classmethod
    def _copy_location(cls, experiment: HasFolder, value: Any) -> Path:
        return Path(experiment.path) / cls.folder / Path(value).name

    @classmethod
    def get(cls, experiment: Any, value: Any) -> Any:
        if value is None:
            return None
        path = Path(value)
        if not path.is_absolute() and experiment is not None and not path.exists():
            # a recorded relative location: inside the run folder
            inside = Path(experiment.path) / path
            if inside.exists():
                return inside
        if not path.exists() and experiment is not None:
            copy = cls._copy_location(experiment, value)
            if copy.exists():
                return copy
        return path

    @classmethod
    def on_reproducible(cls, experiment: Any, value: Any) -> Any:
        if value is None:
            return None
        source = Path(value)
        target = cls._copy_location(experiment, value)
        if not source.exists():
            if target.exists():  # already copied (reproducing from the archive)
                return str(target.relative_to(Path(experiment.path)))
            return value
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
        return str(target.relative_to(Path(experiment.path)))
