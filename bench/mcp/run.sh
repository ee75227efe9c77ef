#!/bin/sh
# The MCP server benchmark in one command: builds `conflux` and the bench (release), then
# measures in one run against one simulator: cold start to the first tools/list answer, RSS
# after start, and p50/p95 of pages.getBody and search.cql through the server (stdio) against
# the same calls made directly with conflux-client; mcp-atlassian 0.23.1 (when `.ci/run` has
# installed it) started the same way; and per tool, the server's answer against the official
# Python MCP SDK's output-schema validation of the result (system `python3` with `mcp`).
#
# Usage: bench/mcp/run.sh [STARTS] [CALLS] [PEER_STARTS]
#        (defaults: 20 cold starts, 500 calls per series, 5 starts of mcp-atlassian)
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STARTS=${1:-20}
CALLS=${2:-500}
PEER_STARTS=${3:-5}
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target-bench"}
cd "$ROOT"
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p conflux
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release --manifest-path bench/mcp/Cargo.toml
exec "$TARGET/release/conflux-mcp-bench" "$TARGET/release/conflux" "$STARTS" "$CALLS" "$PEER_STARTS"
