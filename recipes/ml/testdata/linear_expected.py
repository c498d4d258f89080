#!/usr/bin/python3
"""Expected values for the classification metrics and the lasso, elastic_net
and logistic_regression estimators, computed with scikit-learn.

Run from recipes/ml:

    /usr/bin/python3 testdata/linear_expected.py > testdata/linear_expected.json

(Debian's python3-sklearn). It prints one JSON document:

  classification  ClassificationMetrics cases (proba rows, true classes,
                  positive class or -1) with scikit-learn's metrics and, for
                  binary cases, roc_curve and precision_recall_curve
  enet_fixed      Lasso and ElasticNet coefficients on fixed random data
                  (tight tol, to 1e-6) and with the default tol
  wine_lasso      StandardScaler + Lasso / ElasticNet on wine quality, rows
                  i % 5 == 0 held out
  logistic        StandardScaler + LogisticRegression (lbfgs) on breast cancer
                  (binary) and iris (multinomial), rows i % 5 == 0 held out:
                  lbfgs coefficients at the default and a tiny tol, the exact
                  optimum (newton-cg, tol 1e-12), test accuracy
"""
import csv
import json
import sys
import warnings

import numpy as np
import sklearn
from sklearn import metrics as skm
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression
from sklearn.preprocessing import StandardScaler

warnings.simplefilter("ignore", ConvergenceWarning)

WINE = "/work/shared/data/wine-quality/winequality.csv"
IRIS = "/work/shared/data/iris/iris.csv"


def fl(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def classification_case(name, y, proba, positive):
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    k = proba.shape[1]
    pred = proba.argmax(axis=1)
    labels = list(range(k))
    exp = {"accuracy_score": skm.accuracy_score(y, pred),
           "log_loss": skm.log_loss(y, proba, labels=labels),
           "example_count": len(y)}
    case = {"name": name, "y_true": y.tolist(), "proba": proba.tolist(), "positive": positive}
    if positive >= 0:
        s = proba[:, positive]
        yb = (y == positive).astype(int)
        exp["precision_score"] = skm.precision_score(y, pred, pos_label=positive, zero_division=0)
        exp["recall_score"] = skm.recall_score(y, pred, pos_label=positive, zero_division=0)
        exp["f1_score"] = skm.f1_score(y, pred, pos_label=positive, zero_division=0)
        exp["roc_auc"] = skm.roc_auc_score(yb, s)
        exp["precision_recall_auc"] = skm.average_precision_score(y, s, pos_label=positive)
        tp = int(((pred == positive) & (y == positive)).sum())
        fp = int(((pred == positive) & (y != positive)).sum())
        tn = int(((pred != positive) & (y != positive)).sum())
        fn = int(((pred != positive) & (y == positive)).sum())
        exp.update(true_positives=tp, false_positives=fp, true_negatives=tn, false_negatives=fn)
        fpr, tpr, thr = skm.roc_curve(y, s, pos_label=positive)
        prec, rec, pthr = skm.precision_recall_curve(y, s, pos_label=positive)
        case["roc"] = {"fpr": fl(fpr), "tpr": fl(tpr), "thresholds": fl(thr)}
        case["pr"] = {"precision": fl(prec), "recall": fl(rec), "thresholds": fl(pthr)}
    else:
        exp["f1_score_macro"] = skm.f1_score(y, pred, labels=labels, average="macro", zero_division=0)
        exp["f1_score_micro"] = skm.f1_score(y, pred, labels=labels, average="micro", zero_division=0)
        exp["precision_score_macro"] = skm.precision_score(y, pred, labels=labels, average="macro", zero_division=0)
        exp["recall_score_macro"] = skm.recall_score(y, pred, labels=labels, average="macro", zero_division=0)
        exp["roc_auc_ovr"] = skm.roc_auc_score(y, proba, labels=labels, multi_class="ovr", average="macro")
    case["confusion"] = skm.confusion_matrix(y, pred, labels=labels).tolist()
    case["expected"] = {k2: float(v) for k2, v in exp.items()}
    return case


rng = np.random.default_rng(20251125)
cases = []
y = [0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0]
p1 = np.array([0.1, 0.4, 0.35, 0.8, 0.65, 0.4, 0.9, 0.65, 0.2, 0.5, 0.5, 0.05])
bin_proba = np.column_stack([1 - p1, p1])
cases.append(classification_case("binary_ties", y, bin_proba, 1))
cases.append(classification_case("binary_positive_0", y, bin_proba, 0))
yr = rng.integers(0, 2, 300)
pr = np.clip(np.round(0.3 * yr + rng.uniform(0, 0.7, 300), 1), 0, 1)
cases.append(classification_case("binary_random_rounded", yr, np.column_stack([1 - pr, pr]), 1))
pe = np.array([0.0, 1.0, 1.0, 0.0, 0.7, 0.2, 1.0, 0.0])
ye = [0, 1, 0, 1, 1, 0, 1, 0]
cases.append(classification_case("binary_extreme_proba", ye, np.column_stack([1 - pe, pe]), 1))
ym = rng.integers(0, 3, 200)
logits = rng.integers(0, 3, (200, 3)).astype(float)
logits[np.arange(200), ym] += rng.integers(0, 2, 200)
pm = np.exp(logits)
pm /= pm.sum(axis=1, keepdims=True)
cases.append(classification_case("multiclass_ties", ym, pm, -1))
# Class 3 is never predicted: its precision is 0 (zero_division).
y4 = rng.integers(0, 4, 60)
l4 = rng.normal(0, 1, (60, 4))
l4[:, 3] -= 10
l4[np.arange(60), y4] += 1.0
p4 = np.exp(l4)
p4 /= p4.sum(axis=1, keepdims=True)
cases.append(classification_case("multiclass_never_predicted", y4, p4, -1))

# Lasso and ElasticNet on fixed data.
n, p = 80, 6
Xf = rng.normal(0, 1, (n, p)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0]) + np.array([0, 1, -2, 0, 5, 0])
Xf[:, 5] = 0.7 * Xf[:, 0] + 0.3 * rng.normal(0, 1, n)  # correlated column
yf = Xf @ np.array([1.5, 0.0, -2.0, 0.0, 0.3, 0.5]) + 4 + rng.normal(0, 0.5, n)
enet_fixed = {"X": Xf.tolist(), "y": fl(yf), "fits": []}
for est, params in [
    ("lasso", dict(alpha=0.1)),
    ("lasso", dict(alpha=0.5, fit_intercept=False)),
    ("elastic_net", dict(alpha=0.05, l1_ratio=0.3)),
    ("elastic_net", dict(alpha=1.0, l1_ratio=0.9)),
]:
    for tol in (1e-12, 1e-4):
        kw = dict(params, tol=tol, max_iter=100000 if tol < 1e-6 else 1000)
        m = (Lasso(**kw) if est == "lasso" else ElasticNet(**kw)).fit(Xf, yf)
        enet_fixed["fits"].append({"estimator": est, "params": kw, "coef": fl(m.coef_),
                                   "intercept": float(m.intercept_), "n_iter": int(m.n_iter_)})

