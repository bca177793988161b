"""Parameter overrides from the command line: ``--NAME=value``, ``-p NAME=value``, ``--set a.b=value``."""

from __future__ import annotations

import copy
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from ._coerce import coerce, parse_text
from ._errors import ParameterError, did_you_mean
from ._param import SPECIAL_PARAMS, Param

__all__ = ["format_override", "get_dotted", "parse_overrides", "set_dotted", "split_override"]

_PAIR_OPTIONS = ("-p", "--param", "--set")


def split_override(text: str) -> tuple[str, str]:
    """Split ``"name=value"`` into its two parts (the value may contain ``=``).

    Raises:
        ParameterError: there is no ``=`` or the name is empty.
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ParameterError(
            f"Invalid override {text!r}: write NAME=VALUE, e.g. 'LEARNING_RATE=0.01' or 'optimizer.lr=0.1'."
        )
    return name.strip(), value


def _tokens(argv: Sequence[str]) -> list[tuple[str, str]]:
    """The (name, text) pairs of ``argv``, in order."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        option, eq, rest = token.partition("=")
        if option in _PAIR_OPTIONS:
            if eq:
                pairs.append(split_override(rest))
            elif i + 1 < len(argv):
                pairs.append(split_override(argv[i + 1]))
                i += 1
            else:
                raise ParameterError(f"Option {token!r} needs NAME=VALUE after it, e.g. '{token} LR=0.01'.")
        elif token.startswith("--") and len(token) > 2:
            name = option[2:]
            if eq:
                pairs.append((name, rest))
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                pairs.append((name, argv[i + 1]))
                i += 1
            else:
                raise ParameterError(f"Option {token!r} needs a value: write '--{name}=VALUE'.", name)
        else:
            raise ParameterError(
                f"Unexpected argument {token!r}: overrides are written --NAME=VALUE, -p NAME=VALUE or --set NAME=VALUE."
            )
        i += 1
    return pairs


def get_dotted(value: Any, path: Sequence[str]) -> Any:
    """The item at ``path`` inside nested dicts, lists (numeric keys) and models; ``KeyError`` when absent."""
    for key in path:
        if isinstance(value, Mapping):
            value = value[key]
        elif isinstance(value, list) and key.lstrip("-").isdigit():
            value = value[int(key)]
        elif hasattr(value, "model_fields") and key in type(value).model_fields:
            value = getattr(value, key)
        else:
            raise KeyError(key)
    return value


