"""The hook points, re-exported from :mod:`runlab.hooks._specs` (where the registry checks against them).

Kept so imports of ``runlab.plugins._hookspecs`` keep working; new code imports ``runlab.hooks``.
"""

from __future__ import annotations

from ..hooks._specs import *  # noqa: F403
from ..hooks._specs import __all__ as __all__
