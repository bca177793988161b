"""A plain script's parameters, read statically: its literal globals and its entry point's arguments."""

from __future__ import annotations

import ast
import importlib.util
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, ParameterError, ValidationError
from ..params import Param, is_usable, read_descriptions
from ..params._param import _resolve_annotation
from ._block_params import block_keys, line_comments, same_value
from ._loader import check_python_file, parse_file

if TYPE_CHECKING:
    from ..params import Config
    from ._entrypoint import ScriptInfo

__all__ = [
    "Settable",
    "check_arguments",
    "function_params",
    "is_dunder",
    "script_param_parts",
    "script_params",
    "script_settable",
    "script_values",
    "split_values",
    "typed_file_configs",
]


def script_params(path: str | os.PathLike[str]) -> dict[str, Param]:
    """A script's parameters, read statically: its top-level assignments of literal values, and the
    keys of the literal ``params={...}`` dicts its ``runlab.run(...)`` calls give (context style).

    Any case counts (plain scripts use lowercase globals); names starting with ``_`` do not.
    Types come from annotations (simple builtin names), else from the default; descriptions
    from the comment beside or directly above. Annotated assignments of non-literal values
    are included with the default ``None``. For the keys of ``runlab.run(params=...)`` see
    :func:`script_param_parts`. Use with :func:`runlab.params.parse_overrides`.

    Raises:
        ExperimentNotFoundError, ValidationError: no such ``.py`` file, or a syntax error.
        ParameterError: a global and a ``runlab.run(params=...)`` key with one name and two
            different defaults (see :func:`script_param_parts`).

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "train.py"
        >>> _ = f.write_text("# Step size.\\nlearning_rate = 0.01\\n"
        ...                  "batch_size: int = 32  # per step\\nmodel = object()\\n")
        >>> ps = script_params(f)
        >>> sorted(ps), ps["learning_rate"].description, ps["batch_size"].type
        (['batch_size', 'learning_rate'], 'Step size.', <class 'int'>)
        >>> from runlab.params import parse_overrides
        >>> parse_overrides(["--learning_rate=0.1"], ps)
        {'learning_rate': 0.1}
    """
    known, block = script_param_parts(path)
    return {**known, **block}


def script_param_parts(path: str | os.PathLike[str]) -> tuple[dict[str, Param], dict[str, Param]]:
    """A script's parameters (see :func:`script_params`) as ``(globals, block keys)``.

    The block keys are the keys of a literal ``params={...}`` dict (or the first positional
    argument) of the script's ``runlab.run(...)`` calls, anywhere in the file, found through its
    ``import runlab [as x]`` / ``from runlab import run [as y]``: each key that is an identifier
    and whose value is a literal, with that value as the default and its type. A run of the script
    records their values and the ``with`` block that joins the run reads them (they are not
    injected as globals). Nothing is found in ``params=`` given as a variable, a call, ``**kwargs``
    or a dict with ``**`` in it; a key whose value is not a literal is left to the code.

    A name that is both a global and a block key is one parameter, the global's (type, default,
    description), when both have the same literal value; ``params={"lr": lr}`` passes the global
    itself and is not a literal, so it is no block key.

    With several ``runlab.run()`` calls every key counts; the first call in the file that gives
    a key gives its default. Only the block that runs first joins the command's run and reads
    the values given; a later block starts a run of its own with its own ``params``.

    Raises:
        ExperimentNotFoundError, ValidationError: no such ``.py`` file, or a syntax error.
        ParameterError: a global and a block key of the same name with different values (the
            message names both places).

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "ctx.py"
        >>> _ = f.write_text("import runlab\\nsteps = 3\\n"
        ...                  "with runlab.run(params={'lr': 0.1, 'steps': 3}) as run:\\n    pass\\n")
        >>> known, block = script_param_parts(f)
        >>> sorted(known), {n: (p.type, p.default) for n, p in block.items()}
        (['steps'], {'lr': (<class 'float'>, 0.1)})
    """
    file = check_python_file(path)
    tree = parse_file(file)
    source = importlib.util.decode_source(file.read_bytes())
    known, computed = _global_params(tree, read_descriptions(source))
    keys = block_keys(tree)
    if not keys:
        return known, {}
    comments = line_comments(source)
    block: dict[str, Param] = {}
    for name, (value, node) in keys.items():
        if name in known:
            if name in computed or not same_value(known[name].default, value):
                raise ParameterError(
                    f"{file.name} gives {name!r} two defaults: the global {_global_text(tree, name)} and "
                    f"params={{{name!r}: {ast.unparse(node)}}} of runlab.run() (line {node.lineno}). A parameter has "
                    f"one default: pass the global to the block (params={{{name!r}: {name}}}), give both the same "
                    "value, or rename one.",
                    name,
                )
            continue
        type_ = Any if value is None else type(value)
        block[name] = Param(name, type_, value, comments.get(node.end_lineno or node.lineno, ""), is_usable(value))
    return known, block


