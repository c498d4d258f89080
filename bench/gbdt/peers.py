#!/usr/bin/env python3
"""Peer models for the sous gbdt benchmark: XGBoost hist and scikit-learn
HistGradientBoosting on the data sets bench/gbdt/main.go writes.

    python3 peers.py --dir DIR [--threads 1,2] [--models xgboost,sklearn]

prints a JSON list with one object per (dataset, model, threads). Each
configuration runs in its own child process so that its peak RSS is its
own. Fit uses the given thread count; predict always runs on one thread.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def load(d, name, meta):
    import numpy as np

    m = meta[name]
    cols = m["cols"]
    xtr = np.fromfile(os.path.join(d, name + "_Xtrain.f64"), dtype="<f8").reshape(-1, cols)
    ytr = np.fromfile(os.path.join(d, name + "_ytrain.f64"), dtype="<f8")
    xte = np.fromfile(os.path.join(d, name + "_Xtest.f64"), dtype="<f8").reshape(-1, cols)
    yte = np.fromfile(os.path.join(d, name + "_ytest.f64"), dtype="<f8")
    return xtr, ytr, xte, yte


def run_one(d, name, model, threads):
    # Thread pools read these at import time. On a shared machine spinning
    # OpenMP workers stall behind other processes' threads; a passive wait
    # keeps the peers' multi-thread numbers meaningful (override by setting
    # OMP_WAIT_POLICY yourself).
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import numpy as np
    from sklearn.metrics import roc_auc_score
    from threadpoolctl import threadpool_limits

    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    task = meta[name]["task"]
    p = meta["params"]
    xtr, ytr, xte, yte = load(d, name, meta)

    if model == "xgboost":
        import xgboost as xgb

        common = dict(
            tree_method="hist",
            grow_policy="lossguide",
            max_leaves=p["max_leaf_nodes"],
            max_depth=0,
            max_bin=256,
            learning_rate=p["learning_rate"],
            n_estimators=p["n_iter"],
            reg_lambda=p["l2"],
            n_jobs=threads,
            base_score=float(ytr.mean()),
            random_state=0,
        )
        if task == "regression":
            # Hessian 1 per row: the weight bound is the row bound.
            est = xgb.XGBRegressor(objective="reg:squarederror", min_child_weight=p["min_samples_leaf"], **common)
        else:
            # Hessian p(1-p) per row: scale the row bound by its prior value.
            pr = float(ytr.mean())
            est = xgb.XGBClassifier(objective="binary:logistic",
                                    min_child_weight=p["min_samples_leaf"] * pr * (1 - pr), **common)
        t0, c0 = time.perf_counter(), time.process_time()
        est.fit(xtr, ytr)
        fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        est.get_booster().set_param({"nthread": 1})
        est.set_params(n_jobs=1)
        predict = est.predict if task == "regression" else (lambda x: est.predict_proba(x)[:, 1])
        predict(xte[:1000])  # warm up
        t0, c0 = time.perf_counter(), time.thread_time()
        pred = predict(xte)
        pred_s, pred_cpu = time.perf_counter() - t0, time.thread_time() - c0
    elif model == "sklearn":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        kw = dict(
            max_iter=p["n_iter"],
            learning_rate=p["learning_rate"],
            max_leaf_nodes=p["max_leaf_nodes"],
            min_samples_leaf=p["min_samples_leaf"],
            l2_regularization=p["l2"],
            max_bins=255,
            early_stopping=False,
            random_state=0,
        )
        est = HistGradientBoostingRegressor(**kw) if task == "regression" else HistGradientBoostingClassifier(**kw)
        with threadpool_limits(limits=threads, user_api="openmp"):
            t0, c0 = time.perf_counter(), time.process_time()
            est.fit(xtr, ytr)
            fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        predict = est.predict if task == "regression" else (lambda x: est.predict_proba(x)[:, 1])
        with threadpool_limits(limits=1, user_api="openmp"):
            predict(xte[:1000])
            t0, c0 = time.perf_counter(), time.thread_time()
            pred = predict(xte)
            pred_s, pred_cpu = time.perf_counter() - t0, time.thread_time() - c0
    else:
        raise SystemExit("unknown model " + model)

    if task == "regression":
        metric = float(np.sqrt(np.mean((pred - yte) ** 2)))
    else:
        metric = float(roc_auc_score(yte, pred))
    return dict(
        dataset=name,
        model=model,
        threads=threads,
        fit_s=fit_s,
        fit_cpu_s=fit_cpu,
        predict_rows_s=len(yte) / pred_s,
        predict_rows_cpu_s=len(yte) / pred_cpu,
        metric=metric,
        peak_rss_mb=peak_rss_mb(),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="xgboost,sklearn")
    ap.add_argument("--datasets", default="")
    ap.add_argument("--repeat", type=int, default=1, help="runs per configuration; keep each column's best")
    ap.add_argument("--one", nargs=3, metavar=("DATASET", "MODEL", "THREADS"))
    a = ap.parse_args()
    if a.one:
        name, model, threads = a.one
        print(json.dumps(run_one(a.dir, name, model, int(threads))))
        return
    with open(os.path.join(a.dir, "meta.json")) as f:
        meta = json.load(f)
    names = a.datasets.split(",") if a.datasets else meta["datasets"]
    out = []
    for name in names:
        for model in a.models.split(","):
            for t in a.threads.split(","):
                runs = []
                for _ in range(max(1, a.repeat)):
                    r = subprocess.run(
                        [sys.executable, os.path.abspath(__file__), "--dir", a.dir, "--one", name, model, t],
                        stdout=subprocess.PIPE,
                        check=True,
                    )
                    runs.append(json.loads(r.stdout.decode().strip().splitlines()[-1]))
                    print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
                b = dict(runs[0])
                for k in ("fit_s", "fit_cpu_s", "peak_rss_mb"):
                    b[k] = min(r[k] for r in runs)
                for k in ("predict_rows_s", "predict_rows_cpu_s"):
                    b[k] = max(r[k] for r in runs)
                out.append(b)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
