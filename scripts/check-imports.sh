#!/usr/bin/env bash
# Enforces DESIGN.md §3: imports go one way.
#   proto, artifacts          import nothing of ours (artifacts' subpackages: only artifacts)
#   worker                    never imports coordinator or recipes
#   coordinator               never imports worker or recipes/steps
#   recipes/...               never import coordinator, worker (except recipes/steps) or cmd
set -euo pipefail
mod=$(go list -m)
fail=0
deps() { go list -deps "$1" | grep "^$mod/" | grep -v "^$1\$" || true; }
forbid() { # package, pattern, why
  local bad
  bad=$(deps "$mod/$1" | grep -E "$2" || true)
  if [ -n "$bad" ]; then echo "import rule: $1 must not import $(echo $bad | tr '\n' ' ') ($3)"; fail=1; fi
}
forbid proto "." "proto is the bottom package"
forbid artifacts "." "artifacts imports nothing of ours"
for p in local s3 registry; do forbid "artifacts/$p" "^$mod/(proto|recipes|worker|coordinator|cmd)" "backends import only artifacts"; done
forbid worker "^$mod/(coordinator|recipes|cmd)" "the worker is a generic job runner"
forbid coordinator "^$mod/(worker|recipes/steps|cmd)" "the coordinator plans; step code runs in workers"
for p in recipes recipes/frame recipes/expr recipes/ml recipes/cards; do
  forbid "$p" "^$mod/(coordinator|worker|cmd|recipes/steps)" "recipes code below steps knows nothing of the runtime"
done
exit $fail
