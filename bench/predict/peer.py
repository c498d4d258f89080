#!/usr/bin/python3
"""scikit-learn's side of bench/predict: fit HistGradientBoostingRegressor
with the size of sous's model (100 trees, 31 leaves, no early stopping) on
the transformed training rows bench/predict wrote, then time predict on the
scoring rows, already in memory, on one thread (OMP_NUM_THREADS=1).
Prints the best of three rows/s.

    python3 peer.py DIR NFEATURES
"""
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

d, cols = sys.argv[1], int(sys.argv[2])
xtr = np.fromfile(os.path.join(d, "Xtrain.f64"), dtype="<f8").reshape(-1, cols)
ytr = np.fromfile(os.path.join(d, "ytrain.f64"), dtype="<f8")
xs = np.fromfile(os.path.join(d, "Xscore.f64"), dtype="<f8").reshape(-1, cols)
m = HistGradientBoostingRegressor(max_iter=100, max_leaf_nodes=31, learning_rate=0.1, early_stopping=False)
m.fit(xtr, ytr)
best = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    m.predict(xs)
    best = min(best, time.perf_counter() - t0)
print(xs.shape[0] / best)
