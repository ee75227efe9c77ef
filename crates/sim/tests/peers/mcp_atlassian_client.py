"""Drives mcp-atlassian (a third-party MCP server for Confluence) over stdio with the MCP
Python SDK 1.x, for crates/sim/tests/mcp_atlassian.rs.

Usage: python mcp_atlassian_client.py PLAN.json

PLAN.json: {"command": [argv of the server], "cwd": dir, "calls": [{"tool", "arguments",
"needles": [str]}]}. The server inherits this process's environment (its URL and credentials
come from there, never from argv).

Prints one JSON line {"tools": [names]} (the server's tools/list), then one line per call, in
order: {"tool", "isError", "success" (the top-level "success" field of the result's first
part, when that is a JSON object that has one, else null), "found": [bool per needle], "chars", "excerpt"}; a call
that raises in the client prints {"tool", "isError": true, "exception"}. EXCERPT in the
environment sets the excerpt's length (300 characters).
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

EXCERPT = int(os.environ.get("EXCERPT", "300"))


def texts_of(result):
    parts = []
    for c in result.content:
        t = getattr(c, "text", None)
        if t is not None:
            parts.append(t)
        else:
            parts.append(json.dumps(c.model_dump(mode="json"), sort_keys=True))
    return parts


def reported_success(text):
    try:
        v = json.loads(text)
    except ValueError:
        return None
    if isinstance(v, dict) and isinstance(v.get("success"), bool):
        return v["success"]
    return None


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


async def main(plan_path):
    with open(plan_path, encoding="utf-8") as f:
        plan = json.load(f)
    params = StdioServerParameters(
        command=plan["command"][0],
        args=plan["command"][1:],
        env=dict(os.environ),
        cwd=plan.get("cwd"),
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            emit({"tools": sorted(t.name for t in tools.tools)})
            for call in plan["calls"]:
                tool = call["tool"]
                try:
                    result = await session.call_tool(tool, call.get("arguments", {}))
                except Exception as e:  # reported, the run goes on
                    emit({"tool": tool, "isError": True, "exception": repr(e)[:EXCERPT]})
                    continue
                parts = texts_of(result)
                text = "\n".join(parts)
                emit(
                    {
                        "tool": tool,
                        "isError": bool(result.isError),
                        "success": reported_success(parts[0]) if parts else None,
                        "found": [n in text for n in call.get("needles", [])],
                        "chars": len(text),
                        "excerpt": text[:EXCERPT],
                    }
                )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
