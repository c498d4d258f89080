#!/usr/bin/env bash
# Runs sous's models side by side with scikit-learn and XGBoost on the same
# generated data, printing tables with the ratios (make bench): gradient
# boosting (bench/gbdt), then linear models and random forests
# (bench/models). The peers come from Debian's packages; this script installs
# them if missing.
#
# BENCH_ROWS (default 1000000) sets the GBDT training rows; BENCH_LINEAR_ROWS
# (500000), BENCH_LOGISTIC_ROWS (200000) and BENCH_FOREST_ROWS (100000) the
# rows of the linear, logistic and random forest fits.
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
echo "== linear models and random forests (bench/models)"
go run ./bench/models \
  -linear-rows "${BENCH_LINEAR_ROWS:-500000}" \
  -logistic-rows "${BENCH_LOGISTIC_ROWS:-200000}" \
  -forest-rows "${BENCH_FOREST_ROWS:-100000}"
