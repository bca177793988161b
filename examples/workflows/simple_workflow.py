"""The three steps as a Python workflow (KohakuEngine's simple_workflow, with dependencies).

python examples/workflows/simple_workflow.py     # writes its runs under a temporary folder
"""

import tempfile
from pathlib import Path

from runlab import Config, Pipeline, Script

HERE = Path(__file__).parent

prep = Script(HERE / "prep.py", config=Config(globals_dict={"N_POINTS": 100}))
train = Script(HERE / "train.py", config=Config(globals_dict={"EPOCHS": 300}))
evaluate = Script(HERE / "evaluate.py")

workflow = Pipeline(
    {"prep": prep, "train": (train, ["prep"]), "evaluate": (evaluate, ["train"])},
    root=tempfile.mkdtemp(prefix="runlab-example-"),
)
results = workflow.run()
print(f"Workflow {workflow.record.id} {workflow.record.state} with {len(results)} runs")
