"""Config pools: lists, dicts, pydantic models, config files and folders, each with its stable id.

Files and folders are read by the parameter layer's loaders (:func:`runlab.params.load_config`);
dicts with :class:`~runlab.params.Sweep` values expand with :func:`runlab.params.expand`; a
function whose config parameter is a pydantic model has every config validated (and field
alternatives expanded) by :func:`runlab.params.expand_model`, after a check that refuses keys the
model does not declare (pydantic would drop them silently, unless the model sets ``extra``). Ids come from
:func:`runlab.params.config_id`, computed on the config the function receives.
"""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._valueclass import value_class
from ..errors import ConfigError
from ..params import Config, Sweep, config_id, did_you_mean, expand, expand_model, load_config
from ._errors import BranchConfigError

__all__ = ["BranchConfig", "ConfigSource", "resolve_configs"]

ConfigSource = Any
"""What ``configs=`` accepts: a dict, a pydantic model, a :class:`~runlab.params.Config`, a config
file or folder path, or a list of any of these."""


@value_class(frozen=True)
class BranchConfig:
    """One config of a pool.

    Attributes:
        config_id: the stable id (12 hex digits) of :attr:`value`.
        value: what the function receives: a dict, or a pydantic model instance.
        source: where it came from (``"configs[1]"``, a file path), for messages.
    """

    config_id: str
    value: Any
    source: str


def _is_model(value: Any) -> bool:
    return hasattr(value, "model_dump") and not isinstance(value, type)


def _plain(value: Any, where: str) -> list[tuple[Any, str]]:
    """The configs ``value`` stands for, before any model validation."""
    if isinstance(value, Config):
        return [(dict(value.globals_dict), where)]
    if isinstance(value, Mapping):
        try:
            variants = expand(dict(value))
        except ConfigError as exc:
            raise BranchConfigError(f"Config {where} cannot be expanded: {exc}") from None
        return [(v, where if len(variants) == 1 else f"{where} variant {i + 1}") for i, v in enumerate(variants)]
    if _is_model(value):
        return [(value, where)]
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        if not path.exists():
            raise BranchConfigError(f"Config file or folder not found: {path} (given as {where}). Give a YAML, "
                                    "TOML or JSON file, a folder of them, a dict or a pydantic model.",
                                    path=str(path))  # fmt: skip
        try:
            loaded = load_config(path)
        except ConfigError as exc:
            raise BranchConfigError(f"Cannot read the configs of {path}: {exc}", path=str(path)) from None
        items: list[tuple[Any, str]] = []
        per_file: dict[Path, int] = {}
        for c in loaded:  # a folder's configs are named by their own file: "prompts/detailed.yml#2"
            sources = c.metadata.get("sources") if isinstance(c.metadata, Mapping) else None
            file = path / Path(sources[-1]).name if path.is_dir() and sources else path
            per_file[file] = per_file.get(file, 0) + 1
            items.append((dict(c.globals_dict), f"{file}#{per_file[file]}"))
        return items
    raise BranchConfigError(f"Invalid config {where}: {type(value).__name__} {_short(value)}. A config is a dict, "
                            "a pydantic model, a runlab Config, or a path to a config file or folder.")  # fmt: skip


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _keys(model: type) -> dict[str, str]:
    """The keys ``model`` reads from a dict, each mapped to its field name (aliases as pydantic accepts them)."""
    config = getattr(model, "model_config", {})
    by_name = bool(config.get("populate_by_name") or config.get("validate_by_name"))
    keys: dict[str, str] = {}
    for name, info in getattr(model, "model_fields", {}).items():
        alias = info.validation_alias if info.validation_alias is not None else info.alias
        choices = getattr(alias, "choices", None) or [alias]  # AliasChoices of names and AliasPaths
        firsts = [(getattr(c, "path", None) or [c])[0] for c in choices if c is not None]  # AliasPath: its first key
        aliases = [a for a in firsts if isinstance(a, str)]
        for key in aliases if aliases and not by_name else [*aliases, name]:
            keys.setdefault(key, name)
    return keys


