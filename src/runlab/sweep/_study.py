"""Studies on disk: the Optuna storage plus runlab's study file, and how a study is opened.

A study named ``NAME`` keeps its trials in Optuna's JournalStorage, a journal file
``<root>/.runlab/studies/NAME.log`` (safe for parallel workers and for resuming; ``optuna-dashboard``
opens it), or in any Optuna storage given as ``--storage URL``. Next to it runlab writes
``NAME.json``, the study file: the experiment, objectives and directions, search space, sampler,
pruner, where the trials live, and for every trial number the runs that did it. Either file damaged
is a :class:`DamagedStudyError` (see :mod:`._study_journal` for the journal's torn last line).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import SweepNotFoundError, UsageError
from ..experiment._trial import STUDY_NAME, make_pruner, open_storage, study_dir, study_file
from ..store._files import read_json, read_json_checked, write_json_atomic
from ._space import Dimension
from ._study_journal import DamagedStudyError, damaged_journal, journal_storage

__all__ = [
    "DIRECTIONS",
    "DamagedStudyError",
    "Objective",
    "PRUNERS",
    "SAMPLERS",
    "StudyFile",
    "StudySpec",
    "check_study_name",
    "list_studies",
    "load_study_file",
    "make_sampler",
    "open_study",
    "parse_objectives",
    "process_alive",
]

SAMPLERS = ("tpe", "random", "cmaes", "gp", "grid", "qmc", "nsgaii")
PRUNERS = ("none", "median", "percentile", "hyperband", "successive-halving")
DIRECTIONS = ("maximize", "minimize")
_STATS = ("last", "min", "max")
MAX_SEED = 2**32 - 1
"""The largest seed Optuna's samplers take (numpy's); a continued study's seed wraps around within it."""


@value_class(frozen=True)
class Objective:
    """What a trial's run gives Optuna: its return value, or a metric's ``last`` (``min``, ``max``).

    Example:
        >>> parse_objectives(["metrics.val_acc"])[0]
        Objective(metric='val_acc', stat='last')
        >>> str(parse_objectives(["metrics.loss.min"])[0]), str(parse_objectives([])[0])
        ('metrics.loss.min', 'value')
    """

    metric: str | None = None
    stat: str = "last"

    def __str__(self) -> str:
        if self.metric is None:
            return "value"
        return f"metrics.{self.metric}" + (f".{self.stat}" if self.stat != "last" else "")


def parse_objectives(texts: Sequence[str]) -> list[Objective]:
    """Parse ``--objective`` texts: ``value`` (the return value) or ``metrics.NAME[.last|.min|.max]``.

    Raises:
        UsageError: a text of another form.
    """
    if not texts:
        return [Objective()]
    out = []
    for text in texts:
        if text == "value":
            out.append(Objective())
            continue
        if not text.startswith("metrics.") or len(text) <= len("metrics."):
            raise UsageError(f"Invalid --objective {text!r}: expected 'value' (the experiment's return value) "
                             "or 'metrics.NAME' (a metric's last value; add .min or .max for another).")  # fmt: skip
        name, stat = text[len("metrics.") :], "last"
        head, _, tail = name.rpartition(".")
        if head and tail in _STATS:
            name, stat = head, tail
        out.append(Objective(name, stat))
    return out


def check_study_name(name: str) -> str:
    """``name`` when it can name a study file, else a :class:`UsageError`."""
    if not STUDY_NAME.match(name):
        raise UsageError(f"Invalid study name {name!r}: use letters, digits, '_', '.' and '-' (at most 100), "
                         "starting with a letter or digit; give one with --study NAME.")  # fmt: skip
    return name


