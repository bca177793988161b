"""Step 1: make the data (points on y = 2x + 1 with noise)."""

import random

N_POINTS = 50
SEED = 0


def main():
    rng = random.Random(SEED)
    return [(x / N_POINTS, 2 * x / N_POINTS + 1 + rng.gauss(0, 0.05)) for x in range(N_POINTS)]
