//! Conflux MCP server.
