"""Config files: YAML, TOML and JSON (plus Python via :mod:`._config`), merging, ``extend`` and ``include``."""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import field
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ._coerce import parse_text
from ._config import Config, open_python_config
from ._errors import ConfigError, did_you_mean
from ._sweep import SweepMode, expand, parse_sweep, sweep_values
from ._yaml import load_yaml

__all__ = [
    "CONFIG_SUFFIXES",
    "ConfigSpec",
    "interpolate_env",
    "iter_configs",
    "load_config",
    "load_dir",
    "load_spec",
    "read_file",
]

CONFIG_SUFFIXES = (".yml", ".yaml", ".toml", ".json")
_MAPPING_KEYS = ("parameters", "sweep", "kwargs", "metadata", "search")
_TEXT_KEYS = ("namespace", "name", "description")
_MARKERS = ("pycomex",)  # PyComex marks its YAML experiment configs with `pycomex: true`; accepted, ignored
_KEYS = ("extend", "root", "base_path", "include", "args", "sweep_mode", *_MAPPING_KEYS, *_TEXT_KEYS, *_MARKERS)
_ENV = re.compile(r"\$(\$?)\{([^}:]*)(?::-([^}]*))?\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@value_class
class ConfigSpec:
    """A config file's content after merging, ``extend`` and ``include`` (before expansion).

    Attributes:
        parameters: parameter values (may contain sweep text such as ``"choice(1, 2)"``).
        sweep: parameter names (dotted for nested) to lists of alternatives or sweep text.
        sweep_mode: ``"grid"`` (every combination; the default when ``None``) or ``"zip"``.
        extend: the experiment ``.py`` file the chain ends at, or ``None``. Not run here: the
            experiment layer loads it and applies these parameters on top of its defaults.
        root, namespace, name, description: where and how runs are stored (``None`` when unset).
        include: mixin files, absolute, in order (bases first); recorded, not loaded.
        search: the Optuna search space (reserved; kept as written).
        args, kwargs, metadata: as in :class:`Config`.
        sources: every file read, bases first.
    """

    parameters: dict[str, Any] = field(default_factory=dict)
    sweep: dict[str, Any] = field(default_factory=dict)
    sweep_mode: SweepMode | None = None
    extend: Path | None = None
    root: Path | None = None
    namespace: str | None = None
    name: str | None = None
    description: str | None = None
    include: list[Path] = field(default_factory=list)
    search: dict[str, Any] | None = None
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)

    def merge(self, other: ConfigSpec) -> ConfigSpec:
        """A new spec: ``other`` over this one (dicts merge deeply, ``include`` lists concatenate)."""
        out = copy.deepcopy(self)
        out.parameters = _deep_merge(out.parameters, other.parameters)
        out.sweep = {**out.sweep, **other.sweep}
        out.kwargs = _deep_merge(out.kwargs, other.kwargs)
        out.metadata = _deep_merge(out.metadata, other.metadata)
        if other.search is not None:
            out.search = _deep_merge(out.search or {}, other.search)
        for name in ("extend", "root", "namespace", "name", "description"):
            if getattr(other, name) is not None:
                setattr(out, name, getattr(other, name))
        if other.args:
            out.args = list(other.args)
        if other.sweep_mode is not None:
            out.sweep_mode = other.sweep_mode
        out.include = list(dict.fromkeys([*out.include, *other.include]))
        out.sources = [*out.sources, *other.sources]
        return out

    def run_info(self) -> dict[str, Any]:
        """The non-parameter settings, as plain JSON-ready values (stored in each config's metadata)."""
        info: dict[str, Any] = {"sources": [str(p) for p in self.sources]}
        for name in ("extend", "root"):
            if getattr(self, name) is not None:
                info[name] = str(getattr(self, name))
        for name in _TEXT_KEYS:
            if getattr(self, name) is not None:
                info[name] = getattr(self, name)
        if self.include:
            info["include"] = [str(p) for p in self.include]
        if self.search is not None:
            info["search"] = self.search
        return info

    def to_configs(self) -> list[Config]:
        """The expanded configs: one per combination of the sweeps in ``parameters`` and ``sweep``.

        Raises:
            ConfigError: an empty or malformed sweep, or zip lists of different lengths.
        """
        from ._overrides import get_dotted, set_dotted

        values = copy.deepcopy(self.parameters)
        for dotted, alternatives in self.sweep.items():
            if not all(dotted.split(".")):
                raise ConfigError(f"Invalid sweep name {dotted!r} in {self._where()}: a part between dots is empty. "
                                  "Write NAME or NAME.key.", self._where())  # fmt: skip
            try:
                given = get_dotted(values, dotted.split("."))
            except (KeyError, IndexError, TypeError):
                given = None
            if isinstance(given, str) and parse_sweep(given) is not None:  # one would silently replace the other
                raise ConfigError(f"{dotted!r} is swept twice in {self._where()}: under parameters ({given!r}) and "
                                  f"under sweep ({alternatives!r}). Keep one of them.", self._where())  # fmt: skip
            if isinstance(alternatives, (list, tuple)) and not alternatives:
                raise ConfigError(f"Empty sweep for {dotted!r} in {self._where()}: give at least one value.",
                                  self._where())  # fmt: skip
            if not isinstance(alternatives, (str, list, tuple)) or (
                isinstance(alternatives, str) and parse_sweep(alternatives) is None  # one value, not alternatives
            ):
                raise ConfigError(f"Sweep values for {dotted!r} in {self._where()} must be a list or sweep text "
                                  f"such as 'linspace(0, 1, 5)' or 'choice(1, 2)', got {alternatives!r}. Write the "
                                  f"alternatives as a list ({dotted}: [a, b]), or set a single value under "
                                  "parameters.", self._where())  # fmt: skip
            try:  # sweep text stays text, read by expand()
                set_dotted(
                    values, dotted, alternatives if isinstance(alternatives, str) else sweep_values(alternatives)
                )
            except (TypeError, IndexError) as exc:
                raise ConfigError(f"Cannot sweep {dotted!r} in {self._where()}: {exc}. Sweep the whole parameter, "
                                  "or make it a mapping under parameters.", self._where()) from None  # fmt: skip
        metadata = {**copy.deepcopy(self.metadata), **self.run_info()}
        base = Config(values, list(self.args), copy.deepcopy(self.kwargs), metadata)
        try:
            configs = expand(base, mode=self.sweep_mode or "grid", parse_strings=True)
        except ConfigError as exc:
            raise ConfigError(f"{self._where()}: {exc}", self._where()) from None
        for config in configs:
            config.metadata["config_id"] = config.id
        return configs

    def _where(self) -> str:
        return ", ".join(str(p) for p in self.sources) or "<config>"


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(copy.deepcopy(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_file(path: str | Path, keys: str = "parameters, extend, ...") -> dict[str, Any]:
    """Parse one YAML, TOML or JSON file into a dict (YAML with ``safe_load`` only).

    ``keys`` says what the mapping should hold when the file holds something else (a list).

    Nothing is executed. YAML aliases may add at most :data:`~runlab.params._yaml.MAX_ALIAS_NODES`
    values (no "billion laughs" file can make runlab grow to gigabytes).

    Raises:
        ConfigError: the file is missing, malformed (with its line number), not a mapping, or
            its YAML aliases expand too far or refer to themselves.
    """
    path = Path(path)
    if not path.is_file():
        found = "is a folder, not a file" if path.is_dir() else "not found"
        raise ConfigError(f"Config file {found}: {path}.", str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        bad_line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}, line {bad_line}); save the file as UTF-8.",
                          str(path), bad_line) from None  # fmt: skip
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        import yaml

        try:
            data = load_yaml(text, path)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            at = f" at line {line}, column {mark.column + 1}" if mark is not None else ""
            raise ConfigError(f"Malformed YAML in {path}{at}: {problem}. Fix the syntax on that line.",
                              str(path), line) from None  # fmt: skip
    elif suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads(text, parse_float=lambda number: _float(number, text, path))
        except tomllib.TOMLDecodeError as exc:
            match = re.search(r"line (\d+)", str(exc))
            raise ConfigError(f"Malformed TOML in {path}: {exc}.", str(path),
                              int(match.group(1)) if match else None) from None  # fmt: skip
    elif suffix == ".json":
        try:
            data = json.loads(text, parse_float=lambda number: _float(number, text, path),
                              object_pairs_hook=lambda pairs: _json_object(pairs, text, path))  # fmt: skip
        except json.JSONDecodeError as exc:
            raise ConfigError(f"Malformed JSON in {path} at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                              str(path), exc.lineno) from None  # fmt: skip
    else:
        raise ConfigError(f"Unknown config file type {path.suffix!r} for {path}; use .yml, .yaml, .toml, .json "
                          "or .py.", str(path))  # fmt: skip
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of keys ({keys}), got {type(data).__name__}.",
                          str(path))  # fmt: skip
    return data


