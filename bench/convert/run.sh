#!/bin/sh
# Converts the whole corpus in both directions with conflux-convert (release build) and with
# the converters people use today (markdownify, md2conf), in the same run on the same files,
# then prints speed ratios and a fidelity table.
#
# Usage: bench/convert/run.sh [CORPUS_DIR] [ROUNDS]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${1:-"$ROOT/../shared/corpus/storage"}
ROUNDS=${2:-20}
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target-bench"}
VENV="$TARGET/bench-venv"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

[ -d "$CORPUS" ] || { echo "corpus not found at $CORPUS" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet markdownify markdown-to-confluence
fi
"$VENV/bin/python" "$ROOT/bench/convert/others.py" "$CORPUS" "$OUT" "$ROUNDS"
cd "$ROOT"
CARGO_TARGET_DIR="$TARGET" cargo run --quiet --release -p conflux-convert --example bench -- "$CORPUS" "$OUT" "$ROUNDS"
# Whole processes: `conflux convert` (release build, CONFLUX_BIN to use another) against the
# Python tools run the same way. WHOLE=0 skips it (the first release build of the binary takes
# minutes); WHOLE_ROUNDS runs of each command, alternating (default 3).
if [ "${WHOLE:-1}" != 0 ]; then
    BIN=${CONFLUX_BIN:-"$TARGET/release/conflux"}
    [ -n "${CONFLUX_BIN:-}" ] || CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p conflux
    echo
    echo "## Whole processes (read, convert, write; median CPU time of ${WHOLE_ROUNDS:-3} alternating runs)"
    echo
    "$VENV/bin/python" "$ROOT/bench/convert/whole.py" "$BIN" "$CORPUS" "$OUT/whole" "${WHOLE_ROUNDS:-3}"
fi
echo
"$VENV/bin/pip" list 2>/dev/null | grep -E '^(markdownify|markdown-to-confluence) ' | sed 's/^/versions: /'
