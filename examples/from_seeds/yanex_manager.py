"""Yanex's ExperimentManager (seed 001, "Key Methods" and steps 1-3), ported by changing the imports.

Was::

    from yanex.core.manager import ExperimentManager
    from yanex.utils.exceptions import ExperimentNotFoundError, ExperimentAlreadyRunningError

Runs go to the store (RUNLAB_ROOT, or ./runs).
"""

from pathlib import Path

from runlab import ExperimentAlreadyRunningError, ExperimentManager, ExperimentNotFoundError

manager = ExperimentManager()

# Step 1: IDs and concurrency control
print("fresh id:", len(manager.generate_experiment_id()))

# Step 2: creation with metadata
experiment_id = manager.create_experiment(
    Path(__file__),
    name="baseline",
    config={"learning_rate": 0.01, "epochs": 3},
    tags=["demo"],
    description="first try",
)
print("created:", manager.get_experiment_metadata(experiment_id)["status"])

# Step 3: the lifecycle
manager.start_experiment(experiment_id)
print("running:", manager.get_running_experiment() == experiment_id)
try:
    manager.prevent_concurrent_execution()
except ExperimentAlreadyRunningError as exc:
    print("refused:", type(exc).__name__)
manager.complete_experiment(experiment_id)
print("completed:", manager.get_experiment_metadata(experiment_id)["status"])
print("by name:", manager.find_experiment_by_name("baseline") == experiment_id)

failing = manager.create_experiment(Path(__file__), name="broken", config={"learning_rate": 10.0})
manager.start_experiment(failing)
manager.fail_experiment(failing, "loss diverged")
print("failed:", manager.get_experiment_metadata(failing)["error"]["message"])

cancelled = manager.create_experiment(Path(__file__), name="stopped")
manager.start_experiment(cancelled)
manager.cancel_experiment(cancelled, "user stopped it")
print("cancelled:", manager.get_experiment_metadata(cancelled)["status"])
print("running now:", manager.get_running_experiment())

archived = manager.archive_experiment(cancelled)
print("archived into:", archived.parent.parent.name)

try:
    manager.get_experiment_metadata("00000000")
except ExperimentNotFoundError as exc:
    print("not found:", type(exc).__name__)
