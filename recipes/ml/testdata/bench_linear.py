#!/usr/bin/python3
"""scikit-learn's fit times for the models of linear_bench_test.go, on the
very same data. Write the data with the Go benchmarks first:

    SOUS_BENCH_LINEAR_CSV=/tmp/sous-bench-linear.csv \\
        go test -run '^$' -bench 'Logistic|Lasso' -benchtime 1x ./recipes/ml/
    /usr/bin/python3 recipes/ml/testdata/bench_linear.py /tmp/sous-bench-linear.csv

It prints one line per model: the best of five fit times (wall and process
CPU; numpy's BLAS may use several threads), and the iteration count.
"""
import sys
import time

import numpy as np
from sklearn.linear_model import Lasso, LogisticRegression

path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/sous-bench-linear.csv"
data = np.loadtxt(path, delimiter=",", skiprows=1)
X = np.ascontiguousarray(data[:, :-3])
y_reg, y_bin, y_multi = data[:, -3], data[:, -2].astype(int), data[:, -1].astype(int)
print(f"{X.shape[0]} x {X.shape[1]} from {path}")

for name, make, y in [
    ("BenchmarkLogisticFit", lambda: LogisticRegression(), y_bin),
    ("BenchmarkLogisticFitMultinomial", lambda: LogisticRegression(), y_multi),
    ("BenchmarkLassoFit", lambda: Lasso(alpha=0.01), y_reg),
]:
    best = best_cpu = float("inf")
    for _ in range(5):
        m = make()
        t0, c0 = time.perf_counter(), time.process_time()
        m.fit(X, y)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    n_iter = np.max(m.n_iter_)
    print(f"{name:34s} {best * 1e3:10.1f} ms  {best_cpu * 1e3:10.1f} ms CPU   n_iter {n_iter}")
