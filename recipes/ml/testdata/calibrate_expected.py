#!/usr/bin/python3
"""Expected values for the probability calibrator (calibrate.go), computed
with scikit-learn.

Run from recipes/ml:

    /usr/bin/python3 testdata/calibrate_expected.py > testdata/calibrate_expected.json

(Debian's python3-sklearn). Every input is fixed in this file or drawn from a
seeded generator and written to the JSON, so the Go test reads exactly what
scikit-learn saw. It prints one JSON document:

  sigmoid    binary Platt fits: scores (positive-class probabilities), labels,
             scikit-learn's (a, b) from _sigmoid_calibration (fmin_bfgs,
             gtol 1e-5, so only near the optimum), the exact optimum of the
             same smoothed objective (Newton to a gradient of 1e-13), and the
             calibrated probabilities of test scores under both
  isotonic   IsotonicRegression(out_of_bounds="clip") fits: thresholds and
             predictions at test scores (below, inside, at and above the
             thresholds)
  classifier CalibratedClassifierCV(cv="prefit") around an estimator whose
             predict_proba returns its input, binary and 3-class, sigmoid and
             isotonic: calibration proba and labels, test proba, and
             scikit-learn's calibrated predict_proba
"""
import json
import math

import numpy as np
import sklearn
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV, _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression

rng = np.random.default_rng(20250601)


def smoothed_targets(y):
    y = np.asarray(y)
    prior1 = float(np.sum(y > 0))
    prior0 = len(y) - prior1
    t = np.where(y > 0, (prior1 + 1.0) / (prior1 + 2.0), 1.0 / (prior0 + 2.0))
    return t, prior0, prior1


def exact_sigmoid(f, y):
    """The minimum of Platt's smoothed log loss, by Newton's method in
    float64 until the gradient is below 1e-13 (the objective is strictly
    convex when the scores are not all equal)."""
    f = np.asarray(f, dtype=np.float64)
    t, prior0, prior1 = smoothed_targets(y)
    ab = np.array([0.0, math.log((prior0 + 1.0) / (prior1 + 1.0))])

    def loss(ab):
        z = ab[0] * f + ab[1]
        return float(np.sum(np.logaddexp(0, z) - (1 - t) * z))

    for _ in range(200):
        p = expit(-(ab[0] * f + ab[1]))
        g = np.array([np.dot(t - p, f), np.sum(t - p)])
        if np.max(np.abs(g)) < 1e-13:
            break
        w = p * (1 - p)
        h = np.array([[np.dot(w, f * f), np.dot(w, f)], [np.dot(w, f), np.sum(w)]])
        step = -np.linalg.solve(h, g)
        s, f0 = 1.0, loss(ab)
        while s > 1e-12 and loss(ab + s * step) > f0 + 1e-4 * s * np.dot(g, step):
            s /= 2
        if s <= 1e-12:
            break
        ab = ab + s * step
    return float(ab[0]), float(ab[1])


TEST_SCORES = [0.0, 0.01, 0.1, 0.25, 0.333, 0.5, 0.6, 0.75, 0.9, 0.99, 1.0]


def sigmoid_case(name, f, y):
    f = [float(v) for v in f]
    y = [int(v) for v in y]
    a, b = _sigmoid_calibration(np.asarray(f), np.asarray(y))
    ea, eb = exact_sigmoid(f, y)
    test = np.asarray(TEST_SCORES)
    return {
        "name": name,
        "scores": f,
        "y": y,
        "sklearn_a": float(a),
        "sklearn_b": float(b),
        "exact_a": ea,
        "exact_b": eb,
        "test_scores": TEST_SCORES,
        "sklearn_proba": [float(v) for v in expit(-(a * test + b))],
        "exact_proba": [float(v) for v in expit(-(ea * test + eb))],
    }


def isotonic_case(name, x, y, test):
    x = [float(v) for v in x]
    y = [int(v) for v in y]
    ir = IsotonicRegression(out_of_bounds="clip").fit(np.asarray(x), np.asarray(y, dtype=np.float64))
    return {
        "name": name,
        "scores": x,
        "y": y,
        "x_thresholds": [float(v) for v in ir.X_thresholds_],
        "y_thresholds": [float(v) for v in ir.y_thresholds_],
        "test_scores": [float(v) for v in test],
        "predict": [float(v) for v in ir.predict(np.asarray(test, dtype=np.float64))],
    }


class FixedProba(ClassifierMixin, BaseEstimator):
    """A fitted classifier whose predict_proba is its input: X is the
    probability matrix, so CalibratedClassifierCV calibrates exactly the
    probabilities the Go test gives its calibrator. No decision_function, so
    CalibratedClassifierCV uses predict_proba, as sous does."""

    def __init__(self, n_classes=2):
        self.n_classes = n_classes

    def fit(self, X, y):
        self.classes_ = np.arange(self.n_classes)
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=np.float64)

    def predict(self, X):
        return np.argmax(X, axis=1)


