"""User data with slash paths: ``run.data["a/b/c"] = 1`` is stored as ``{"a": {"b": {"c": 1}}}``."""

from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

from ..errors import UsageError
from ..store._text import check_text
from ._values import safe_repr, to_json_value

__all__ = ["RunData"]


def _split(path: str) -> list[str]:
    if not isinstance(path, str):
        raise UsageError(f"Invalid data key {safe_repr(path)}: expected a string such as 'results/accuracy'.")
    parts = [p for p in path.strip("/").split("/")]
    if not path.strip("/") or any(p == "" for p in parts):
        raise UsageError(f"Invalid data key {path!r}: use non-empty names separated by '/', e.g. 'results/accuracy'.")
    check_text("data key", path)
    return parts


def _private_prefix(parts: list[str]) -> tuple[str, ...] | None:
    """The path up to its first segment starting with ``_`` (what is kept in memory only), or None."""
    for i, part in enumerate(parts):
        if part.startswith("_"):
            return tuple(parts[: i + 1])
    return None


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    return node


class RunData(MutableMapping[str, Any]):
    """Nested run data addressed with slash paths.

    Keys whose any segment starts with ``_`` (``"_cache"``, ``"a/_tmp"``) are kept in memory only
    and never written to ``data.json``; the keys inside a stored value are stored as they are
    (``run.data["doc"] = {"_id": 3}`` keeps ``_id``). Other values are checked and converted to
    JSON when they are set
    (:func:`~runlab.lifecycle._values.to_json_value`: arrays and tensors become lists), and a
    value that cannot be stored raises :class:`~runlab.DataError` there, leaving every other
    key as it was. Safe to use from several threads.

    Example:
        >>> d = RunData()
        >>> d["metrics/val/acc"] = 0.9
        >>> d["metrics"]
        {'val': {'acc': 0.9}}
        >>> "metrics/val/acc" in d, d.to_dict()
        (True, {'metrics': {'val': {'acc': 0.9}}})
        >>> d["fn"] = print
        Traceback (most recent call last):
        ...
        runlab.errors.DataError: Cannot store 'fn': this type is not a JSON value (builtin_function_or_method). ...
    """

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self._root: dict[str, Any] = dict(initial or {})
        self._lock = threading.Lock()
        self.dirty = False
        self._refused: Exception | None = None
        self._private: set[tuple[str, ...]] = set()  # paths set with a segment starting with "_"

    def refuse(self, error: Exception) -> None:
        """From now on, raise ``error`` on every change (a forked child's copy of its parent's run data)."""
        self._refused = error
        self._lock = threading.Lock()  # another thread of the parent may have held the old one

    def __setitem__(self, path: str, value: Any) -> None:
        if self._refused is not None:
            raise self._refused
        parts = _split(path)
        private = _private_prefix(parts)
        if private is None:  # private keys stay in memory, as given
            value = to_json_value(value, path)
        with self._lock:
            node = self._root
            for i, part in enumerate(parts[:-1]):
                child = node.get(part)
                if not isinstance(child, dict):
                    if child is not None:
                        raise UsageError(
                            f"Cannot set data {path!r}: {'/'.join(parts[: i + 1])!r} holds a value, not a group. "
                            "Delete it first or choose another key."
                        )
                    child = node[part] = {}
                node = child
            node[parts[-1]] = value
            self._mark(parts, private)
            self.dirty = True

    def __getitem__(self, path: str) -> Any:
        node: Any = self._root
        for part in _split(path):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(path)
            node = node[part]
        return node

    def __delitem__(self, path: str) -> None:
        if self._refused is not None:
            raise self._refused
        parts = _split(path)
        with self._lock:
            node: Any = self._root
            for part in parts[:-1]:
                if not isinstance(node, dict) or part not in node:
                    raise KeyError(path)
                node = node[part]
            if not isinstance(node, dict) or parts[-1] not in node:
                raise KeyError(path)
            del node[parts[-1]]
            self._mark(parts, None)
            self.dirty = True

    def _mark(self, parts: list[str], private: tuple[str, ...] | None) -> None:
        """Remember a private path; a public value (or a deletion) at ``parts`` replaces what was under it."""
        if private is not None:
            self._private.add(private)
        elif self._private:
            n = len(parts)
            whole = tuple(parts)
            self._private = {p for p in self._private if p[:n] != whole}

    def __contains__(self, path: object) -> bool:
        try:
            self[path]  # type: ignore[index]
        except (KeyError, UsageError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._root))

    def __len__(self) -> int:
        return len(self._root)

    def __repr__(self) -> str:
        return f"RunData({self._root!r})"

    def append(self, path: str, value: Any) -> None:
        """Append ``value`` to the list at ``path``, which is created when missing.

        How tracked values become ``e.data["loss"] == [0.5, 0.4, ...]`` without copying the list
        on every point.

        Raises:
            UsageError: ``path`` (or a group on the way) holds something else than a list.
            DataError: ``value`` cannot be stored as JSON.

        Example:
            >>> d = RunData()
            >>> d.append("train/loss", 0.5); d.append("train/loss", 0.4)
            >>> d["train/loss"]
            [0.5, 0.4]
        """
        parts = _split(path)
        private = _private_prefix(parts)
        if private is None:
            value = to_json_value(value, path)
        with self._lock:
            if private is not None:
                self._private.add(private)
            node = self._root
            for i, part in enumerate(parts[:-1]):
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise UsageError(f"Cannot append to data {path!r}: {'/'.join(parts[: i + 1])!r} holds a value, "
                                     "not a group. Choose another name.")  # fmt: skip
                node = child
            current = node.get(parts[-1])
            if current is None:
                node[parts[-1]] = [value]
            elif isinstance(current, list):
                current.append(value)
            else:
                raise UsageError(
                    f"Cannot append to data {path!r}: it holds {type(current).__name__} {current!r:.40}, not a list. "
                    "Choose another name."
                )
            self.dirty = True

    def to_dict(self) -> dict[str, Any]:
        """The persisted part as plain nested dicts (the private paths left out)."""
        with self._lock:
            return self._public()

    def _public(self) -> dict[str, Any]:
        tree: dict[str, Any] = _copy(self._root)
        for private in self._private:
            node: Any = tree
            for part in private[:-1]:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(private[-1], None)
        return tree

    def snapshot(self) -> dict[str, Any] | None:
        """The persisted part if it changed since the last snapshot, else None."""
        with self._lock:
            if not self.dirty:
                return None
            self.dirty = False
            return self._public()
