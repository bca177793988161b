"""KohakuEngine's Python API (seed 002: main.py, the CLI's cmd_run, ConfigLoader), ported.

Was ``from kohakuengine import Script, Config, ConfigLoader, ScriptExecutor, run``. Only the
imports changed, and the example paths are taken relative to this file; ``run`` is
``runlab.run_file`` (``runlab.run`` is the context manager). Each execution is a recorded run
(RUNLAB_ROOT, or ./runs); the entry point's return value is ``run.data["result"]``.
"""

from pathlib import Path

from runlab import Config, ConfigGenerator, ConfigLoader, Script, ScriptExecutor
from runlab import run_file as run

here = Path(__file__).parent / "kohaku"

# main.py's quick start
script = Script(here / "scripts/hello.py", config=Config(globals_dict={"name": "runlab"}))
print("quick start:", script.run().data["result"])

# cli.py's cmd_run: kogine run hello.py --config hello_config.py
config = ConfigLoader.load_config(here / "configs/hello_config.py")
script = Script(here / "scripts/hello.py", config=config, entrypoint=None)
executor = ScriptExecutor(script)
result = executor.execute()
print("cmd_run:", result.data["result"])

# a generator config: ScriptExecutor.execute(config_generator), one run per config, lazily
sweep = ConfigLoader.load_config(here / "configs/sweep_config.py")
print("sweep is a generator:", isinstance(sweep, ConfigGenerator))
runs = ScriptExecutor(Script(here / "scripts/train_simple.py")).execute(sweep)
print("sweep runs:", len(runs), [round(r.data["result"], 3) for r in runs[:3]])

# main.py's run(): inline config, then a config file
print("run inline:", run(here / "scripts/hello.py", globals_dict={"greeting": "Hi"}).data["result"])
print("run config_path:", run(here / "scripts/hello.py", config_path=here / "configs/hello_config.py").data["result"])
