"""Python-first configs under KohakuEngine's module name: ``from runlab.config import Config, ConfigGenerator``.

KohakuEngine's config files import from ``kohakuengine.config``; ported, they import from
``runlab.config``. The classes are runlab's own (:mod:`runlab.params`).

Example:
    >>> from runlab.config import Config, ConfigGenerator, ConfigLoader
    >>> gen = ConfigGenerator(Config(globals_dict={"lr": lr}) for lr in (0.1, 0.01))
    >>> [c.globals_dict["lr"] for c in gen]
    [0.1, 0.01]
"""

from __future__ import annotations

from .params._config import Config, ConfigGenerator
from .params._config_loader import ConfigLoader

__all__ = ["Config", "ConfigGenerator", "ConfigLoader"]
