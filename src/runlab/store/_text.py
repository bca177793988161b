"""The text a run record holds besides its values: tags, and the check every name and note passes.

One rule for tags wherever they enter (``start_run(tags=...)``, ``run.add_tags``, ``--tag``,
``runlab tag``/``untag``): a non-empty one-line text without commas (the command line takes
comma-separated lists); spaces inside are kept, around it stripped.

Example:
    >>> tag_list(["baseline", " my tag ", "baseline"])
    ['baseline', 'my tag']
    >>> check_tag("a,b")
    Traceback (most recent call last):
    ...
    runlab.errors.UsageError: Invalid tag 'a,b': a tag is a non-empty line of text without commas, e.g. 'baseline'.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import UsageError

__all__ = ["check_tag", "check_text", "safe_repr", "tag_list", "valid_unicode"]


def safe_repr(value: Any) -> str:
    """``repr(value)``, or a stand-in naming its type when its ``__repr__`` raises (for messages and records).

    Example:
        >>> class Odd:
        ...     def __repr__(self): raise RuntimeError
        >>> safe_repr([1]), safe_repr(Odd())
        ('[1]', '<Odd object: its repr() raised RuntimeError>')
    """
    try:
        return repr(value)
    except Exception as exc:
        return f"<{type(value).__name__} object: its repr() raised {type(exc).__name__}>"


def valid_unicode(text: str) -> bool:
    """False for text with lone surrogates (bytes that were not UTF-8): no JSON file can hold it.

    Example:
        >>> valid_unicode("naïve"), valid_unicode("bad " + chr(0xDCFF))
        (True, False)
    """
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(what: str, text: str | None, fix: str = "Remove them.") -> None:
    """Refuse text that is not :func:`valid_unicode`.

    Raises:
        UsageError: naming ``what``, the text (its start when it is long), where the first lone
        surrogate is, and ``fix``.
    """
    if text is not None and not valid_unicode(text):
        at = next(i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF)
        shown = repr(text) if len(text) <= 80 else f"{text[:60]!r}... ({len(text)} characters)"
        raise UsageError(f"Invalid {what} {shown}: it holds lone surrogates, which are not valid Unicode "
                         f"(the first at character {at}). {fix}")  # fmt: skip


def check_tag(tag: Any) -> str:
    """``tag`` stripped, or :class:`~runlab.errors.UsageError` when it is not a tag (see the module)."""
    if not isinstance(tag, str) or not tag.strip() or "," in tag or not tag.strip().isprintable():
        raise UsageError(
            f"Invalid tag {safe_repr(tag)}: a tag is a non-empty line of text without commas, e.g. 'baseline'."
        )
    check_text("tag", tag)
    return tag.strip()


def tag_list(tags: Iterable[str] | str | None) -> list[str]:
    """Tags checked with :func:`check_tag`, duplicates dropped, order kept (one string is one tag)."""
    if tags is None:
        return []
    try:
        items = [tags] if isinstance(tags, str) else list(tags)
    except TypeError:  # not iterable: a single value that is no tag (3, an object)
        items = [tags]  # type: ignore[list-item]
    return list(dict.fromkeys(check_tag(t) for t in items))
