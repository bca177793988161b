"""Workflows: several experiments in order, in parallel, or as a pipeline of dependent steps.

``Sequential`` runs scripts one after another (a generator config lazily), ``Parallel`` runs them
at once in separate processes, ``Pipeline`` runs steps in dependency order on any executor; a
step reads its dependencies' runs with :func:`inputs`. See ``docs/workflows.md``.

Example:
    >>> import pathlib, tempfile
    >>> from runlab import Script
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "prep.py").write_text("def main():\\n    return 21\\n")
    >>> code = "import runlab\\ndef main():\\n    return 2 * runlab.inputs()['prep'].data['result']\\n"
    >>> _ = (d / "train.py").write_text(code)
    >>> pipe = Pipeline({"prep": Script(d / "prep.py"), "train": (Script(d / "train.py"), ["prep"])}, root=d / "runs")
    >>> [r.value for r in pipe.run()]
    [21, 42]
"""

from ._file import load_workflow_file
from ._flows import Parallel, Pipeline, Sequential, Workflow, inputs
from ._graph import Step, order_steps
from ._record import (
    DamagedWorkflowError,
    StepRecord,
    WorkflowNotFoundError,
    WorkflowRecord,
    list_workflows,
    load_workflow,
)

__all__ = [
    "DamagedWorkflowError",
    "Parallel",
    "Pipeline",
    "Sequential",
    "Step",
    "StepRecord",
    "Workflow",
    "WorkflowNotFoundError",
    "WorkflowRecord",
    "inputs",
    "list_workflows",
    "load_workflow",
    "load_workflow_file",
    "order_steps",
]