def _global_params(tree: ast.Module, descriptions: Mapping[str, str]) -> tuple[dict[str, Param], set[str]]:
    """The top-level assignments of :func:`script_params`, and the names among them whose value is
    not a literal (annotated, default None)."""
    params: dict[str, Param] = {}
    computed: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            annotation = None
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            names, annotation = [node.target.id], _resolve_annotation(ast.unparse(node.annotation))
        else:
            continue
        assert node.value is not None
        try:
            default, literal = ast.literal_eval(node.value), True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            default, literal = None, False
        if not literal and annotation is None:
            continue
        type_ = annotation if annotation is not None else (Any if default is None else type(default))
        for name in names:
            if not name.startswith("_") and name not in params:
                usable = literal and is_usable(default)
                params[name] = Param(name, type_, default, descriptions.get(name, ""), usable)
                if not literal:
                    computed.add(name)
    return params, computed


def _global_text(tree: ast.Module, name: str) -> str:
    """``name = VALUE (line N)`` of the first top-level assignment of ``name``, for messages."""
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return f"{name} = {ast.unparse(node.value)} (line {node.lineno})"
    return name


def function_params(path: str | os.PathLike[str], function: str) -> dict[str, Param]:
    """The arguments of a script's top-level ``function`` that can be given by name, read statically.

    Types come from annotations (simple builtin names), else from literal defaults; an
    argument without a default has the default None (and must then be given).

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "tools.py"
        >>> _ = f.write_text("def evaluate(checkpoint: str, *, batch=32):\\n    pass\\n")
        >>> {n: (p.type, p.default) for n, p in function_params(f, "evaluate").items()}
        {'checkpoint': (<class 'str'>, None), 'batch': (<class 'int'>, 32)}
    """
    tree = parse_file(check_python_file(path))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            break
    else:
        return {}
    spec = node.args
    named = [*spec.posonlyargs, *spec.args]
    defaults: list[ast.expr | None] = [None] * (len(named) - len(spec.defaults)) + list(spec.defaults)
    pairs = list(zip(named, defaults, strict=True))[len(spec.posonlyargs) :]
    pairs += list(zip(spec.kwonlyargs, spec.kw_defaults, strict=True))
    params: dict[str, Param] = {}
    for arg, default_node in pairs:
        annotation = _resolve_annotation(ast.unparse(arg.annotation)) if arg.annotation is not None else None
        try:
            default = ast.literal_eval(default_node) if default_node is not None else None
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            default = None
        type_ = annotation if annotation is not None else (Any if default is None else type(default))
        params[arg.arg] = Param(arg.arg, type_, default, f"argument of {function}()", is_usable(default))
    return params


def check_call(
    info: ScriptInfo, explicit: str | None, values: Mapping[str, Any], args: Sequence[Any] = (),
    kwargs: Mapping[str, Any] | None = None,
) -> None:  # fmt: skip
    """What every start of a plain script's run checks before the run exists (a single run, each config
    of a sweep): the globals ``values`` can be injected, the entry point exists, and nothing it requires
    is missing from ``args``/``kwargs``.

    Raises:
        ValidationError: naming the global, the entry point or the missing argument.
    """
    from ._entrypoint import check_static
    from ._loader import check_inject

    check_inject(values)
    check_static(info, explicit, list(values))
    check_arguments(info, explicit, args, kwargs or {}, values)


def check_arguments(
    info: ScriptInfo, explicit: str | None, args: Sequence[Any], kwargs: Mapping[str, Any], injected: Collection[str]
) -> None:
    """Refuse, before a run exists, to call the entry point without a value for a required argument.

    Checked where the source alone tells the entry point: the explicit or marked function, else
    ``main`` when the main block calls nothing; an undecorated top-level ``def`` not injected.

    Raises:
        ValidationError: a required argument that neither ``args`` nor ``kwargs`` gives.

    Example:
        >>> import ast, pathlib
        >>> from ._entrypoint import analyse
        >>> info = analyse(ast.parse("def main(data, epochs=1):\\n    pass\\n"), pathlib.Path("train.py"))
        >>> check_arguments(info, None, [], {"data": "d.csv"}, ())
        >>> try:
        ...     check_arguments(info, None, [], {}, ())
        ... except ValidationError as exc:
        ...     print(str(exc).split(":")[0])
        Cannot call main(data, epochs=1) of train.py
    """
    name = explicit or (info.marked[0] if len(info.marked) == 1 else None)
    if name is None and not info.marked and not info.main_calls and "main" in info.functions:
        name = "main"
    defs = [n for n in info.tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name]
    if name is None or name in injected or info.dynamic or not defs:
        return
    node = defs[-1]
    if len(node.decorator_list) > (name in info.marked):  # a decorator may change the signature
        return
    spec = node.args
    positional = [*spec.posonlyargs, *spec.args]
    required = positional[: len(positional) - len(spec.defaults)]
    missing = [
        a.arg for i, a in enumerate(required) if i >= len(args) and (a in spec.posonlyargs or a.arg not in kwargs)
    ]
    missing += [
        a.arg for a, d in zip(spec.kwonlyargs, spec.kw_defaults, strict=True) if d is None and a.arg not in kwargs
    ]
    if missing:
        raise ValidationError(
            f"Cannot call {name}({ast.unparse(spec)}) of {info.path}: no value for its argument {missing[0]!r}. "
            f"Give it as a parameter ('runlab run {info.path.name}:{name} -p {missing[0]}=VALUE') or in the "
            "config's kwargs, or give it a default."
        )


