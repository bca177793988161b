"""Run references on the command line: an ID, a unique ID prefix, a name, or ``NAME~N``.

A name used by several runs means the latest of them (the command says so on stderr);
``NAME~1`` is the one before it, ``NAME~2`` the one before that, like git's ``HEAD~N``.
"""

from __future__ import annotations

import re
from typing import Any

import click

from ..errors import AmbiguousRunError, RunNotFoundError

__all__ = ["find_named"]

_BACK = re.compile(r"^(?P<name>.+)~(?P<back>\d+)$")


def find_named(store: Any, ref: str) -> tuple[Any, Any]:
    """``(owning store, record)`` for ``ref``; see the module docstring.

    Raises:
        RunNotFoundError: nothing matches, or ``NAME~N`` goes back further than the runs of NAME.
        AmbiguousRunError: an ID prefix matching several runs.
    """
    from ..store._manage import find_record

    match = _BACK.match(ref)
    back = 0
    if match:
        try:
            return find_record(store, ref)  # a run really called "x~1"
        except RunNotFoundError:
            ref, back = match["name"], int(match["back"])
    try:
        owner, record = find_record(store, ref)
    except AmbiguousRunError as exc:
        records = [store.load(rid) for rid in exc.candidates]
        if not all(r.name == ref for r in records):
            raise  # an ID prefix (or a name that is also a prefix): the user must say which
        records.sort(key=lambda r: (r.created is not None, r.created), reverse=True)
        if back >= len(records):
            raise RunNotFoundError(
                f"{ref}~{back}: only {len(records)} runs are named {ref!r} ({ref} to {ref}~{len(records) - 1})."
            ) from None
        chosen = records[back]
        which = "the latest" if back == 0 else f"{back} before the latest"
        before = f"'{ref}~{back + 1}' is the one before, or give" if back + 1 < len(records) else "Or give"
        click.echo(
            f"note: {len(records)} runs are named {ref!r}; this is {which} ({chosen.id}). "
            f"{before} an ID: {', '.join(r.id for r in records[:5])}.",
            err=True,
        )
        return store, chosen
    if back:
        raise RunNotFoundError(f"{ref}~{back}: only one run is named {ref!r} (use {ref!r} itself).")
    return owner, record
