#!/usr/bin/env bash
# Runs sous's models side by side with scikit-learn and XGBoost on the same
# generated data, printing one table with the ratios (make bench).
# The peers come from Debian's packages; this script installs them if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c 'import sklearn, xgboost' 2>/dev/null; then
  echo "bench: installing the peers (python3-sklearn, python3-xgboost) from Debian" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-sklearn python3-xgboost >/dev/null
fi
rows="${BENCH_ROWS:-1000000}"
echo "== gradient-boosted trees, $rows rows (bench/gbdt)"
go run ./bench/gbdt -rows "$rows"
