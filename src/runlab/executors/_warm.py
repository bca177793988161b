"""Imported by the local fork server once, so forked run processes start warm.

Everything a run needs on its way (pydantic validation, orjson, the plugin system, capture of
the environment) is imported here; a forked run then spends its time on the run itself.
"""

from __future__ import annotations

import contextlib

with contextlib.suppress(ImportError):  # every one of these is optional for correctness
    import csv  # noqa: F401
    import decimal  # noqa: F401
    import getpass  # noqa: F401
    import importlib.metadata  # noqa: F401
    import platform  # noqa: F401
    import sysconfig  # noqa: F401
    import uuid  # noqa: F401
    import zipfile  # noqa: F401
    import zoneinfo  # noqa: F401

    import click  # noqa: F401
    import orjson  # noqa: F401
    import pydantic

    import runlab.experiment._dispatch
    import runlab.experiment._script
    import runlab.lifecycle._capture
    import runlab.plugins
    import runlab.plugins.builtin.mlflow
    import runlab.plugins.builtin.notify
    import runlab.plugins.builtin.plot_track
    import runlab.plugins.builtin.wandb  # noqa: F401

    for _type in (int, float, str, bool):
        pydantic.TypeAdapter(_type)