def make_sampler(name: str, seed: int | None, space: Mapping[str, Dimension] | None, n_objectives: int) -> Any:
    """The Optuna sampler for ``--sampler NAME`` (seeded with ``seed``).

    Raises:
        UsageError: ``grid`` over a continuous range, or a single-objective sampler for several objectives.
    """
    import optuna

    s = optuna.samplers
    if name == "grid":
        if space is None:
            raise UsageError("--sampler grid needs a declared search space (--search or search:); "
                             "@experiment.search_space is define-by-run.")  # fmt: skip
        grid: dict[str, list[Any]] = {}
        for dim in space.values():
            if dim.kind == "choice":
                grid[dim.name] = list(dim.choices)
            elif dim.kind == "int" and not dim.log:
                grid[dim.name] = list(range(int(dim.low or 0), int(dim.high or 0) + 1, int(dim.step or 1)))
            elif dim.step is not None:
                n = round((float(dim.high or 0) - float(dim.low or 0)) / float(dim.step))
                grid[dim.name] = [float(dim.low or 0) + i * float(dim.step) for i in range(n + 1)]
            else:
                raise UsageError(f"--sampler grid cannot enumerate {dim.name}={dim.describe()}: give it a step "
                                 "(float(low,high,step=S)) or make it a choice(...).")  # fmt: skip
        return s.GridSampler(grid, seed=seed)
    if n_objectives > 1 and name in ("cmaes", "gp"):
        raise UsageError(f"--sampler {name} optimises one objective; with several use nsgaii (the default), "
                         "tpe, random or qmc.")  # fmt: skip
    makers: dict[str, Any] = {
        "tpe": lambda: s.TPESampler(seed=seed),
        "random": lambda: s.RandomSampler(seed=seed),
        "cmaes": lambda: s.CmaEsSampler(seed=seed),
        "gp": lambda: s.GPSampler(seed=seed),
        "qmc": lambda: s.QMCSampler(seed=seed),
        "nsgaii": lambda: s.NSGAIISampler(seed=seed),
    }
    return makers[name]()


@value_class
class StudySpec:
    """Everything ``runlab optimize`` was asked for, validated.

    Attributes:
        name: the study name.
        root: the store's root folder.
        experiment: the experiment file (or config file) each trial runs.
        objectives, directions: one direction per objective.
        space: the declared search space (None: the experiment's ``@search_space``).
        sampler, pruner: names (see :data:`SAMPLERS`, :data:`PRUNERS`).
        seed: the sampler's seed.
        repeats: runs per trial (the trial's value is their mean).
        storage: an Optuna storage URL (None: the journal file under ``.runlab/studies``).
        prune_metric: the metric reported as intermediate values (None: the objective's
            metric, else the first metric a run logs with a step).
        argv: fixed overrides of every trial.
    """

    name: str
    root: Path
    experiment: str
    objectives: list[Objective] = field(default_factory=lambda: [Objective()])
    directions: list[str] = field(default_factory=lambda: ["minimize"])
    space: dict[str, Dimension] | None = None
    sampler: str | None = None
    pruner: str = "none"
    seed: int | None = None
    repeats: int = 1
    storage: str | None = None
    prune_metric: str | None = None
    argv: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_study_name(self.name)
        if self.sampler is not None and self.sampler not in SAMPLERS:
            raise UsageError(f"Invalid sampler {self.sampler!r}: use one of {', '.join(SAMPLERS)}.")
        if self.pruner not in PRUNERS:
            raise UsageError(f"Invalid pruner {self.pruner!r}: use one of {', '.join(PRUNERS)}.")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed <= MAX_SEED):  # fmt: skip
            raise UsageError(f"Invalid --seed {self.seed!r}: Optuna's samplers take a whole number from 0 to "
                             f"{MAX_SEED} (2**32 - 1).")  # fmt: skip
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            raise UsageError(f"Invalid --repeats {self.repeats!r}: give the runs per trial, a whole number >= 1.")
        if self.prune_metric is not None and self.pruner == "none":
            raise UsageError(f"--prune-metric {self.prune_metric} names the metric a pruner reads, but no --pruner "
                             "is given, so nothing would be pruned: add --pruner median (or another), or drop "
                             "--prune-metric.")  # fmt: skip
        if len(self.directions) == 1 and len(self.objectives) > 1:
            self.directions = self.directions * len(self.objectives)
        if len(self.directions) != len(self.objectives):
            raise UsageError(f"{len(self.objectives)} objective(s) but {len(self.directions)} --direction(s): give one "
                             "--direction per --objective, or one for all.")  # fmt: skip
        bad = [d for d in self.directions if d not in DIRECTIONS]
        if bad:
            raise UsageError(f"Invalid --direction {bad[0]!r}: use maximize or minimize.")
        if self.pruner != "none" and len(self.objectives) > 1:
            raise UsageError("Pruning needs one objective (Optuna cannot prune multi-objective studies): "
                             "drop --pruner or give one --objective.")  # fmt: skip
        if self.prune_metric is None and self.objectives[0].metric is not None:
            self.prune_metric = self.objectives[0].metric
        if self.sampler is None:
            self.sampler = "nsgaii" if len(self.objectives) > 1 else "tpe"

    @property
    def space_record(self) -> Any:
        """The search space as stored with the study (compared when a study is continued)."""
        if self.space is None:
            return "@search_space"
        return {name: dim.to_dict() for name, dim in self.space.items()}


