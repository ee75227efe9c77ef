#!/usr/bin/env python3
"""Conflux's MCP server driven by the official Python MCP SDK (`mcp` from PyPI).

Usage: peer.py CONFLUX_BINARY [stdio|http|all]

Starts `conflux --demo serve` (stdio, and streamable HTTP on 127.0.0.1:0) and, through the
SDK's own client session: lists the tools and checks their shape, calls read actions of every
tool (each transport's server started with another --output-format), makes a page and reads it back, checks a refused argument, and
(over stdio) read-only mode. Every successful result's structuredContent is validated against
the tool's outputSchema with jsonschema. Prints one line per transport, `PASS <transport>: N
checks`, and exits non-zero on the first failure. Works with mcp 1.9+ and 2.x.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import anyio
import jsonschema
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

try:  # mcp >= 1.2x / 2.x
    from mcp.client.streamable_http import streamable_http_client as http_client
except ImportError:  # older 1.x
    from mcp.client.streamable_http import streamablehttp_client as http_client

TOOLS = ["pages", "spaces", "search", "content", "comments", "labels", "attachments", "versions"]
TIMEOUT = 120


class Failure(Exception):
    pass


def check(cond: bool, what: str) -> None:
    if not cond:
        raise Failure(what)


def wire(model) -> dict:
    """The result as it travels on the wire (camelCase keys), whatever the SDK's field names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def texts(result: dict) -> list[str]:
    return [c["text"] for c in result.get("content", []) if c.get("type") == "text"]