def _line_of(text: str, pattern: str) -> int | None:
    """The line of the first match of the regular expression ``pattern`` in ``text``."""
    found = re.search(pattern, text)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _float(number: str, text: str, path: Path) -> float:
    """A JSON or TOML float, refused when it does not fit (``1e400`` would become ``inf``)."""
    from ._coerce import fits_float

    value = float(number)
    if not fits_float(number, value):
        line = _line_of(text, r"(?<![\w.])" + re.escape(number) + r"(?![\w.])")
        at = f" at line {line}" if line else ""
        raise ConfigError(f"Refused to load {path}{at}: the number {number} does not fit in a float (it would "
                          f"become {value!r}); write a number between about 5e-324 and 1.8e308 in size, 0, or "
                          "inf.", str(path), line)  # fmt: skip
    return value


def _json_object(pairs: list[tuple[str, Any]], text: str, path: Path) -> dict[str, Any]:
    """A JSON object, refused when a key is given twice (JSON parsers keep the last one silently)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            pattern = re.escape(json.dumps(key)) + r"\s*:"
            lines = sorted({text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text)})
            at = f" (it appears at line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:5]))})"
            raise ConfigError(f"Refused to load {path}: the key {key!r} is given twice in one object{at}; JSON "
                              "would keep only the last. Keep one of them.", str(path),
                              lines[-1] if lines else None)  # fmt: skip
        data[key] = value
    return data


def interpolate_env(value: Any, where: str = "", environ: Mapping[str, str] | None = None) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string inside ``value`` (``$${VAR}`` keeps the text).

    A string that is exactly one reference is read as a scalar (``"${N}"`` with ``N=3`` gives ``3``).

    Raises:
        ConfigError: a variable is not set and has no default.

    Example:
        >>> interpolate_env({"lr": "${LR:-0.1}", "p": "${HOME_DIR:-/data}/x"}, environ={})
        {'lr': 0.1, 'p': '/data/x'}
    """
    env = os.environ if environ is None else environ
    if isinstance(value, dict):
        return {k: interpolate_env(v, f"{where}.{k}" if where else str(k), env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate_env(v, f"{where}[{i}]", env) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name, default = match.groups()
        if escaped:
            return match.group(0)[1:]
        if not _NAME.match(name):
            raise ConfigError(f"Invalid environment reference {match.group(0)!r} at {where}: write ${{NAME}} or "
                              "${NAME:-default}.")  # fmt: skip
        if name in env:
            return env[name]
        if default is None:
            raise ConfigError(f"Environment variable {name!r} is not set (used at {where}). Set it, or give a "
                              f"default: ${{{name}:-value}}.")  # fmt: skip
        return default

    whole = _ENV.fullmatch(value)
    result = _ENV.sub(replace, value)
    if whole and not whole.group(1):
        scalar = parse_text(result)
        return scalar if isinstance(scalar, (bool, int, float)) or scalar is None else result
    return result


def _check_types(data: Mapping[str, Any], path: Path) -> None:
    for key, value in data.items():
        if not isinstance(key, str) or key not in _KEYS:
            valid = ", ".join(k for k in _KEYS if k not in ("base_path", *_MARKERS))
            raise ConfigError(f"Unknown key {key!r} in {path}.{did_you_mean(str(key), _KEYS)} Valid keys: {valid}.",
                              str(path))  # fmt: skip
        expected: type | tuple[type, ...] | None = None
        if key in _MAPPING_KEYS:
            expected = dict
        elif key in (*_TEXT_KEYS, "extend", "root", "base_path"):
            expected = str
        elif key == "args":
            expected = list
        elif key == "include":
            expected = (str, list)
        elif key in _MARKERS:
            expected = bool
        if expected is not None and value is not None and not isinstance(value, expected):
            names: dict[Any, str] = {dict: "a mapping", str: "a string", list: "a list", bool: "true or false"}
            want = names.get(expected, "a string or a list")
            raise ConfigError(f"Invalid value for {key!r} in {path}: expected {want}, got {type(value).__name__} "
                              f"{value!r}.", str(path))  # fmt: skip
        if key in ("extend", "root", "base_path") and isinstance(value, str) and not value.strip():
            raise ConfigError(f"Invalid value for {key!r} in {path}: the path is empty; name a file (or remove the "
                              "key).", str(path))  # fmt: skip
        if key == "sweep_mode" and value not in ("grid", "zip"):
            raise ConfigError(f"Invalid value for 'sweep_mode' in {path}: {value!r}; use 'grid' or 'zip'.", str(path))
    if "root" in data and "base_path" in data:
        raise ConfigError(f"{path} gives both 'root' and 'base_path' (an alias); keep 'root'.", str(path))
    include = data.get("include")
    if isinstance(include, list) and not all(isinstance(i, str) for i in include):
        raise ConfigError(f"Invalid value for 'include' in {path}: every item must be a file path.", str(path))


def _resolve(folder: Path, value: str, key: str, source: Path, must_exist: bool = True) -> Path:
    target = Path(os.path.expanduser(value))
    target = (target if target.is_absolute() else folder / target).resolve()
    if must_exist and not target.is_file():
        what = "is a folder, not a file" if target.is_dir() else "does not exist"
        raise ConfigError(f"{key!r} in {source} names {value!r}, which {what} (looked for {target}).",
                          str(source))  # fmt: skip
    return target


def _spec_of_file(path: Path, chain: tuple[Path, ...]) -> ConfigSpec:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain[chain.index(path) :], path))
        raise ConfigError(f"'extend' cycle: {cycle}. Remove one of these 'extend' keys.", str(path))
    data = read_file(path)
    try:
        data = interpolate_env(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}", str(path)) from None
    _check_types(data, path)
    folder = path.parent
    base = ConfigSpec()
    spec = ConfigSpec(sources=[path])
    extend = data.get("extend")
    if extend:
        target = _resolve(folder, extend, "extend", path)
        if target.suffix.lower() in CONFIG_SUFFIXES:
            base = _spec_of_file(target, (*chain, path))
        elif target.suffix == ".py":
            spec.extend = target
        else:
            raise ConfigError(f"'extend' in {path} must name a config file ({', '.join(CONFIG_SUFFIXES)}) or an "
                              f"experiment .py file, got {extend!r}.", str(path))  # fmt: skip
    root = data.get("root", data.get("base_path"))
    if root is not None:
        spec.root = _resolve(folder, root, "root", path, must_exist=False)
    include = data.get("include") or []
    spec.include = [_resolve(folder, i, "include", path) for i in ([include] if isinstance(include, str) else include)]
    for key in _TEXT_KEYS:
        setattr(spec, key, data.get(key))
    for key in ("parameters", "sweep", "kwargs", "metadata"):
        setattr(spec, key, dict(data.get(key) or {}))
    spec.search = data.get("search")
    spec.args = list(data.get("args") or [])
    spec.sweep_mode = data.get("sweep_mode")
    return base.merge(spec)


