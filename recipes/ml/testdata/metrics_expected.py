#!/usr/bin/python3
"""Expected values for the ml package tests, computed with scikit-learn.

Run from recipes/ml:

    /usr/bin/python3 testdata/metrics_expected.py  # Debian python3-sklearn > testdata/metrics_expected.json

It prints one JSON document:

  metrics      regression metrics on fixed vectors (RegressionMetrics must
               match to 1e-9)
  transformers fitted statistics of scalers, encoders and the discretizer
  rank_deficient  LinearRegression on a one-hot + intercept design, whose
               minimum-norm solution fixes the prediction for an unseen
               category
  wine         StandardScaler + Ridge(alpha=1) and LinearRegression on the
               wine-quality data, rows i % 5 == 0 held out: the R^2 floor
               and coefficients the Go fit must reach
"""
import csv
import json
import sys

import numpy as np
import sklearn
from sklearn import metrics as skm
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.preprocessing import (KBinsDiscretizer, MinMaxScaler, OneHotEncoder,
                                   RobustScaler, StandardScaler)

WINE = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data/wine-quality/winequality.csv"


def regression_metrics(y, p):
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    mse = skm.mean_squared_error(y, p)
    return {
        "mean_absolute_error": skm.mean_absolute_error(y, p),
        "mean_squared_error": mse,
        "root_mean_squared_error": float(np.sqrt(mse)),
        "max_error": skm.max_error(y, p),
        "mean_absolute_percentage_error": skm.mean_absolute_percentage_error(y, p),
        "r2_score": skm.r2_score(y, p),
        "example_count": len(y),
        "mean_on_target": float(np.mean(y)),
        "sum_on_target": float(np.sum(y)),
    }


rng = np.random.default_rng(20240501)
cases = [
    ("simple", [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]),
    ("zeros_in_target", [0.0, 1.0, 0.0, 2.0, -3.0], [0.5, 1.0, -0.25, 2.5, -2.0]),
    ("perfect", [1.5, 2.5, -4.0], [1.5, 2.5, -4.0]),
    ("constant_target_exact", [2.0, 2.0, 2.0], [2.0, 2.0, 2.0]),
    ("constant_target_off", [2.0, 2.0, 2.0], [2.0, 2.5, 1.0]),
    ("negative_r2", [1.0, 2.0, 3.0], [3.0, 2.0, 1.0]),
    ("large_values", [1e9, 2e9 + 1, 3e9 - 7, 4e9], [1.1e9, 1.9e9, 3e9, 4.2e9]),
    ("random", list(rng.normal(10, 5, 500)), None),
]
out_cases = []
for name, y, p in cases:
    if p is None:
        p = list(np.asarray(y) + rng.normal(0, 2, len(y)))
    out_cases.append({"name": name, "y_true": [float(v) for v in y], "y_pred": [float(v) for v in p],
                      "expected": {k: float(v) for k, v in regression_metrics(y, p).items()}})

# Transformers on fixed columns.
x = np.array([4.0, -1.5, 2.0, 10.0, 3.5, 3.5, 0.25, 7.0, -2.0, 5.0, 100.0, 6.0]).reshape(-1, 1)
ss = StandardScaler().fit(x)
mm = MinMaxScaler(feature_range=(-1, 2)).fit(x)
rs = RobustScaler(quantile_range=(10.0, 90.0)).fit(x)
kb_args = dict(n_bins=4, encode="ordinal", strategy="quantile")
try:
    kb = KBinsDiscretizer(quantile_method="linear", **kb_args).fit(x)
except TypeError:  # scikit-learn < 1.7 has no quantile_method; linear is its only method
    kb = KBinsDiscretizer(**kb_args).fit(x)
probe = np.array([-5.0, 0.0, 3.5, 4.0, 6.5, 200.0]).reshape(-1, 1)
cats = np.array(["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] * 1, dtype=object).reshape(-1, 1)
oh = OneHotEncoder(max_categories=3, handle_unknown="ignore").fit(cats)
oh_probe = np.array(["a", "b", "c", "d", "e"], dtype=object).reshape(-1, 1)
transformers = {
    "x": x.ravel().tolist(),
    "probe": probe.ravel().tolist(),
    "standard_scaler": {"mean": float(ss.mean_[0]), "scale": float(ss.scale_[0]),
                        "probe": ss.transform(probe).ravel().tolist()},
    "min_max_scaler": {"feature_range": [-1, 2], "probe": mm.transform(probe).ravel().tolist()},
    "robust_scaler": {"quantile_range": [10, 90], "center": float(rs.center_[0]), "scale": float(rs.scale_[0]),
                      "probe": rs.transform(probe).ravel().tolist()},
    "binning": {"n_bins": 4, "edges": kb.bin_edges_[0].tolist(), "probe": kb.transform(probe).ravel().tolist()},
    "one_hot": {"categories": cats.ravel().tolist(), "max_categories": 3,
                "infrequent": [str(c) for c in oh.infrequent_categories_[0]],
                "probe": oh_probe.ravel().tolist(),
                "probe_out": oh.transform(oh_probe).toarray().tolist()},
}

# Rank-deficient design: a one-hot group plus a numeric column, with an intercept.
groups = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 1, 0])
num = np.array([0.5, 1.0, -1.0, 2.0, 0.0, 3.0, 1.5, -0.5, 2.5, 1.0, 4.0, -2.0])
X = np.column_stack([(groups == k).astype(float) for k in range(3)] + [num])
y = 2.0 * num + np.array([1.0, -3.0, 0.5])[groups] + np.array([0.1, -0.2, 0.05, 0.0, 0.3, -0.1, 0.2, -0.05, 0.0, 0.1, -0.3, 0.15])
lr = LinearRegression().fit(X, y)
probe_X = np.array([[0, 0, 0, 1.0], [1, 0, 0, 1.0], [0, 0, 1, -2.0]])
rank_deficient = {"X": X.tolist(), "y": y.tolist(), "coef": lr.coef_.tolist(), "intercept": float(lr.intercept_),
                  "probe": probe_X.tolist(), "probe_pred": lr.predict(probe_X).tolist()}

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
ridge = Ridge(alpha=1.0).fit(Xtr, target[~test])
ols = LinearRegression().fit(Xtr, target[~test])
wine = {
    "file": WINE.rsplit("/", 1)[-1],
    "features": features,
    "train_rows": int((~test).sum()),
    "test_rows": int(test.sum()),
    "ridge_alpha": 1.0,
    "ridge_coef": ridge.coef_.tolist(),
    "ridge_intercept": float(ridge.intercept_),
    "ridge_test_r2": float(skm.r2_score(target[test], ridge.predict(Xte))),
    "ridge_test_rmse": float(np.sqrt(skm.mean_squared_error(target[test], ridge.predict(Xte)))),
    "ols_test_r2": float(skm.r2_score(target[test], ols.predict(Xte))),
}

json.dump({"sklearn_version": sklearn.__version__, "numpy_version": np.__version__, "metrics": out_cases,
           "transformers": transformers, "rank_deficient": rank_deficient, "wine": wine},
          sys.stdout, indent=1)
sys.stdout.write("\n")
