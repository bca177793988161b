"""Run references on the command line: an ID, a unique ID prefix, a name, or ``NAME~N``.

A name used by several runs means the latest of them (the command says so on stderr);
``NAME~1`` is the one before it, ``NAME~2`` the one before that, like git's ``HEAD~N``.
"""

from __future__ import annotations

import re
from typing import Any

import click

from ..errors import AmbiguousRunError, RunNotFoundError

__all__ = ["find_named", "find_to_change"]

_BACK = re.compile(r"^(?P<name>.+)~(?P<back>\d+)$")


def find_named(store: Any, ref: str) -> tuple[Any, Any]:
    """``(owning store, record)`` for ``ref``; see the module docstring.

    A name is looked up as it is first, so a run really called ``x~1`` (or several) is found
    by that name; ``x~1~1`` is then the one before the latest of them.

    Raises:
        RunNotFoundError: nothing matches, or ``NAME~N`` goes back further than the runs of NAME.
        AmbiguousRunError: an ID prefix matching several runs.
    """
    match = _BACK.match(ref)
    try:
        return _nth_latest(store, ref, 0)
    except RunNotFoundError:
        if not match:
            raise
    return _nth_latest(store, match["name"], int(match["back"]))


def find_to_change(store: Any, ref: str, archived: bool | None = None) -> tuple[Any, Any]:
    """``(owning store, record)`` for a command that changes the run (``tag``, ``delete`` ...): an ID, a
    unique ID prefix, the name of one run, or ``NAME~N`` (``NAME~0`` the latest of a name several runs
    have: a bare name of several runs is ambiguous here, the error lists their IDs).

    Args:
        archived: as :func:`runlab.store._manage.find_record` (True: the archive only).

    Raises:
        RunNotFoundError: nothing matches, or ``NAME~N`` goes back further than the runs of NAME.
        AmbiguousRunError: an ID prefix or a name matching several runs.
    """
    from ..store._manage import find_record

    try:
        return find_record(store, ref, archived=archived)
    except RunNotFoundError:
        match = _BACK.match(ref)
        if not match:
            raise
    return _nth_latest(store, match["name"], int(match["back"]), archived)


def _nth_latest(store: Any, ref: str, back: int, archived: bool | None = None) -> tuple[Any, Any]:
    """The run ``back`` before the latest of those named ``ref`` (or the one run ``ref`` names)."""
    from ..store._manage import find_record

    try:
        owner, record = find_record(store, ref, archived=archived)
    except AmbiguousRunError as exc:
        found = [find_record(store, rid, archived=archived) for rid in exc.candidates]  # each in its own store
        if not all(r.name == ref for _, r in found):
            raise  # an ID prefix (or a name that is also a prefix): the user must say which
        found.sort(key=lambda item: (item[1].created is not None, item[1].created), reverse=True)
        if back >= len(found):
            raise RunNotFoundError(
                f"{ref}~{back}: only {len(found)} runs are named {ref!r} ({ref} to {ref}~{len(found) - 1})."
            ) from None
        owner, chosen = found[back]
        which = "the latest" if back == 0 else f"{back} before the latest"
        before = f"'{ref}~{back + 1}' is the one before, or give" if back + 1 < len(found) else "Or give"
        click.echo(
            f"note: {len(found)} runs are named {ref!r}; this is {which} ({chosen.id}). "
            f"{before} an ID: {', '.join(r.id for _, r in found[:5])}.",
            err=True,
        )
        return owner, chosen
    if back:
        raise RunNotFoundError(f"{ref}~{back}: only one run is named {ref!r} (use {ref!r} itself).")
    return owner, record