def load_spec(*paths: str | Path) -> ConfigSpec:
    """Read YAML/TOML/JSON config files, follow their ``extend`` chains and merge them left to right.

    Relative paths in ``extend``, ``include`` and ``root`` are resolved against each file's folder;
    ``${VAR}`` references are replaced from the environment. ``base_path`` is accepted as an alias
    of ``root`` (PyComex configs).

    Raises:
        ConfigError: malformed files, unknown keys, wrong value types, a missing environment
            variable, a missing file, or an ``extend`` cycle.
    """
    if not paths:
        raise ConfigError("No config file given.")
    spec = ConfigSpec()
    for path in paths:
        if Path(path).suffix == ".py":
            raise ConfigError(f"{path}: Python configs cannot be merged with other files; load it on its own.",
                              str(path))  # fmt: skip
        spec = spec.merge(_spec_of_file(Path(path), ()))
    return spec


def load_dir(folder: str | Path) -> list[Config]:
    """Load every YAML/TOML/JSON file directly inside ``folder`` (sorted by name) and concatenate their configs.

    Python files are skipped (a folder of configs often holds the experiments and mixins they name).

    Raises:
        ConfigError: the folder has no config files, or one of them is invalid.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in CONFIG_SUFFIXES)
    if not files:
        raise ConfigError(f"No config files ({', '.join(CONFIG_SUFFIXES)}) in {folder}.", str(folder))
    configs: list[Config] = []
    for file in files:
        configs.extend(load_config(file))
    return configs


def load_config(path: str | Path, *more: str | Path) -> list[Config]:
    """Load and expand configs from a file, several files merged left to right, or a folder.

    - ``.yml``/``.yaml``/``.toml``/``.json``: see :func:`load_spec`; then :meth:`ConfigSpec.to_configs`.
      Each config's metadata holds the run settings (``sources``, ``extend``, ``root``, ``namespace``,
      ``name``, ``description``, ``include``, ``search``) and its ``config_id``.
    - ``.py``: ``CONFIG`` or ``config_gen()`` (see :func:`load_python_config`); :class:`Sweep` values
      in the configs are expanded too.
    - a folder: :func:`load_dir`.

    Raises:
        ConfigError: any problem with the files (the message names the file and, where known, the line).

    Example:
        >>> import pathlib, tempfile
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "c.yml"
        >>> _ = p.write_text("parameters:\\n  LR: logspace(-3, -1, 3)\\n")
        >>> [c.globals_dict["LR"] for c in load_config(p)]
        [0.001, 0.01, 0.1]
    """
    configs, _ = iter_configs(path, *more)
    return list(configs)


def iter_configs(path: str | Path, *more: str | Path) -> tuple[Iterator[Config], bool]:
    """:func:`load_config`, lazily: the configs one at a time, and whether there is exactly one.

    A Python config's ``config_gen()`` is consulted for each next config only when it is
    asked for (after the previous run finished, for ``runlab run``), so a generator can read
    what the previous run left behind (KohakuEngine's resume pattern). Other files are read
    at once.

    Raises:
        ConfigError: as :func:`load_config` (for a generator, also while iterating).
    """
    first = Path(path)
    if not more and first.is_dir():
        loaded = load_dir(first)
        return iter(loaded), len(loaded) == 1
    if not more and first.suffix == ".py":
        produced, single = open_python_config(first)
        if single:  # one CONFIG: expand it now (a sweep inside it gives several)
            loaded = list(_expanded(produced, first))
            return iter(loaded), len(loaded) == 1
        return _expanded(produced, first), False
    loaded = load_spec(first, *more).to_configs()
    return iter(loaded), len(loaded) == 1


def _expanded(configs: Iterator[Config], first: Path) -> Iterator[Config]:
    for config in configs:
        for expanded in expand(config):
            expanded.metadata.setdefault("sources", [str(first.resolve())])
            expanded.metadata["config_id"] = expanded.id
            yield expanded
