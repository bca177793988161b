"""Imported by the local fork server once, so forked run processes start warm.

Everything a run needs on its way (pydantic validation, orjson, the experiment layer, the plugin
system and its discovery scan, capture of the environment) is loaded here; a forked run then
spends its time on the run itself. The server's objects are frozen out of the garbage
collector, so a forked run never walks (and so copies) them.
"""

from __future__ import annotations

import contextlib
import gc

with contextlib.suppress(ImportError):  # every one of these is optional for correctness
    import csv  # noqa: F401
    import ctypes  # noqa: F401
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

    import runlab
    import runlab.cache
    import runlab.experiment
    import runlab.experiment._dispatch
    import runlab.experiment._script
    import runlab.lifecycle._capture
    import runlab.plugins
    import runlab.plugins.builtin.mlflow
    import runlab.plugins.builtin.notify
    import runlab.plugins.builtin.plot_track
    import runlab.plugins.builtin.system
    import runlab.plugins.builtin.wandb
    from runlab.plugins._discovery import _entry_point_sources

    for _module in (runlab, runlab.experiment):
        for _name in _module.__all__:
            with contextlib.suppress(Exception):
                getattr(_module, _name)
    from runlab.params._param import read_descriptions

    list(_entry_point_sources())  # the scan is remembered: each run reuses it
    read_descriptions("X = 1  # compiles tokenize's patterns once\n")
    for _type in (int, float, str, bool):
        pydantic.TypeAdapter(_type)

gc.freeze()