def set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``target["a"]["b"] = value`` for ``dotted == "a.b"``, creating dicts where nothing (or None) is.

    Raises:
        TypeError: a part of the path holds a value that is not a dict or list (it is not
            replaced), or a list is given a key that is not a number.
        IndexError: a list has no item at that number.

    Example:
        >>> d = {"opt": {"lr": 0.1}}
        >>> set_dotted(d, "opt.momentum", 0.9); d
        {'opt': {'lr': 0.1, 'momentum': 0.9}}
    """
    *parents, last = dotted.split(".")
    node: Any = target
    for i, key in enumerate(parents):
        if isinstance(node, list):
            node = node[_list_index(node, key, parents[:i])]
            continue
        child = node.get(key)
        if child is None:
            child = {}
            node[key] = child
        elif not isinstance(child, (dict, list)):
            raise TypeError(
                f"{'.'.join(parents[: i + 1])!r} holds {type(child).__name__} {child!r}, not a dict or list"
            )
        node = child
    if isinstance(node, list):
        node[_list_index(node, last, parents)] = value
    else:
        node[last] = value


def _list_index(node: list[Any], key: str, path: Sequence[str]) -> int:
    if not key.lstrip("-").isdigit():
        where = f"{'.'.join(path)!r}" if path else "the value"
        raise TypeError(f"{where} is a list: give an item number such as 0, not {key!r}")
    return int(key)


def _leaf_type(param_type: Any, current: Any, path: Sequence[str]) -> Any:
    """The type expected at ``path`` inside a value of ``param_type`` (``Any`` when unknown)."""
    type_ = param_type
    for key in path:
        origin = typing.get_origin(type_)
        args = typing.get_args(type_)
        if hasattr(type_, "model_fields") and key in type_.model_fields:
            type_ = type_.model_fields[key].annotation
        elif origin is dict and len(args) == 2:
            type_ = args[1]
        elif origin is list and args:
            type_ = args[0]
        else:
            type_ = Any
            break
    if type_ is Any:
        try:
            leaf = get_dotted(current, path)
        except (KeyError, IndexError, TypeError):
            return Any
        return Any if leaf is None or isinstance(leaf, (dict, list)) else type(leaf)
    return type_


def _as_plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="python")
    return copy.deepcopy(value)


def parse_overrides(argv: Sequence[str], params: Mapping[str, Param], allow_new: bool = False) -> dict[str, Any]:
    """Parse override arguments into typed values, keyed by parameter name.

    Accepted forms: ``--NAME=value``, ``--NAME value``, ``-p NAME=value``, ``--param NAME=value``
    and ``--set NAME=value`` (also ``--set=NAME=value``). A dotted name such as ``optimizer.lr``
    changes one item inside a dict or pydantic model parameter; the result holds the whole
    updated value under the top-level name. Special parameters (``__DEBUG__`` ...) are always
    known. A later override of the same name wins.

    Args:
        argv: the arguments, e.g. ``sys.argv[1:]``.
        params: the known parameters (from :func:`discover_params`).
        allow_new: accept unknown names (their text is read with :func:`parse_text`). A
            ``--allow-new`` flag among ``argv`` does the same, so a script's own command
            line can ask for it.

    Raises:
        ParameterError: an unknown name (with suggestions), a malformed argument or a bad value.

    Example:
        >>> ps = {"LR": Param("LR", float, 0.1), "OPT": Param("OPT", dict, {"lr": 0.1, "name": "sgd"})}
        >>> parse_overrides(["--LR=0.01", "--set", "OPT.lr=0.5"], ps)
        {'LR': 0.01, 'OPT': {'lr': 0.5, 'name': 'sgd'}}
    """
    if "--allow-new" in argv:
        argv = [arg for arg in argv if arg != "--allow-new"]
        allow_new = True
    known: dict[str, Param] = {**SPECIAL_PARAMS, **params}
    result: dict[str, Any] = {}
    for dotted, text in _tokens(argv):
        head, *path = dotted.split(".")
        if not all(path):
            raise ParameterError(f"Invalid name {dotted!r}: a part between dots is empty. Write e.g. "
                                 f"'{head}.key=VALUE'.", head)  # fmt: skip
        param = known.get(head)
        if param is None:
            if not allow_new:
                raise ParameterError(
                    f"Unknown parameter {head!r}.{did_you_mean(head, known)} "
                    "Use a defined parameter name, or --allow-new to add new ones.",
                    head,
                )
            if not path:
                result[head] = parse_text(text)
                continue
            base = result.get(head)
            if base is not None and not isinstance(base, (dict, list)):  # replacing it would lose that value
                raise ParameterError(f"Cannot set {dotted!r}: {head!r} is set to {type(base).__name__} {base!r} "
                                     f"before it, not a dict or list. Give one of them.", head)  # fmt: skip
            container: dict[str, Any] | list[Any] = {} if base is None else base
            try:
                set_dotted({head: container}, dotted, parse_text(text))
            except IndexError:
                raise ParameterError(f"Cannot set {dotted!r}: no such item in {head!r}.", head) from None
            except TypeError as exc:
                raise ParameterError(f"Cannot set {dotted!r}: {exc}.", head) from None
            result[head] = container
            continue
        if not path:
            result[head] = param.coerce(text)
            continue
        current = _as_plain(result.get(head, param.default))
        if current is None:
            current = {}
        if not isinstance(current, (dict, list)):
            raise ParameterError(
                f"Cannot set {dotted!r}: parameter {head!r} holds a {type(current).__name__}, not a dict or model. "
                f"Write --{head}=VALUE instead.",
                head,
            )
        leaf = coerce(text, _leaf_type(param.type, current, path), dotted)
        try:
            set_dotted({head: current}, dotted, leaf)
        except (IndexError, ValueError):
            raise ParameterError(f"Cannot set {dotted!r}: no such item in {head!r}.", head) from None
        except TypeError as exc:
            raise ParameterError(f"Cannot set {dotted!r}: {exc}. Set the whole value instead: --{head}=VALUE.",
                                 head) from None  # fmt: skip
        result[head] = param.coerce(current)
    return result


def format_override(name: str, value: Any) -> str:
    """The ``--NAME=value`` argument that :func:`parse_overrides` reads back as ``value``.

    Example:
        >>> format_override("LR", 0.01)
        '--LR=0.01'
    """
    from ._coerce import format_value

    return f"--{name}={format_value(value)}"
