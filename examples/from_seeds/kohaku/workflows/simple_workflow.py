"""KohakuEngine's examples/workflows/simple_workflow.py (seed 002), ported.

Only the import changed (was ``from kohakuengine import Script, Config, Sequential``) and the
scripts' paths are taken relative to this file. Each step is a recorded run (RUNLAB_ROOT, or ./runs).
"""

from pathlib import Path

from runlab import Config, Script, Sequential

scripts = Path(__file__).parent.parent / "scripts"

# Define scripts with configs
preprocess = Script(scripts / "preprocess.py", config=Config(globals_dict={"input_dir": "./data/raw"}))

train = Script(scripts / "train_simple.py", config=Config(globals_dict={"data_dir": "./data/processed"}))

evaluate = Script(scripts / "evaluate.py", config=Config(globals_dict={"model_path": "./checkpoints/best.pt"}))

# Create and run workflow
workflow = Sequential([preprocess, train, evaluate])
results = workflow.run()

print(f"Workflow completed with {len(results)} steps")
