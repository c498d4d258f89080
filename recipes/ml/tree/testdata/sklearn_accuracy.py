#!/usr/bin/python3
"""Accuracy scikit-learn reaches on the splits tree_test.go uses.

Run with Debian's scikit-learn (1.2.1): /usr/bin/python3 sklearn_accuracy.py
The numbers are committed in sklearn_accuracy.txt and used as floors (minus a
small tolerance, since the random streams differ) by TestBreastCancer and
TestIris. Test rows are those with index % 3 == 0; the rest train.

breast-cancer/data.parquet is scikit-learn's load_breast_cancer (the Go test
checks the sum of X below, since pandas here cannot read parquet).
"""
import csv
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


def evaluate(name, X, y):
    test = np.arange(len(y)) % 3 == 0
    print(f"{name}_rows {len(y)}")
    print(f"{name}_xsum {X.sum():.6f}")
    accs = {"tree": [], "forest": []}
    for seed in range(5):
        t = DecisionTreeClassifier(random_state=seed).fit(X[~test], y[~test])
        accs["tree"].append((t.predict(X[test]) == y[test]).mean())
        f = RandomForestClassifier(n_estimators=100, random_state=seed).fit(X[~test], y[~test])
        accs["forest"].append((f.predict(X[test]) == y[test]).mean())
    for k, v in accs.items():
        print(f"{name}_{k}_accuracy_mean {np.mean(v):.4f}")
        print(f"{name}_{k}_accuracy_min {np.min(v):.4f}")


bc = load_breast_cancer()
evaluate("breast_cancer", bc.data, bc.target)

with open("/work/shared/data/iris/iris.csv") as fh:
    rows = list(csv.reader(fh))[1:]
X = np.array([[float(v) for v in r[:4]] for r in rows])
classes = sorted({r[4] for r in rows})
y = np.array([classes.index(r[4]) for r in rows])
evaluate("iris", X, y)
