"""A small experiment script that the example configs extend (its UPPERCASE globals are parameters)."""

from pathlib import Path

# Step size of the optimiser.
LEARNING_RATE: float = 0.01
BATCH_SIZE: int = 64  # samples per step
MODEL_TYPE: str = "mlp"  # "mlp" or "transformer"
EPOCHS: int = 10
# Where the training data lives (relative to this file).
DATA_PATH: Path = Path("data")
OPTIMIZER: dict = {"name": "adam", "betas": [0.9, 0.999]}


def main() -> None:
    print(f"training a {MODEL_TYPE} for {EPOCHS} epochs, lr={LEARNING_RATE}, batch size {BATCH_SIZE}")


if __name__ == "__main__":
    main()
