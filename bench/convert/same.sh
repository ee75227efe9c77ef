#!/bin/sh
# Checks that this build converts every document exactly as another build did: runs the
# `dump` example over the corpus, the test fixtures and the fuzz seeds (each also cut short
# and with some `<`, `>` and `"` removed), and compares the results byte for byte.
#
# Usage: bench/convert/same.sh save DIR     (writes this build's results to DIR)
#        bench/convert/same.sh check DIR    (compares this build's results with DIR)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${CORPUS:-"$ROOT/../shared/corpus/storage"}
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target-bench"}
mode=$1
dir=$2
cd "$ROOT"
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p conflux-convert --example dump
out=$dir
[ "$mode" = check ] && out=$(mktemp -d)
"$TARGET/release/examples/dump" "$out" "$CORPUS" crates/convert/tests/fixtures \
    fuzz/seeds/storage_parser fuzz/seeds/markdown_parser
if [ "$mode" = check ]; then
    diff -r -q "$dir" "$out" && echo "same: $(ls "$out" | wc -l) results identical"
    rm -rf "$out"
fi
