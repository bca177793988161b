"""Tune an SVC on scikit-learn's digits (ships with scikit-learn; no download): every trial is a run."""

# runlab optimize examples/optimize/svc_digits.py -n 20 -j 2 --objective metrics.val_acc --direction maximize \
#     --search "C=float(1e-2,1e3,log)" --search "GAMMA=float(1e-5,1e-1,log)" --seed 0 --root /tmp/runs
# runlab study show svc_digits --root /tmp/runs
# runlab study report svc_digits -o /tmp/svc-report --root /tmp/runs

import runlab

C: float = 1.0  # regularisation strength (inverse)
GAMMA: float = 0.001  # RBF kernel width
VAL_FRACTION: float = 0.25  # held-out share of the data
SEED: int = 0  # the train/validation split

experiment = runlab.Experiment(namespace="svc_digits", glob=globals())


@experiment
def main(e):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=e.VAL_FRACTION, random_state=e.SEED, stratify=y)
    model = SVC(C=e.C, gamma=e.GAMMA).fit(x_train, y_train)
    acc = float(model.score(x_val, y_val))
    runlab.log_results({"val_acc": acc, "train_acc": float(model.score(x_train, y_train))})
    return acc


experiment.run_if_main()