def _nested_model(annotation: Any) -> type | None:
    """The model a field's dict values are validated into: ``M``, ``M | None``, ``list[M]`` (not ``dict[str, M]``)."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated, list, tuple, set, frozenset, Sequence):
        args = typing.get_args(annotation)
        for arg in args[:1] if origin is typing.Annotated else args:
            found = _nested_model(arg)
            if found is not None:
                return found
    return None


def _unknown(key: str, known: list[str], path: str) -> str:
    hint = did_you_mean(key, known).strip()
    return repr(f"{path}{key}") + (f" ({hint[0].lower()}{hint[1:]})" if hint else "")


def _check_keys(model: type, data: Mapping[Any, Any], where: str, path: str = "") -> None:
    """Refuse keys ``model`` does not declare, in ``data`` and in its nested models' dicts.

    Pydantic's default (``extra`` not set) drops them without a word, so a typo in a config
    key would vanish. A model that sets ``extra`` itself is left to pydantic: ``"allow"``
    keeps unknown keys, ``"ignore"`` drops them, ``"forbid"`` refuses them.
    """
    if getattr(model, "__pydantic_root_model__", False):
        return
    keys = _keys(model)
    if "extra" not in getattr(model, "model_config", {}):
        unknown = [str(k) for k in data if k not in keys]
        if unknown:
            known = sorted(keys)
            raise BranchConfigError(f"Config {where} has {'a key' if len(unknown) == 1 else 'keys'} that "
                                    f"{model.__name__} does not declare: "
                                    f"{', '.join(_unknown(k, known, path) for k in unknown)}. Known fields of "
                                    f"{model.__name__}: {', '.join(known) or '(none)'}. Fix the key, or declare it "
                                    f"in {model.__name__} (model_config extra='allow' keeps unknown keys, "
                                    "extra='ignore' drops them).")  # fmt: skip
    fields = getattr(model, "model_fields", {})
    for key, value in data.items():
        name = keys.get(key)
        nested = _nested_model(fields[name].annotation) if name is not None else None
        if nested is None:
            continue
        for item in list(value) if isinstance(value, (list, tuple, Sweep)) else [value]:
            if isinstance(item, Mapping):
                _check_keys(nested, item, where, f"{path}{key}.")


def _validated(model: type, value: Any, where: str) -> list[Any]:
    if isinstance(value, model):
        return [value]
    data = value.model_dump() if _is_model(value) else value
    if isinstance(data, Mapping):
        _check_keys(model, data, where)
    try:
        return expand_model(model, data)
    except ConfigError as exc:
        raise BranchConfigError(f"Config {where} does not fit {model.__name__}: {exc}") from None


def resolve_configs(configs: ConfigSource, model: type | None = None) -> list[BranchConfig]:
    """Turn ``configs=`` into the pool: validated configs with their ids, in order.

    Args:
        configs: a dict (its :class:`~runlab.params.Sweep` values expand into several configs), a
            pydantic model instance, a :class:`~runlab.params.Config` (its globals), a path to a
            YAML/TOML/JSON/Python config file or a folder of them (each expanded config's
            ``parameters``), or a list mixing these.
        model: the pydantic model the function's config parameter is annotated with; dict configs
            are validated into it (list values of scalar fields expand into alternatives).

    Raises:
        BranchConfigError: an empty pool, a config of an unknown kind, a file that cannot be read,
            a config the model refuses or with a key the model does not declare (unless it sets
            ``extra``), or two configs with the same id (the message names them).

    Example:
        >>> from runlab.params import choice
        >>> pool = resolve_configs([{"temperature": 0.2}, {"temperature": choice(0.7, 1.0)}])
        >>> [(c.value["temperature"], c.source) for c in pool]
        [(0.2, 'configs[0]'), (0.7, 'configs[1] variant 1'), (1.0, 'configs[1] variant 2')]
    """
    if isinstance(configs, (Mapping, str, os.PathLike, Config)) or _is_model(configs):
        items: list[tuple[Any, str]] = _plain(configs, "configs")
    elif isinstance(configs, Sequence) and not isinstance(configs, bytes):
        items = []
        for i, value in enumerate(configs):
            items.extend(_plain(value, f"configs[{i}]"))
    else:
        raise BranchConfigError(f"Invalid configs= {_short(configs)}: give a list of dicts or pydantic models, "
                                "a dict, a model, or a config file or folder path.")  # fmt: skip
    if not items:
        raise BranchConfigError("Empty config pool: configs= gave no configs. Give at least one config.")
    pool: list[BranchConfig] = []
    seen: dict[str, str] = {}
    for value, where in items:
        for validated in _validated(model, value, where) if model is not None else [value]:
            cid = config_id(validated)
            if cid in seen:
                raise BranchConfigError(f"Configs {seen[cid]} and {where} are the same config (id {cid}); "
                                        "remove one of them.", index=len(pool))  # fmt: skip
            seen[cid] = where
            pool.append(BranchConfig(cid, validated, where))
    return pool
