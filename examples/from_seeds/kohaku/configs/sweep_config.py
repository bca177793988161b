# KohakuEngine's examples/configs/sweep_config.py; only the import changed (was kohakuengine.config).
from runlab.config import Config


def config_gen():
    """Hyperparameter sweep."""
    learning_rates = [0.001, 0.01, 0.1]
    batch_sizes = [16, 32, 64]

    for lr in learning_rates:
        for bs in batch_sizes:
            yield Config(
                globals_dict={"learning_rate": lr, "batch_size": bs, "experiment_name": f"lr{lr}_bs{bs}"},
                metadata={"sweep": "lr_bs", "lr": lr, "bs": bs},
            )