# Wine quality.
with open(WINE, newline="") as fh:
    rows = list(csv.reader(fh))
header = rows[0]
features = [h for h in header[1:] if h != "quality"]
idx = [header.index(h) for h in features]
qi = header.index("quality")
data = np.array([[float(r[i]) for i in idx] for r in rows[1:]])
target = np.array([float(r[qi]) for r in rows[1:]])
test = np.arange(len(target)) % 5 == 0
sc = StandardScaler().fit(data[~test])
Xtr, Xte = sc.transform(data[~test]), sc.transform(data[test])
wine = {"features": features, "fits": []}
for est, params in [("lasso", dict(alpha=0.01)), ("elastic_net", dict(alpha=0.02, l1_ratio=0.5))]:
    for tol in (1e-12, 1e-4):
        kw = dict(params, tol=tol, max_iter=100000 if tol < 1e-6 else 1000)
        m = (Lasso(**kw) if est == "lasso" else ElasticNet(**kw)).fit(Xtr, target[~test])
        wine["fits"].append({"estimator": est, "params": kw, "coef": fl(m.coef_), "intercept": float(m.intercept_),
                             "test_r2": float(skm.r2_score(target[test], m.predict(Xte))), "n_iter": int(m.n_iter_)})


def logistic(name, X, y, extra):
    test = np.arange(len(y)) % 5 == 0
    sc = StandardScaler().fit(X[~test])
    Xtr, Xte = sc.transform(X[~test]), sc.transform(X[test])
    out = dict(extra, name=name, train_rows=int((~test).sum()), test_rows=int(test.sum()), fits=[])
    for params in [dict(C=1.0, tol=1e-4, max_iter=100), dict(C=1.0, tol=1e-10, max_iter=10000),
                   dict(C=0.05, tol=1e-10, max_iter=10000), dict(C=1.0, tol=1e-10, max_iter=10000, fit_intercept=False)]:
        m = LogisticRegression(**params).fit(Xtr, y[~test])
        # lbfgs stops on scipy's relative reduction of the objective (ftol)
        # as well as on tol, so at a tiny tol the optimum is computed by
        # newton-cg, which converges quadratically to it.
        opt = LogisticRegression(solver="newton-cg", **dict(params, tol=1e-12)).fit(Xtr, y[~test])
        out["fits"].append({"params": params, "coef": m.coef_.tolist(), "intercept": fl(m.intercept_),
                            "optimum_coef": opt.coef_.tolist(), "optimum_intercept": fl(opt.intercept_),
                            "n_iter": int(m.n_iter_[0]),
                            "test_accuracy": float(skm.accuracy_score(y[test], m.predict(Xte))),
                            "test_proba_head": m.predict_proba(Xte[:5]).tolist()})
    return out


bc = load_breast_cancer()
iris_rows = list(csv.reader(open(IRIS, newline="")))
iris_X = np.array([[float(v) for v in r[:4]] for r in iris_rows[1:]])
iris_names = sorted(set(r[4] for r in iris_rows[1:]))
iris_y = np.array([iris_names.index(r[4]) for r in iris_rows[1:]])
logistic_out = [
    logistic("breast_cancer", bc.data, bc.target,
             {"x_sum": float(bc.data.sum()), "y_sum": int(bc.target.sum()), "features": list(bc.feature_names)}),
    logistic("iris", iris_X, iris_y, {"x_sum": float(iris_X.sum()), "classes": iris_names}),
]

json.dump({"sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
           "classification": cases, "enet_fixed": enet_fixed, "wine_lasso": wine, "logistic": logistic_out},
          sys.stdout, indent=1)
sys.stdout.write("\n")