@value_class
class StudyFile:
    """runlab's record of a study (``<root>/.runlab/studies/NAME.json``).

    Attributes:
        name, experiment, objectives, directions, space, sampler, pruner, storage, prune_metric:
            as in :class:`StudySpec` (objectives as text).
        runs: ``{trial number (text): [run ids]}``.
        created, updated: times (seconds since the epoch); pid and host of the last driver.
    """

    name: str
    root: Path
    data: dict[str, Any]
    new: bool = False
    """Whether this process created the study (:func:`open_study`); :meth:`discard` removes it again."""
    damage: DamagedStudyError | None = None
    """Why the file cannot be read (:func:`list_studies` lists such a study with empty ``data``);
    opening its storage raises it."""

    def discard(self) -> None:
        """Remove a study this process created (its trials from the storage, its journal and study file).

        Used when the first trial shows the command was bad input (an objective metric no run
        logs), so the store is left as it was before the command. The trials' runs stay.
        """
        import optuna

        try:
            optuna.delete_study(study_name=self.name, storage=self.storage())
        except KeyError:
            pass
        for path in (self.path, self.path.with_suffix(".lock"), self.path.with_suffix(".log")):
            if path.is_file() and (path.suffix != ".log" or not self.data.get("storage")):
                path.unlink()

    @property
    def path(self) -> Path:
        """Where the file lives."""
        return study_file(self.root, self.name)

    @property
    def drivers(self) -> list[dict[str, Any]]:
        """The optimize processes that worked on the study (``host``, ``pid``), dead local ones left out."""
        drivers: list[dict[str, Any]] = self.data.setdefault("drivers", [])
        return drivers

    def _merge_drivers(self, on_disk: Sequence[Mapping[str, Any]]) -> None:
        host = socket.gethostname()
        merged: dict[tuple[Any, Any], dict[str, Any]] = {}
        for d in [*on_disk, *self.drivers]:
            if d.get("host") == host and not process_alive(int(d.get("pid") or 0)):
                continue
            merged[(d.get("host"), d.get("pid"))] = {"host": d.get("host"), "pid": d.get("pid")}
        self.data["drivers"] = list(merged.values())

    @property
    def runs(self) -> dict[str, list[str]]:
        """Trial number (as text) -> the ids of its runs."""
        runs: dict[str, list[str]] = self.data.setdefault("runs", {})
        return runs

    @property
    def run_ids(self) -> list[str]:
        """Every run of the study, by trial number."""
        return [r for _, ids in sorted(self.runs.items(), key=lambda kv: int(kv[0])) for r in ids]

    def add_runs(self, number: int, run_ids: Sequence[str]) -> None:
        """Record the runs of trial ``number``."""
        known = self.runs.setdefault(str(number), [])
        known.extend(r for r in run_ids if r not in known)

    def save(self) -> None:
        """Replace the file atomically (not fsynced: the runs also name their study and trial).

        Several optimize processes may work on one study: under a lock, the runs another one
        recorded since this one read the file are merged in before writing.
        """
        self.data["updated"] = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self.path.with_suffix(".lock")):
            try:
                disk = read_json(self.path)
            except (OSError, ValueError):
                disk = {}
            self._merge_drivers(disk.get("drivers") or [])
            for number, ids in (disk.get("runs") or {}).items():
                known = self.runs.setdefault(number, [])
                known.extend(r for r in ids if r not in known)
            write_json_atomic(self.path, self.data, fsync=False)

    def storage(self) -> Any:
        """The study's Optuna storage, for writing (a torn last line of its journal is cut off).

        Raises:
            DamagedStudyError: the study file or the journal cannot be read.
        """
        if self.damage is not None:
            raise self.damage
        return _writable_storage(self.root, self.name, self.data.get("storage"))

    def load(self) -> Any:
        """The ``optuna.Study`` (with its pruner)."""
        import optuna

        return optuna.load_study(study_name=self.name, storage=self.storage(),
                                 pruner=make_pruner(self.data.get("pruner") or "none"))  # fmt: skip

    def load_read_only(self) -> Any:
        """The ``optuna.Study``, opened without creating anything (for the UI and other readers).

        :meth:`load` creates the journal file (and the studies folder) when they are missing,
        as a driver must; a reader must not, so a missing storage is an error here.

        Raises:
            SweepNotFoundError: the study's journal (or SQLite file) is missing, or the storage
                holds no study of this name.
            DamagedStudyError: the study file or the journal cannot be read, or the journal holds
                no study of this name.
        """
        import optuna

        if self.damage is not None:
            raise self.damage
        url = self.data.get("storage")
        if url:
            target = str(url).removeprefix("sqlite:///") if str(url).startswith("sqlite:///") else None
            if target is not None and target != ":memory:" and not Path(target).is_file():
                raise SweepNotFoundError(f"Study {self.name!r} keeps its trials in {url}, which does not exist.")
            storage = optuna.storages.get_storage(url)
        else:
            journal = self.path.with_suffix(".log")
            if not journal.is_file():
                raise SweepNotFoundError(f"Study {self.name!r} has no trials file {journal}: it was removed "
                                         "or never written.")  # fmt: skip
            storage = journal_storage(journal, self.name, write=False)
        try:
            return optuna.load_study(study_name=self.name, storage=storage)
        except KeyError:
            if not url:
                raise damaged_journal(journal, self.name) from None
            raise SweepNotFoundError(f"Study {self.name!r} is not in its storage {url}.") from None


