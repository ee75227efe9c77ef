"""The official Python MCP SDK's per-result output-schema validation, timed per tool.

Reads one JSON object on stdin: {"command", "args", "env", "n", "calls": [{"tool", "arguments"}]}.
Connects to the server with the SDK's stdio client, lists the tools (which caches their output
schemas), makes each call once with `ClientSession.call_tool` (which validates the result and
compiles the tool's validator, as a client does on its first call), then times the SDK's own
`ClientSession.validate_tool_result` on that result `n` times: the step `call_tool` runs after
every answer. Writes one JSON object on stdout: per tool, the validation times in nanoseconds
(or the error), and the size of the result's structuredContent.
"""

import asyncio
import json
import os
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main() -> None:
    spec = json.load(sys.stdin)
    server = StdioServerParameters(command=spec["command"], args=spec["args"], env=spec["env"])
    n = int(spec["n"])
    out = {"sdk": _version(), "tools": {}}
    with open(os.devnull, "w") as devnull:
        async with stdio_client(server, errlog=devnull) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await session.list_tools()
                for call in spec["calls"]:
                    name = call["tool"]
                    try:
                        result = await session.call_tool(name, call["arguments"])
                    except Exception as e:  # the SDK's validation refused the result
                        out["tools"][name] = {"error": str(e)}
                        continue
                    if result.is_error:
                        out["tools"][name] = {"error": json.dumps(result.model_dump(mode="json"))[:500]}
                        continue
                    times = []
                    for _ in range(n):
                        t = time.perf_counter_ns()
                        await session.validate_tool_result(name, result)
                        times.append(time.perf_counter_ns() - t)
                    size = len(json.dumps(result.structured_content, separators=(",", ":")))
                    out["tools"][name] = {"ns": times, "structured_bytes": size}
    json.dump(out, sys.stdout)


def _version() -> str:
    from importlib.metadata import version

    return version("mcp")


asyncio.run(main())
