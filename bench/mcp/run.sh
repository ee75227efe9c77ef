#!/bin/sh
# The MCP server benchmark in one command: builds `conflux` and the bench (release), then
# measures in one run against one simulator: cold start to the first tools/list answer, RSS
# after start, and p50/p95 of pages.getBody and search.cql through the server (stdio) against
# the same calls made directly with conflux-client.
#
# Usage: bench/mcp/run.sh [STARTS] [CALLS]     (defaults: 20 cold starts, 500 calls per series)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STARTS=${1:-20}
CALLS=${2:-500}
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target-bench"}
cd "$ROOT"
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p conflux
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release --manifest-path bench/mcp/Cargo.toml
exec "$TARGET/release/conflux-mcp-bench" "$TARGET/release/conflux" "$STARTS" "$CALLS"
