#!/bin/sh
# How much of the rate-limit budget an export uses: exports the demo site's ENG space (157
# nodes, about 530 requests) from a simulator that allows LIMIT requests per WINDOW seconds
# per credential, and prints one JSON line: requests served and refused (429), seconds, and
# the budget share (served / (LIMIT x the windows the run held, ceil(seconds / WINDOW))). No
# page may fail.
#
# Usage: bench/sync/run.sh [LIMIT] [WINDOW] [CONCURRENCY]   (defaults: 60 2 16)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
LIMIT=${1:-60} WINDOW=${2:-2} CONCURRENCY=${3:-16} \
  cargo test --quiet --release -p conflux-sync --test it rate_limit::budget_share -- --ignored --nocapture \
  | grep '^{'
