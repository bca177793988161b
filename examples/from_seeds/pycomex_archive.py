"""PyComex's data and archive APIs (seed 000, sections 2.2, 4.2-4.4), ported by changing the imports.

Was::

    from pycomex.functional.experiment import Experiment
    from pycomex.utils import folder_path, file_namespace

The run goes beside this file, to ``results/pycomex_archive/my_archive`` (ignored by git).
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from runlab import Experiment, file_namespace, folder_path

NUM_EPOCHS: int = 5  # passes over the data

# Named archive (section 4.2): the folder is called "my_archive"
experiment = Experiment(
    base_path=folder_path(__file__),
    namespace=file_namespace(__file__),
    glob=globals(),
    name="my_archive",
)


@experiment
def run_experiment(e):
    # Nested dictionary access (section 4.3)
    e["metrics/loss/train"] = 0.123
    e["metrics/loss/test"] = 0.456
    loss = e["metrics/loss/train"]
    metrics = e["metrics"]  # Returns nested dict
    e.log_pretty(metrics)
    assert e.data["metrics"]["loss"]["train"] == loss

    # Tracked values
    for epoch in range(e.NUM_EPOCHS):
        e.track("loss", round(0.5 - 0.1 * epoch, 3))
    e.track("visualization", plt.figure())
    e.log(f"data['loss'] = {e.data['loss']}")
    e.log(f"metadata['__track__'] = {e.metadata['__track__']}")

    # File commits
    e.commit_json("results.json", {"key": "value"})
    e.commit_raw("summary.txt", "Results...")
    fig = plt.figure()
    e.commit_fig("plot.png", fig)


experiment.run_if_main()

if __name__ == "__main__":
    # Checking and loading archives (section 4.4)
    path = experiment.path
    if Experiment.is_archive(path):
        metadata = Experiment.load_metadata(path)
        archived = Experiment.load(path)
        print("archive:", path.name, metadata["status"], archived.NUM_EPOCHS, archived.data["loss"])
