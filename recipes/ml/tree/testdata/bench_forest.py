#!/usr/bin/python3
"""scikit-learn's side of BenchmarkForestFit (bench_test.go).

    cd recipes/ml/tree
    SOUS_TREE_BENCH_CSV=/tmp/forest_bench.csv go test -run TestWriteBenchData .
    /usr/bin/python3 testdata/bench_forest.py /tmp/forest_bench.csv
    go test -run '^$' -bench BenchmarkForestFit -benchtime 1x .

Prints the wall-clock fit time of RandomForestRegressor(n_jobs=2) on the
benchmark's 100k x 20 training rows (best of --repeat), its mean node count
per tree and its R² on the benchmark's 20k held-out rows (CSV.test), to
compare with the Go benchmark's ns/op, nodes/tree and R². The machine should
be otherwise idle for both. --n-estimators (default 100) makes a quicker
quality check.
"""
import argparse
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor

ap = argparse.ArgumentParser()
ap.add_argument("csv")
ap.add_argument("--repeat", type=int, default=1)
ap.add_argument("--n-jobs", type=int, default=2)
ap.add_argument("--n-estimators", type=int, default=100)
a = ap.parse_args()

data = np.loadtxt(a.csv, delimiter=",", skiprows=1)
X, y = data[:, :-1], data[:, -1]
print(f"data {X.shape}")
best = float("inf")
for _ in range(a.repeat):
    m = RandomForestRegressor(n_estimators=a.n_estimators, n_jobs=a.n_jobs, random_state=0)
    t0 = time.perf_counter()
    m.fit(X, y)
    best = min(best, time.perf_counter() - t0)
print(f"sklearn RandomForestRegressor(n_estimators={a.n_estimators}, n_jobs={a.n_jobs}) fit: {best:.2f} s")
nodes = np.mean([e.tree_.node_count for e in m.estimators_])
print(f"nodes/tree {nodes:.0f}")
test = np.loadtxt(a.csv + ".test", delimiter=",", skiprows=1)
print(f"R² on held-out rows {m.score(test[:, :-1], test[:, -1]):.4f}")