class Peer:
    def __init__(self, session: ClientSession, transport: str, fmt: str) -> None:
        self.session = session
        self.transport = transport
        # The server's --output-format: the text it puts beside structuredContent.
        self.fmt = fmt
        self.tools: dict[str, dict] = {}
        self.checks = 0

    def ok(self, cond: bool, what: str) -> None:
        check(cond, f"[{self.transport}] {what}")
        self.checks += 1

    async def list_tools(self) -> dict[str, dict]:
        tools, cursor = [], None
        while True:
            if cursor is None:
                r = wire(await self.session.list_tools())
            else:  # not expected: the server answers in one page
                r = wire(await self.session.list_tools(cursor))  # type: ignore[arg-type]
            tools += r["tools"]
            cursor = r.get("nextCursor")
            if not cursor:
                break
        self.tools = {t["name"]: t for t in tools}
        return self.tools

    async def raw(self, tool: str, args: dict) -> dict:
        return wire(await self.session.call_tool(tool, args))

    async def call(self, tool: str, args: dict) -> dict:
        """A call that must succeed: structuredContent validated, text shaped by the server's
        output format."""
        fmt = self.fmt
        r = await self.raw(tool, args)
        what = f"{tool} {json.dumps(args)}"
        self.ok(not r.get("isError"), f"{what} failed: {texts(r)}")
        s = r.get("structuredContent")
        self.ok(isinstance(s, dict), f"{what}: no structuredContent")
        schema = self.tools[tool]["outputSchema"]
        try:
            jsonschema.validate(s, schema, cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as e:
            raise Failure(f"[{self.transport}] {what}: structuredContent breaks outputSchema: {e.message}")
        self.checks += 1
        self.ok(s.get("action") == args["action"], f"{what}: action {s.get('action')!r} echoed")
        t = texts(r)
        parsed = []
        for x in t:
            with contextlib.suppress(ValueError):
                parsed.append(json.loads(x))
        if fmt == "verbose":
            self.ok(len(t) == 1 and t[0].strip(), f"{what}: one non-empty text block, got {t}")
            self.ok(not parsed, f"{what}: verbose text must not be JSON: {t[0][:200]}")
        elif fmt == "structured":
            self.ok(len(t) == 1, f"{what}: one text block, got {len(t)}")
            self.ok(parsed == [s], f"{what}: structured text is not the structuredContent")
        else:
            self.ok(len(t) == 2, f"{what}: two text blocks, got {len(t)}")
            self.ok(parsed == [s], f"{what}: both = readable text + the JSON")
            self.ok(t[0].strip() and t[0] != t[1], f"{what}: first block is readable text")
        return s

    async def refused(self, tool: str, args: dict, *needles: str) -> str:
        r = await self.raw(tool, args)
        self.ok(r.get("isError") is True, f"{tool} {args}: expected a tool error, got {r}")
        text = "\n".join(texts(r))
        for n in needles:
            self.ok(n in text, f"{tool} {args}: error must name {n!r}: {text}")
        return text


def check_tools_shape(p: Peer, tools: dict[str, dict], read_only: bool) -> None:
    for name in TOOLS:
        p.ok(name in tools, f"tool {name} listed (got {sorted(tools)})")
    for name, t in tools.items():
        i, o = t["inputSchema"], t.get("outputSchema")
        p.ok(i.get("type") == "object", f"{name}: input schema is an object")
        p.ok("$ref" not in json.dumps(i) and "oneOf" not in i, f"{name}: flat input schema")
        action = i["properties"]["action"]
        p.ok(action.get("type") == "string" and action.get("enum"), f"{name}: action is an inline enum")
        p.ok("action" in i.get("required", []), f"{name}: action required")
        p.ok("outputFormat" not in i["properties"], f"{name}: the output format is the server's setting")
        p.ok(isinstance(o, dict) and o.get("type") == "object", f"{name}: outputSchema object")
        jsonschema.Draft202012Validator.check_schema(o)
        jsonschema.Draft202012Validator.check_schema(i)
        ann = t.get("annotations", {})
        # Hints are spelled out only where they differ from the defaults (readOnlyHint false,
        # destructiveHint true): a tool that only reads says so, one whose writes only add says
        # destructiveHint false.
        p.ok(ann.get("readOnlyHint") in (None, True), f"{name}: readOnlyHint only when true")
        p.ok(ann.get("destructiveHint") in (None, False), f"{name}: destructiveHint only when false")
        if ann.get("readOnlyHint") is True:
            p.ok("destructiveHint" not in ann, f"{name}: no destructiveHint on a read-only tool")
        if read_only:
            p.ok(ann["readOnlyHint"] is True, f"{name}: readOnlyHint in read-only mode")
    writes = {"create", "update", "updateSection", "replace", "delete"}
    page_actions = set(tools["pages"]["inputSchema"]["properties"]["action"]["enum"])
    if read_only:
        p.ok(not (page_actions & writes), f"read-only: no write action listed, got {page_actions}")
    else:
        p.ok(writes <= page_actions, f"pages lists its writes, got {page_actions}")


async def exercise(p: Peer, writes: bool) -> None:
    tools = await p.list_tools()
    check_tools_shape(p, tools, read_only=not writes)

    # The server's output format on lists and single objects.
    spaces = await p.call("spaces", {"action": "list", "limit": 5})
    p.ok(spaces["items"], "the demo site has spaces")
    for item in spaces["items"]:
        p.ok("id" in item and ("key" in item or "name" in item), f"space item shape {item}")
    space = spaces["items"][0]
    got = await p.call("spaces", {"action": "get", "key": space["key"]})
    p.ok(str(got["space"]["id"]) == str(space["id"]), "spaces.get by key finds the listed space")

    pages = await p.call("pages", {"action": "list", "spaceId": str(space["id"]), "limit": 10})
    p.ok(pages["items"], f"space {space['key']} has pages")
    for item in pages["items"]:
        p.ok("id" in item and "title" in item, f"page item shape {item}")
    page = pages["items"][0]
    pid = str(page["id"])
    meta = await p.call("pages", {"action": "get", "id": pid})
    p.ok(str(meta["page"]["id"]) == pid, "pages.get returns the page asked for")
    for body_format in ["markdown", "storage", "atlas_doc_format", "view"]:
        b = await p.call("pages", {"action": "getBody", "id": pid, "bodyFormat": body_format})
        p.ok(isinstance(b.get("body"), (str, dict)), f"getBody {body_format} has a body")
    await p.call("pages", {"action": "outline", "id": pid})

    found = await p.call("search", {"action": "cql", "cql": f'space = "{space["key"]}" AND type = page', "limit": 5})
    p.ok(found["items"], "CQL finds the space's pages")

    await p.call("content", {"action": "children", "id": pid})
    await p.call("content", {"action": "tree", "spaceKey": space["key"], "depth": 2})
    await p.call("comments", {"action": "getFooter", "id": pid})
    await p.call("labels", {"action": "getForPage", "id": pid})
    await p.call("attachments", {"action": "listForPage", "id": pid})
    history = await p.call("versions", {"action": "listForPage", "id": pid})
    p.ok(history["items"], "a page has at least one version")

    # Refused before any request, naming the parameter and the allowed values.
    await p.refused("pages", {"action": "nope"}, "action", "getBody")
    await p.refused("pages", {"action": "getBody", "id": pid, "bodyFormat": "pdf"}, "bodyFormat", "markdown")
    await p.refused("pages", {"action": "get"}, "`id`")

    title = f"Python peer {p.transport} {uuid.uuid4().hex[:8]}"
    if writes:
        made = await p.call("pages", {
            "action": "create", "spaceId": str(space["id"]), "title": title,
            "body": "# Hello\n\nWritten by the **Python** MCP SDK.",
        })
        new_id = str(made["page"]["id"])
        back = await p.call("pages", {"action": "getBody", "id": new_id})
        p.ok("Written by the" in json.dumps(back["body"]), f"the new page reads back: {back}")
        await p.call("labels", {"action": "addToPage", "id": new_id, "labels": ["python-peer"]})
        labels = await p.call("labels", {"action": "getForPage", "id": new_id})
        p.ok(any(i.get("name") == "python-peer" or i.get("title") == "python-peer" for i in labels["items"]),
             f"label added: {labels}")
        await p.call("pages", {"action": "delete", "id": new_id})
        await p.refused("pages", {"action": "get", "id": new_id}, "not_found")
    else:
        await p.refused("pages", {"action": "create", "spaceId": str(space["id"]), "title": title,
                                  "body": "x"}, "read-only")


async def run_session(read, write, transport: str, writes: bool, fmt: str) -> int:
    async with ClientSession(read, write) as session:
        init = wire(await session.initialize())
        check(init["serverInfo"]["name"] == "conflux", f"[{transport}] server name: {init['serverInfo']}")
        check("tools" in init["capabilities"], f"[{transport}] tools capability")
        p = Peer(session, transport, fmt)
        await exercise(p, writes)
        return p.checks


async def over_stdio(binary: str, extra: list[str], label: str, writes: bool, fmt: str) -> None:
    params = StdioServerParameters(command=binary, args=["--demo", "serve", *extra],
                                   env={"CONFLUX_LOG": "info", "CONFLUX_OUTPUT_FORMAT": fmt})
    with tempfile.TemporaryFile("w+") as errlog:
        with anyio.fail_after(TIMEOUT):
            async with stdio_client(params, errlog=errlog) as (read, write):
                n = await run_session(read, write, label, writes, fmt)
        errlog.seek(0)
        log = errlog.read()
    check("MCP server starting" in log, f"[{label}] logs reach stderr: {log[:500]!r}")
    print(f"PASS {label}: {n + 1} checks", flush=True)


@contextlib.contextmanager
def http_server(binary: str):
    """`conflux --demo serve --http 127.0.0.1:0`; yields the endpoint URL it reports on stderr."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [binary, "--demo", "serve", "--http", "127.0.0.1:0",
             "--database-url", os.path.join(tmp, "conflux.db"), "--allow-all-agents",
             "--output-format", "both"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        lines: list[str] = []
        found = threading.Event()
        url: list[str] = []

        def pump() -> None:
            assert proc.stderr
            # The pipe closes under the loop when the server is stopped; that ends it.
            with contextlib.suppress(ValueError):
                for line in proc.stderr:
                    lines.append(line)
                    m = re.search(r"(http://\S+/mcp)\b", line)
                    if m and not url:
                        url.append(m.group(1))
                        found.set()
            found.set()

        threading.Thread(target=pump, daemon=True).start()
        try:
            found.wait(60)
            check(bool(url), f"[http] no endpoint on stderr: {''.join(lines)[-2000:]}")
            yield url[0]
        finally:
            proc.terminate()
            try:
                out, _ = proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            check(not (out or "").strip(), f"[http] nothing on stdout: {out[:500]!r}")


async def over_http(binary: str) -> None:
    with http_server(binary) as url:
        with anyio.fail_after(TIMEOUT):
            async with http_client(url) as streams:
                n = await run_session(streams[0], streams[1], "http", writes=True, fmt="both")
    print(f"PASS http: {n} checks", flush=True)


async def main(binary: str, which: str) -> None:
    if which in ("stdio", "all"):
        await over_stdio(binary, [], "stdio", writes=True, fmt="verbose")
        await over_stdio(binary, ["--read-only"], "stdio-read-only", writes=False, fmt="structured")
    if which in ("http", "all"):
        await over_http(binary)


def first_failure(e: BaseException) -> Failure | None:
    if isinstance(e, Failure):
        return e
    for inner in getattr(e, "exceptions", ()):
        found = first_failure(inner)
        if found is not None:
            return found
    return None


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    start = time.monotonic()
    try:
        anyio.run(main, sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "all")
    except BaseException as e:  # task groups wrap the failure in exception groups
        failure = first_failure(e)
        if failure is None:
            raise
        print(f"FAIL {failure}", flush=True)
        sys.exit(1)
    print(f"done in {time.monotonic() - start:.1f}s", flush=True)