def classifier_case(name, method, cal_proba, cal_y, test_proba):
    k = cal_proba.shape[1]
    base = FixedProba(k).fit(cal_proba, cal_y)
    cc = CalibratedClassifierCV(base, method=method, cv="prefit").fit(cal_proba, cal_y)
    return {
        "name": name,
        "method": method,
        "classes": k,
        "cal_proba": cal_proba.tolist(),
        "cal_y": [int(v) for v in cal_y],
        "test_proba": test_proba.tolist(),
        "proba": cc.predict_proba(test_proba).tolist(),
    }


def normalise(m):
    return m / m.sum(axis=1, keepdims=True)


# Sigmoid: an overconfident model (true P(y=1) = 0.25 + 0.5 s), a small
# hand-written set, separable classes, tree-like tied scores, imbalance.
s = rng.uniform(0, 1, 300)
sigmoid = [
    sigmoid_case("overconfident", s, rng.uniform(0, 1, 300) < 0.25 + 0.5 * s),
    sigmoid_case("small", [0.1, 0.2, 0.3, 0.35, 0.4, 0.6, 0.65, 0.7, 0.8, 0.9], [0, 0, 1, 0, 0, 1, 0, 1, 1, 1]),
    sigmoid_case("separable", [0.05, 0.1, 0.2, 0.3, 0.7, 0.8, 0.9, 0.95], [0, 0, 0, 0, 1, 1, 1, 1]),
    sigmoid_case("tied", np.repeat([0.0, 0.25, 0.5, 1.0], 15), np.tile([0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1], 4)),
]
s = rng.uniform(0, 0.4, 200)
sigmoid.append(sigmoid_case("imbalanced", s, rng.uniform(0, 1, 200) < s * s))

# Isotonic: random scores, tied scores with mixed labels, two rows, scores
# closer than 1e-15 (merged, as scikit-learn's _make_unique does), a
# decreasing relation (one pooled block).
test = [-0.5, 0.0, 0.02, 0.1, 0.25, 0.3, 0.41, 0.5, 0.77, 0.9, 1.0, 1.5]
s = rng.uniform(0, 1, 120)
isotonic = [
    isotonic_case("random", s, rng.uniform(0, 1, 120) < s, test + list(s[:5])),
    isotonic_case("tied", np.repeat([0.1, 0.3, 0.5, 0.9], 5), [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0], test),
    isotonic_case("two_rows", [0.2, 0.8], [0, 1], test),
    isotonic_case("near_duplicates", [0.3, float(np.nextafter(0.3, 1)), 0.3 + 2e-15, 0.6, 0.7], [1, 0, 0, 1, 0], test),
    isotonic_case("decreasing", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [1, 1, 1, 0, 0, 0], test),
]

# Classifier: binary and 3-class probabilities of a noisy model; the
# 3-class isotonic test rows include one that every class's curve maps to 0
# (so scikit-learn returns the uniform row).
n = 150
p1 = rng.uniform(0, 1, n)
bin_cal = np.column_stack([1 - p1, p1])
bin_y = (rng.uniform(0, 1, n) < 0.1 + 0.8 * p1).astype(int)
q = rng.uniform(0, 1, 40)
bin_test = np.column_stack([1 - q, q])

y3 = rng.integers(0, 3, n)
raw = rng.uniform(0, 1, (n, 3))
raw[np.arange(n), y3] += rng.uniform(0, 1.5, n)
cal3 = normalise(raw)
test3 = normalise(rng.uniform(0, 1, (40, 3)) + 0.2)
# Low scores for every class: below the calibration rows' smallest scores,
# where isotonic calibration of each class is 0 if no row there is of that class.
test3 = np.vstack([test3, [1 / 3, 1 / 3, 1 / 3]])
iso_cal3 = np.vstack([cal3, np.diag([0.9, 0.9, 0.9]) + 0.05])
iso_cal3 = normalise(iso_cal3)
iso_y3 = np.concatenate([y3, [0, 1, 2]])
# Rows whose score of class j is low are never of class j: each class's
# isotonic curve is 0 up to 0.34.
for row in range(len(iso_y3)):
    iso_y3[row] = int(np.argmax(iso_cal3[row])) if iso_cal3[row, iso_y3[row]] <= 0.34 else iso_y3[row]
classifier = [
    classifier_case("binary_sigmoid", "sigmoid", bin_cal, bin_y, bin_test),
    classifier_case("binary_isotonic", "isotonic", bin_cal, bin_y, bin_test),
    classifier_case("multiclass_sigmoid", "sigmoid", cal3, y3, test3),
    classifier_case("multiclass_isotonic", "isotonic", iso_cal3, iso_y3, test3),
]

print(json.dumps({
    "sklearn_version": sklearn.__version__,
    "sigmoid": sigmoid,
    "isotonic": isotonic,
    "classifier": classifier,
}, indent=1))
