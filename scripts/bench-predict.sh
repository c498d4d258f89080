#!/usr/bin/env bash
# Batch-scoring benchmark (make bench-predict): sous scoring 2M and 20M rows
# on 1 and 2 worker processes, and the model's throughput against
# scikit-learn's HistGradientBoosting, which this script installs from Debian
# (python3-sklearn) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import sklearn' 2>/dev/null; then
  echo "bench-predict: installing the peer (python3-sklearn) from Debian" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-sklearn >/dev/null
fi
exec go run ./bench/predict -sous "${BIN:-bin/sous}" -rows "${BENCH_PREDICT_ROWS:-2000000,20000000}" "$@"
