#!/bin/sh
# The MCP load test in one command: builds `conflux` and the bench (release), starts
# `conflux sim` and `conflux serve --http` (apiToken mode, an agent key made on /admin) as
# separate processes, and runs N concurrent MCP clients over streamable HTTP for each N given
# (default 50 100 200): throughput, p50/p99 latency, errors, the server's RSS and open files
# before, at peak and after; then the RSS of idle sessions that are never closed.
#
# Usage: bench/mcp/load.sh [--calls N] [--idle K] [--protocol 2025-11-25|2026-07-28]
#                         [--session-idle S] [--evict ROUNDS] [CLIENTS...]
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-"$ROOT/target-bench"}
cd "$ROOT"
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release -p conflux
CARGO_TARGET_DIR="$TARGET" cargo build --quiet --release --manifest-path bench/mcp/Cargo.toml --bin conflux-mcp-load
exec "$TARGET/release/conflux-mcp-load" "$TARGET/release/conflux" "$@"
