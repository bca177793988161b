"""Run requests: one typed, serialisable value for every way a run starts, and one way to run it.

Every entry point (``runlab run``, ``runlab rerun``, ``run_if_main()``,
``Experiment.run(**overrides)``, :func:`runlab.run_script`, :class:`runlab.ScriptExecutor`,
config files, ``with runlab.run()``) builds a :class:`RunRequest`; :func:`execute` runs one.
An executor ships requests to where runs execute: write one with :meth:`RunRequest.write`
and run it in a fresh process with::

    python -m runlab.execute REQUEST_FILE [--result RESULT_FILE]

which gives the same run (parameters, links, origin) as ``execute(request)`` in-process.
Values JSON cannot hold travel by pickle (see :mod:`runlab.experiment._request`).

Example:
    >>> import pathlib, tempfile
    >>> from runlab.request import RunOptions, RunRequest, Target, execute
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "train.py"
    >>> _ = f.write_text("lr = 0.01\\ndef main():\\n    return lr * 10\\n")
    >>> req = RunRequest(Target("script", f), {"lr": 0.5}, RunOptions(root=str(f.parent / "runs"), capture=False),
    ...                  links={"sweep": "s-1"})
    >>> _ = req.write(f.parent / "req.json")
    >>> result = execute(RunRequest.read(f.parent / "req.json"))
    >>> result.status.value, result.value
    ('completed', 5.0)
"""

from ..experiment._execute import execute
from ..experiment._request import (
    LINK_NAMES,
    Links,
    Origin,
    RunOptions,
    RunRequest,
    RunResult,
    Target,
    TargetKind,
    decode_value,
    encode_value,
)

__all__ = [
    "LINK_NAMES",
    "Links",
    "Origin",
    "RunOptions",
    "RunRequest",
    "RunResult",
    "Target",
    "TargetKind",
    "decode_value",
    "encode_value",
    "execute",
]
