#!/usr/bin/env python3
"""scikit-learn's side of the sous models benchmark (bench/models/main.go):
the same models with the same settings on the designs main.go writes.

    python3 peers.py --dir DIR --case CASE

fits one case in this process and prints one JSON object (main.go runs
each case in its own process, so that its peak RSS is its own). Fit uses
scikit-learn's defaults for threads (OpenBLAS threads for the linear
models, n_jobs=2 for the forests); predict runs on one thread.
"""
import argparse
import json
import os
import time


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--case", required=True)
    a = ap.parse_args()

    import numpy as np
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    case = a.case
    design = {"linear": "taxiwide", "ridge": "taxiwide", "logistic": "binarywide",
              "forest_taxi": "taxiraw", "forest_binary": "binaryraw"}[case]
    with open(os.path.join(a.dir, "meta.json")) as f:
        d = json.load(f)["designs"][design]

    def load(s):
        return np.fromfile(os.path.join(a.dir, design + "_" + s + ".f64"), dtype="<f8")

    xtr, ytr = load("Xtrain").reshape(-1, d["cols"]), load("ytrain")
    xte, yte = load("Xtest").reshape(-1, d["cols"]), load("ytest")
    # Read every value once before timing, as main.go does (first accesses
    # to fresh pages can be slow on virtual machines).
    touched = float(xtr.sum() + ytr.sum() + xte.sum() + yte.sum())
    binary = d["task"] == "binary"
    if binary:
        ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)

    notes = ""
    if case == "linear":
        from sklearn.linear_model import LinearRegression

        est = LinearRegression()
        notes = "lstsq"
    elif case == "ridge":
        from sklearn.linear_model import Ridge

        est = Ridge(alpha=1.0)
    elif case == "logistic":
        from sklearn.linear_model import LogisticRegression

        est = LogisticRegression(C=1.0, tol=1e-4, max_iter=100)  # lbfgs
    elif case == "forest_taxi":
        from sklearn.ensemble import RandomForestRegressor

        est = RandomForestRegressor(n_estimators=100, n_jobs=2, random_state=0)
    elif case == "forest_binary":
        from sklearn.ensemble import RandomForestClassifier

        est = RandomForestClassifier(n_estimators=100, n_jobs=2, random_state=0)
    else:
        raise SystemExit("unknown case " + case)

    t0, c0 = time.perf_counter(), time.process_time()
    if case == "logistic":
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(xtr, ytr)
    else:
        est.fit(xtr, ytr)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    if case == "ridge":
        notes = est.solver if est.solver != "auto" else "cholesky"
    if case == "logistic":
        n_iter = int(np.max(est.n_iter_))
        notes = "%d iterations, %s" % (n_iter, "max_iter" if n_iter >= est.max_iter else "converged")

    if hasattr(est, "n_jobs"):
        est.set_params(n_jobs=1)
    predict = (lambda x: est.predict_proba(x)[:, 1]) if binary else est.predict
    with threadpool_limits(limits=1):
        predict(xte[:1000])  # warm up
        t0 = time.perf_counter()
        pred = predict(xte)
        pred_s = time.perf_counter() - t0

    if binary:
        metric = float(roc_auc_score(yte, pred))
        accuracy = float(np.mean((pred > 0.5) == (yte == 1)))
    else:
        metric = float(np.sqrt(np.mean((pred - yte) ** 2)))
        accuracy = 0.0
    print(json.dumps(dict(
        case=case,
        model="sklearn",
        fit_s=fit_s,
        fit_cpu_s=fit_cpu,
        predict_rows_s=len(yte) / pred_s,
        metric=metric,
        accuracy=accuracy,
        peak_rss_mb=peak_rss_mb(),
        notes=notes,
        touched=touched,
    )))


if __name__ == "__main__":
    main()
