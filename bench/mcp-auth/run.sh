#!/bin/sh
# The cost of authentication per /mcp call in one command: builds the bench (release) and
# measures, in one run against one simulator, the same tool calls over streamable HTTP to
# servers built in process with conflux_web: open (the --demo configuration, the baseline)
# against a bearer access key verified on SQLite and Postgres, cache warm and off, stateless
# and in a 2025-06-18 session; interleaved, p50/p95 and ratios to the baseline, and the store's
# statements per call.
#
# Usage: bench/mcp-auth/run.sh [CALLS]     (default: 500 timed calls of each tool per variant)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CALLS=${1:-500}
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target-bench"}
cd "$ROOT"
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release --manifest-path bench/mcp-auth/Cargo.toml
exec "$TARGET/release/conflux-auth-bench" "$CALLS"
