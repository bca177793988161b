"""YAML config files: ``safe_load`` with a bound on how much aliases may expand, and no key twice.

PyYAML shares the node an alias (``*name``) points at, so a few hundred bytes of anchors
nested in anchors (a "billion laughs" file) load quickly, but anything that walks the
result (merging, copying, sweep expansion, printing) sees billions of values and grows
to gigabytes. Before building any value, :func:`load_yaml` counts the nodes the document
would have with every alias written out, and refuses the file when aliases add more than
:data:`MAX_ALIAS_NODES` of them, or when an alias refers to the node that contains it.
Ordinary use (``<<: *defaults`` merged into a few dozen sections) stays far below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._errors import ConfigError

__all__ = ["MAX_ALIAS_NODES", "load_yaml"]

#: How many nodes aliases may add to a YAML document once written out.
MAX_ALIAS_NODES = 10_000


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _check_expansion(root: Any, path: Path) -> None:
    """Refuse ``root`` when its aliases expand past the limit or form a cycle."""
    size: dict[int, int] = {}  # id(node) -> nodes in its written-out form
    active: set[int] = set()
    distinct = 0
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            active.discard(key)
            total = 1 + sum(size[id(child)] for child in _children(node))
            size[key] = total
            if total - distinct > MAX_ALIAS_NODES:
                _refuse(
                    path,
                    node,
                    f"its aliases expand to more than {MAX_ALIAS_NODES:,} extra values. Anchors nested in anchors "
                    "can make a small file expand to gigabytes; write the values out, or use fewer nested aliases",
                )
            continue
        if key in size:
            continue
        if key in active:
            _refuse(
                path,
                node,
                "an alias refers to a node that contains it (a recursive structure, which no config can hold); "
                "write the values out instead",
            )
        active.add(key)
        distinct += 1
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _check_unique_keys(root: Any, path: Path) -> None:
    """Refuse a key given twice in one mapping (YAML keeps the last one silently: a config's
    ``lr`` or a workflow's step would be lost without a word). ``<<`` merge keys may repeat.
    Also refuse a number too large or too small for a float (``1.0e+400`` would become ``inf``)."""
    import yaml

    from ._coerce import fits_float

    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias: checked where its anchor is
            continue
        seen.add(id(node))
        stack.extend(_children(node))
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:float":
            try:
                number = float(node.value.replace("_", ""))
            except ValueError:  # .inf, .nan, 1:30.5 (YAML 1.1 base 60)
                continue
            if not fits_float(node.value, number):
                _refuse(path, node, f"the number {node.value} does not fit in a float (it would become {number!r}); "
                                    "write a number between about 5e-324 and 1.8e308 in size, 0, or .inf")  # fmt: skip
        if not isinstance(node, yaml.MappingNode):
            continue
        lines: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                continue
            line, first = key.start_mark.line + 1, lines.get((key.tag, key.value))
            if first is not None:
                at = f"line {line}" if first == line else f"lines {first} and {line}"
                message = f"the key {key.value!r} is given twice in one mapping ({at}); YAML would keep only the last"
                raise ConfigError(f"Refused to load {path}: {message}. Keep one of them.", str(path), line)
            lines[key.tag, key.value] = line


def _refuse(path: Path, node: Any, why: str) -> None:
    mark = getattr(node, "start_mark", None)
    line = mark.line + 1 if mark is not None else None
    at = f" (at line {line})" if line is not None else ""
    raise ConfigError(f"Refused to load {path}{at}: {why}.", str(path), line)


def load_yaml(text: str, path: Path) -> Any:
    """Parse YAML ``text`` read from ``path`` like ``yaml.safe_load``, with the alias bound.

    Raises:
        yaml.YAMLError: the text is not valid YAML (the caller reports it with its line).
        ConfigError: aliases would expand past :data:`MAX_ALIAS_NODES` or refer to themselves, or a
            key is given twice in one mapping.

    Example:
        >>> load_yaml("base: &b {lr: 0.1}\\nfast: *b\\n", Path("c.yml"))
        {'base': {'lr': 0.1}, 'fast': {'lr': 0.1}}
    """
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, path)
        _check_unique_keys(node, path)
        return loader.construct_document(node)
    finally:
        loader.dispose()