def is_dunder(name: str) -> bool:
    """Whether ``name`` is a special name such as ``__NOTIFY__``."""
    return name.startswith("__") and name.endswith("__") and len(name) > 4


Settable = tuple[dict[str, Param], dict[str, Param]]
"""A plain script's settable names: its globals, and its named entry point's arguments."""


def script_settable(file: Path, entrypoint: str | None) -> Settable:
    """:data:`Settable` of ``file``, read once for all the values given for it (the file is parsed here)."""
    return script_params(file), function_params(file, entrypoint) if entrypoint else {}


def split_values(file: Path, typed: Mapping[str, Any], settable: Settable) -> tuple[dict[str, Any], dict[str, Any]]:
    """Typed values for a plain script as ``(globals, entry point arguments)``: an argument wins over a
    global of the same name.

    Raises:
        ParameterError: ``__INCLUDE__`` for a plain script (it has no hooks for a mixin).
    """
    from ..params import ParameterError

    known, args_of = settable
    if "__INCLUDE__" in typed and "__INCLUDE__" not in known:
        raise ParameterError(
            f"__INCLUDE__ adds mixins to a functional experiment; {file} is a plain script, which has no hooks "
            "for a mixin. Remove it, or make the script an Experiment (docs/experiments.md).",
            "__INCLUDE__",
        )
    values = dict(typed)
    return values, {k: values.pop(k) for k in list(values) if k in args_of}


def script_values(
    file: Path, values: Mapping[str, Any], settable: Settable, *, unknown_ok: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Values given as data (a config's ``parameters``, a workflow step's ``params``) for a plain script:
    ``(globals, entry point arguments)`` (see :func:`split_values`), each converted to its global's or
    argument's type as ``-p`` values are (``lr: "0.25"`` -> 0.25).

    Args:
        settable: from :func:`script_settable` (``(globals, {})``: no value is an argument).
        unknown_ok: a name the script does not define passes as it is (it becomes a global, as a
            config's may); otherwise it is refused.

    Raises:
        ParameterError: a value that does not fit its type, or an unknown name; before any run is made.

    Example:
        >>> import pathlib, tempfile
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "fit.py"
        >>> _ = f.write_text("lr = 0.1\\ndef fit(k=1):\\n    return lr * k\\n")
        >>> script_values(f, {"lr": "0.25", "k": 3}, script_settable(f, "fit"))
        ({'lr': 0.25}, {'k': 3})
    """
    from ..params import SPECIAL_PARAMS, ParameterError, did_you_mean

    if not values:
        return {}, {}
    names = {**settable[0], **settable[1]}
    typed: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key)
        param = names.get(name) or SPECIAL_PARAMS.get(name)
        if param is not None:
            typed[name] = param.coerce(value)
        elif unknown_ok:
            typed[name] = value
        else:
            raise ParameterError(f"Unknown parameter {name!r} of {file.name}.{did_you_mean(name, names)} Its "
                                 f"parameters: {', '.join(names) or 'none'}. Set only what the script defines.",
                                 name)  # fmt: skip
    return split_values(file, typed, settable)


def typed_file_configs(
    file: Path, entrypoint: str | None, configs: Iterable[Config], user: str = "a run of the script"
) -> Iterator[Config]:
    """The configs read from config files for the script ``file``, as ``runlab run FILE -c CONFIG`` takes them.

    Each value of a global the script defines is converted to its type (``N_POINTS: "5"`` -> 5);
    other names pass as they are (they become globals, as a config's may). Lazy: a ``config_gen()``
    is asked for its next config only when the previous one has run.

    Raises:
        ParameterError: a value that does not fit its global's type (``N_POINTS: abc``).
        ConfigError: a config with a ``search:`` section: a study's search space, which ``user``
            would ignore (use ``runlab optimize``).
    """
    known: dict[str, Param] | None = None
    for config in configs:
        if config.metadata.get("search") is not None:
            source = ", ".join(map(str, config.metadata.get("sources") or [])) or "the config"
            raise ConfigError(f"{source} has a search: section (a search space for a study), which {user} "
                              f"would ignore: run 'runlab optimize {file.name} -c {source} --n-trials N' "
                              "for it, or remove the section.", source)  # fmt: skip
        if known is None:
            known = script_settable(file, entrypoint)[0]
        values, _ = script_values(file, config.globals_dict, (known, {}), unknown_ok=True)
        yield replace(config, globals_dict=values)
