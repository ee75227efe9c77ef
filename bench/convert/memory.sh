#!/bin/sh
# Time and peak memory of `conflux convert` (release build) on large documents: the storage
# corpus concatenated to about 1, 10 and 50 MB, converted to Markdown, and that Markdown
# converted back to storage. Prints a Markdown table with the peak resident set size (GNU
# time's "Maximum resident set size") as a multiple of the input size.
#
# Usage: bench/convert/memory.sh [CORPUS_DIR [SIZE_MB...]]     (sizes default to 1 10 50)
# CONFLUX_BIN=path measures that binary instead of building one (to compare two builds).
# Needs GNU time at /usr/bin/time (Debian package `time`).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${1:-"$ROOT/../shared/corpus/storage"}
[ $# -gt 0 ] && shift
SIZES=${*:-"1 10 50"}
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target"}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

[ -d "$CORPUS" ] || { echo "corpus not found at $CORPUS" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "GNU time is needed at /usr/bin/time (apt-get install time)" >&2; exit 1; }
cd "$ROOT"
if [ -z "${CONFLUX_BIN:-}" ]; then
    CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p conflux
fi
BIN=${CONFLUX_BIN:-"$TARGET/release/conflux"}

# One copy of every storage document of the corpus, repeated until the file reaches the size.
cat "$CORPUS"/*.xml "$CORPUS"/*.html > "$OUT/unit"
grow() {
    : > "$2"
    while [ "$(wc -c < "$2")" -lt $(($1 * 1000000)) ]; do
        cat "$OUT/unit" >> "$2"
    done
}

# Runs `conflux convert --from $1 --to $2 $3` into $4; prints bytes, seconds, MB/s, peak, ratio.
measure() {
    /usr/bin/time -f "%M %e" -o "$OUT/time" "$BIN" convert --from "$1" --to "$2" "$3" \
        > "$4" 2> /dev/null
    bytes=$(wc -c < "$3")
    read -r peak_kb secs < "$OUT/time"
    awk -v b="$bytes" -v s="$secs" -v k="$peak_kb" 'BEGIN {
        mb = b / 1e6; peak = k * 1024 / 1e6;
        printf "%.1f MB | %.2f s | %.1f MB/s | %.0f MB | %.2f×", mb, s, (s > 0 ? mb / s : 0), peak, peak / mb
    }'
}

: > "$OUT/empty"
/usr/bin/time -f "%M" -o "$OUT/time" "$BIN" convert --from storage --to markdown "$OUT/empty" > /dev/null
idle=$(awk '{ printf "%.0f", $1 * 1024 / 1e6 }' "$OUT/time")

echo "## \`conflux convert\` on large inputs (release build, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "The process alone (an empty input) peaks at $idle MB; small inputs are dominated by it."
echo
echo "| input | direction | input size | time | speed | peak RSS | peak RSS / input |"
echo "|---|---|---:|---:|---:|---:|---:|"
for mb in $SIZES; do
    grow "$mb" "$OUT/in.xml"
    echo "| corpus × $mb MB | storage → Markdown | $(measure storage markdown "$OUT/in.xml" "$OUT/out.md") |"
    echo "| its Markdown | Markdown → storage | $(measure markdown storage "$OUT/out.md" "$OUT/back.xml") |"
done
