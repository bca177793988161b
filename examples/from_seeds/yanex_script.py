"""A Yanex experiment script, ported by changing the import (was ``import yanex``).

Run it as Yanex users do (``yanex run yanex_script.py --param learning_rate=0.05``)::

    runlab run yanex_script.py --learning_rate=0.05

or plainly with ``python yanex_script.py``. Then it compares the runs with the results
helpers (Yanex's ``yanex.results``).
"""

import runlab as yanex

with yanex.run(params={"learning_rate": 0.01, "epochs": 3}, name="yanex-demo"):
    lr = yanex.get_param("learning_rate")
    for epoch in range(yanex.get_param("epochs")):
        yanex.log_results({"accuracy": 0.5 + lr * (epoch + 1), "epoch": epoch}, step=epoch)
    (yanex.get_artifacts_dir() / "notes.txt").write_text(f"learning rate {lr}\n")
    print("learning rate:", lr)
    print("run id:", yanex.get_run_id())
    print("run dir matches:", yanex.get_run_dir().name.endswith(yanex.get_run_id()))
    print("status:", yanex.get_metadata()["status"])
    print("cli args:", yanex.get_cli_args())

best = yanex.best("accuracy")
print("best accuracy:", best.summaries["accuracy"].last if best else None)
print("latest is this run:", yanex.latest().name)
ids = [r.id for r in yanex.runs(where="name == 'yanex-demo'")]
table = yanex.compare(ids, params=["learning_rate"], metrics=["accuracy"])
print("compared:", len(table), sorted(c for c in table.columns if c.startswith(("params.", "metrics."))))
