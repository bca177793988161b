"""The context-manager style (Yanex) in a script: ``with runlab.run(...)`` and the module functions.

python examples/scripts/context_style.py          # creates its own run (in ./runs)
runlab run examples/scripts/context_style.py      # the block joins the run the command creates
"""

import runlab

with runlab.run(params={"steps": 5, "decay": 0.5}, namespace="context_style"):
    steps = runlab.get_param("steps")
    loss = 1.0
    for step in range(steps):
        loss *= runlab.get_param("decay")
        runlab.log_results({"loss": loss}, step=step)
    runlab.log_text(f"final loss {loss}\n", "summary.txt")
    print(f"final loss {loss} after {steps} steps")
