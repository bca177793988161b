"""Not an experiment: a module the experiments could import (list-experiments skips it)."""


def square(x):
    return x * x
