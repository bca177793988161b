"""Errors of the parameter layer (defined in :mod:`runlab.errors`) and name suggestions."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import ConfigError, ParameterError

__all__ = ["ConfigError", "ParameterError", "did_you_mean"]


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A ``" Did you mean 'X'?"`` suffix for an unknown name, or ``""`` without a close match.

    Matching ignores case first (``lr`` finds ``LR``), then uses :mod:`difflib`.

    Example:
        >>> did_you_mean("LEARNIG_RATE", ["LEARNING_RATE", "BATCH_SIZE"])
        " Did you mean 'LEARNING_RATE'?"
    """
    import difflib

    pool = sorted(set(candidates))
    same_case = [c for c in pool if c.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, pool, n=3, cutoff=0.6)
    if not close:
        upper = {c.upper(): c for c in pool}
        close = [upper[m] for m in difflib.get_close_matches(name.upper(), list(upper), n=3, cutoff=0.6)]
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
