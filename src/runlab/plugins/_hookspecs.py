"""The hook points, re-exported from :mod:`runlab.hooks` (where the registry checks against them)."""

from __future__ import annotations

from ..hooks._specs import *  # noqa: F403
from ..hooks._specs import __all__ as __all__
