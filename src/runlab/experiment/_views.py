"""PyComex's introspection and logging of a functional experiment, mixed into :class:`runlab.Experiment`.

``e.log_pretty(obj)``, ``e.log_parameters([names])``, ``experiment.name``, ``.debug``, ``.mixins``,
``.hooks`` (PyComex's ``hook_map``: hook name -> functions), ``.error``, the archive helpers
``Experiment.is_archive(path)`` and ``Experiment.load_metadata(path)``, and
``Experiment.import_from(path)`` (the experiment a file defines, loaded, not run).

Example:
    >>> import tempfile
    >>> from runlab import Experiment
    >>> exp = Experiment(glob={"LR": 0.1, "__doc__": "Demo."}, root=tempfile.mkdtemp(), namespace="views")
    >>> exp.log_pretty({"a": [1, 2]})  # doctest: +ELLIPSIS
    20... | {'a': [1, 2]}
    >>> exp.name, exp.mixins, exp.error, exp.debug
    ('views', [], None, False)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ExperimentNotFoundError, RunNotFoundError

if TYPE_CHECKING:
    from ..cache import Cache
    from ._hooks import HookEntries
    from ._mixin import ExperimentMixin
    from ._parameters import ParameterSet

__all__ = ["ExperimentViews"]


class ExperimentViews:
    """Read-only views and logging helpers of an experiment (see the module docstring)."""

    @property
    def cache(self) -> Cache:
        """PyComex's experiment cache: ``@e.cache.cached(name, scope=(...))`` keeps results in the store's
        cache (``<root>/.runlab/cache``), shared by every run; ``__CACHING__=False`` recomputes (docs/cache.md).
        """
        from ..cache import default_cache

        store = getattr(self, "store", None)
        root = store.root if store is not None else getattr(self, "root", None)
        return default_cache(getattr(root, "root", root))  # root= may be a Store

    if TYPE_CHECKING:
        params: ParameterSet
        included: list[ExperimentMixin]
        console_width: int
        current_run: Any

        @property
        def experiment_name(self) -> str | None: ...
        def hook_entries(self) -> HookEntries: ...
        def log(self, message: Any) -> None: ...

    # -- logging ------------------------------------------------------------------------
    def log_pretty(self, obj: Any) -> None:
        """Log ``obj`` pretty-printed (:func:`pprint.pformat` at the console width), one line at a time."""
        import pprint  # here: most runs never pretty-print

        for line in pprint.pformat(obj, width=max(self.console_width - 22, 40)).splitlines():
            self.log(line)

    def log_parameters(self, names: Iterable[str] | None = None) -> None:
        """Log every parameter (special ones last), or only ``names``, with its value.

        A value whose ``repr`` raises is logged as ``<TypeName: repr failed: ...>``.

        Raises:
            ParameterError: a name is not a parameter of the experiment.
        """
        for line in self.params.value_lines(self.console_width, names):
            self.log(line)

    # -- introspection ------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        """The experiment's name (its file's name without ``.py``, else its namespace)."""
        return self.experiment_name

    @property
    def debug(self) -> bool:
        """Debug mode: ``__DEBUG__`` of the running run, else its default (set by the module's ``__DEBUG__``
        global, ``debug=True``, a config or ``experiment.debug = True``). A debug run goes to the reusable
        folder ``debug``."""
        return bool(self.params.values.get("__DEBUG__")) if "params" in self.__dict__ else False

    @debug.setter
    def debug(self, value: bool) -> None:
        self.params.set_default("__DEBUG__", bool(value))

    @property
    def mixins(self) -> list[ExperimentMixin]:
        """The mixins included, in order."""
        return list(self.included)

    @property
    def hooks(self) -> dict[str, list[Callable[..., Any]]]:
        """PyComex's ``hook_map``: each hook name with its functions, in the order they run."""
        return {name: [entry.function for entry in entries] for name, entries in self.hook_entries().items()}

    @property
    def error(self) -> dict[str, Any] | None:
        """The error of the last run (type, message, traceback), or None."""
        run = self.current_run
        if run is None:
            return None
        error = run.metadata.get("error")
        return error if isinstance(error, dict) else None

    # -- archives -----------------------------------------------------------------------
    @staticmethod
    def is_archive(path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` is the folder of a run that completed (PyComex: an archive whose status is done)."""
        from ..store._runfile import read_run_file

        folder = Path(path)
        if not (folder / "run.json").is_file():
            return False
        found = read_run_file(folder)
        return not found.problems and found.meta.get("status") == "completed"

    @staticmethod
    def load_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
        """The record (``run.json``) of the run folder ``path``.

        Raises:
            RunNotFoundError: ``path`` is not a run folder.
        """
        from ..store._files import read_json

        folder = Path(path)
        if not (folder / "run.json").is_file():
            raise RunNotFoundError(f"{folder} is not a run folder (it has no run.json). Give a run's folder.")
        return dict(read_json(folder / "run.json"))

    @classmethod
    def import_from(cls, experiment_path: str | os.PathLike[str], glob: dict[str, Any] | None = None) -> Any:
        """The experiment object the file ``experiment_path`` defines, loaded but not run (PyComex's ``import_from``).

        A relative path is taken from the folder of ``glob["__file__"]`` (else the current folder).

        Raises:
            ValidationError: no such ``.py`` file, or a syntax error.
            ExperimentNotFoundError: the file defines no experiment.
        """
        from ._construction import find_instance, load_module, resolve_file

        file = resolve_file(experiment_path, glob, "experiment")
        found = find_instance(load_module(file, "experiment"), cls, "experiment")
        if found is None:
            raise ExperimentNotFoundError(
                f"{file} defines no experiment to import: make one there with "
                "'experiment = Experiment(glob=globals())'."
            )
        return found