def _writable_storage(root: Path, name: str, url: str | None) -> Any:
    """The storage a driver writes to: ``url``, else the journal with a torn last line cut off."""
    if url:
        return open_storage(root, name, url)
    folder = study_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    return journal_storage(folder / f"{name}.log", name, write=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` between processes (POSIX ``flock``; none elsewhere)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_study_file(root: Path, name: str) -> StudyFile:
    """The study file of study ``name``.

    Raises:
        SweepNotFoundError: no such study (a :class:`UsageError`; the message lists the store's studies).
        DamagedStudyError: the study file cannot be read (a :class:`UsageError` too).
    """
    path = study_file(root, name)
    if not STUDY_NAME.match(name) or not path.is_file():  # a name is never a path out of .runlab/studies
        names = [s.name for s in list_studies(root)]
        hint = f"studies: {', '.join(names)}" if names else "no studies yet; start one with runlab optimize"
        raise SweepNotFoundError(f"No study named {name!r} in {root} ({hint}).")
    return StudyFile(name, Path(root), _read_study_file(path, name))


_NONE = type(None)
_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,), "experiment": (str,), "objectives": (list,), "directions": (list,), "space": (dict, str),
    "sampler": (str, _NONE), "pruner": (str, _NONE), "seed": (int, _NONE), "repeats": (int,),
    "storage": (str, _NONE), "prune_metric": (str, _NONE), "argv": (list,), "drivers": (list,),
    "created": (int, float), "updated": (int, float), "runs": (dict,),
}  # fmt: skip
"""The study file's fields and their types (a field may be missing: a study file of an older runlab)."""
_ITEMS = {"objectives": str, "directions": str, "argv": str, "drivers": dict}


def _read_study_file(path: Path, name: str) -> dict[str, Any]:
    """The content of study ``name``'s file at ``path``, its fields checked once here.

    Raises:
        DamagedStudyError: the file is empty, not JSON, not an object or has a field of the wrong
            type (one line naming it, what is wrong and the way out).
    """
    data, what = read_json_checked(path, _study_file_problem)
    if what is None:
        return data  # type: ignore[no-any-return]  # checked by _study_file_problem
    raise DamagedStudyError(f"The study file of study {name!r} is damaged: {path} {what}. Delete it: the next "
                            "runlab optimize of the study with the same options writes it again (the trials stay "
                            "in its storage, the runs keep their links).", str(path), f"study file {what}")  # fmt: skip


def _study_file_problem(data: Any) -> str | None:
    """What is wrong with a study file's content (None: nothing)."""
    if not isinstance(data, dict):
        return f"holds {type(data).__name__}, not an object"
    for key, types in _FIELDS.items():
        value = data.get(key)
        if key in data and (not isinstance(value, types) or (isinstance(value, bool) and bool not in types)):
            return (
                f"has a field of the wrong type: {key} is {value!r:.60}, not {' or '.join(t.__name__ for t in types)}"
            )
        item = _ITEMS.get(key)
        bad = [v for v in value if not isinstance(v, item)] if item is not None and isinstance(value, list) else []
        if item is not None and bad:
            return f"has a field of the wrong type: {key} holds {bad[0]!r:.60}, not {item.__name__}"
    bad = [d for d in data.get("directions") or [] if d not in DIRECTIONS]
    if bad:
        return f"has direction {bad[0]!r}, not {' or '.join(DIRECTIONS)}"
    if data.get("pruner") not in (None, *PRUNERS):
        return f"has pruner {data['pruner']!r}, not one of {', '.join(PRUNERS)}"
    for driver in data.get("drivers") or []:
        pid = driver.get("pid")
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int)):
            return f"has a field of the wrong type: a pid of drivers is {pid!r:.60}, not int"
    for number, ids in (data.get("runs") or {}).items():
        if not number.isdigit() or not isinstance(ids, list) or not all(isinstance(r, str) for r in ids):
            return f"has a field of the wrong type: runs[{number!r}] is {ids!r:.60}, not a list of run ids"
    return None


def list_studies(root: Path) -> Iterator[StudyFile]:
    """Every study of the store, newest first; one whose study file cannot be read comes last, with
    empty ``data`` and :attr:`StudyFile.damage` saying why."""
    folder = study_dir(root)
    files = []
    for path in folder.glob("*.json") if folder.is_dir() else ():
        if not STUDY_NAME.match(path.stem):
            continue
        try:
            files.append(StudyFile(path.stem, Path(root), _read_study_file(path, path.stem)))
        except DamagedStudyError as exc:
            files.append(StudyFile(path.stem, Path(root), {}, damage=exc))
        except OSError:  # removed since the glob, or unreadable: not a study this command can see
            continue
    yield from sorted(files, key=lambda f: -float(f.data.get("created") or 0))


def _check_same(spec: StudySpec, existing: Mapping[str, Any]) -> None:
    fix = f"use the same options to continue it, or start a new study with --study NAME (not {spec.name!r})"
    old_dirs = existing.get("directions")
    if old_dirs is not None and list(old_dirs) != spec.directions:
        raise UsageError(f"Study {spec.name!r} was created with direction(s) {', '.join(old_dirs)}, not "
                         f"{', '.join(spec.directions)}: {fix}.")  # fmt: skip
    old_obj = existing.get("objectives")
    if old_obj is not None and list(old_obj) != [str(o) for o in spec.objectives]:
        raise UsageError(f"Study {spec.name!r} optimises {', '.join(old_obj)}, not "
                         f"{', '.join(map(str, spec.objectives))}: {fix}.")  # fmt: skip
    old_space = existing.get("space")
    if old_space is not None and old_space != spec.space_record:
        raise UsageError(f"Study {spec.name!r} was created with another search space ({_space_text(old_space)}), "
                         f"not {_space_text(spec.space_record)}: {fix}.")  # fmt: skip


def _space_text(space: Any) -> str:
    if not isinstance(space, Mapping):
        return str(space)
    return ", ".join(f"{k}={v}" for k, v in space.items())


def open_study(spec: StudySpec, experiment_path: str) -> tuple[Any, StudyFile]:
    """Create study ``spec.name`` or continue it; returns the ``optuna.Study`` and its :class:`StudyFile`.

    Everything is checked before anything is written: a study that exists with other
    directions, objectives or search space is a :class:`UsageError` and stays as it was.
    """
    import optuna

    path = study_file(spec.root, spec.name)
    existing: dict[str, Any] | None = _read_study_file(path, spec.name) if path.is_file() else None
    if existing is not None:
        _check_same(spec, existing)
    n_objectives = len(spec.objectives)
    sampler = make_sampler(spec.sampler or "tpe", spec.seed, spec.space, n_objectives)  # refused before any write
    storage = _writable_storage(spec.root, spec.name, spec.storage)
    done = 0
    try:
        found = optuna.load_study(study_name=spec.name, storage=storage)
        done = len(found.get_trials(deepcopy=False))
        if existing is None and [d.name.lower() for d in found.directions] != spec.directions:
            raise UsageError(f"Study {spec.name!r} in {spec.storage or 'its journal'} has direction(s) "
                             f"{', '.join(d.name.lower() for d in found.directions)}: use those, or another "
                             "--study NAME.")  # fmt: skip
    except KeyError:
        if existing is not None and not spec.storage:  # the journal lost the study: not a new one to start
            raise damaged_journal(path.with_suffix(".log"), spec.name) from None
    if done and spec.seed is not None:  # a continued study's sampler gets a new seed: not the first trials again
        sampler = make_sampler(spec.sampler or "tpe", (spec.seed + done) % (MAX_SEED + 1), spec.space, n_objectives)
    study = optuna.create_study(study_name=spec.name, storage=storage, sampler=sampler,
                                pruner=make_pruner(spec.pruner), directions=list(spec.directions),  # type: ignore[arg-type]
                                load_if_exists=True)  # fmt: skip
    data = dict(existing or {})
    data.update({
        "name": spec.name, "experiment": experiment_path, "objectives": [str(o) for o in spec.objectives],
        "directions": spec.directions, "space": spec.space_record, "sampler": spec.sampler, "pruner": spec.pruner,
        "seed": spec.seed, "repeats": spec.repeats, "storage": spec.storage, "prune_metric": spec.prune_metric,
        "argv": spec.argv,
    })  # fmt: skip
    data.setdefault("drivers", []).append({"host": socket.gethostname(), "pid": os.getpid()})
    data.setdefault("created", time.time())
    data.setdefault("runs", {})
    record = StudyFile(spec.name, Path(spec.root), data, new=existing is None)
    record.save()
    return study, record
