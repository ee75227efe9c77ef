#!/usr/bin/env python3
"""RSS after start of `conflux serve` (stdio) against `conflux sim`, measured as bench/mcp does:
spawn, `initialize` and `tools/list` answered, then VmRSS. Usage: rss.py BINARY [N] [--demo] [--smaps]"""
import re, json, subprocess, sys, statistics
binary = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
demo = "--demo" in sys.argv
sim = subprocess.Popen([binary, "sim"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
info = json.loads(sim.stdout.readline())
def start():
    if demo:
        args, env = [binary, "--demo", "serve"], {}
    else:
        args = [binary, "serve"]
        env = {"CONFLUENCE_URL": info["site_url"], "CONFLUENCE_USERNAME": info["classic_token"]["email"],
               "CONFLUENCE_API_TOKEN": info["classic_token"]["token"], "CONFLUX_GATEWAY_URL": info["gateway_url"],
               "CONFLUX_IDENTITY_URL": info["identity_url"]}
    p = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    def send(o): p.stdin.write(json.dumps(o) + "\n"); p.stdin.flush()
    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "rss", "version": "0"}}})
    json.loads(p.stdout.readline())
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
    r = json.loads(p.stdout.readline())
    assert r["result"]["tools"], r
    kb = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmRSS:"))
    if "--smaps" in sys.argv:
        cur=None; agg={}
        for l in open(f"/proc/{p.pid}/smaps"):
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", l):
                f=l.split(); cur=(f[5] if len(f)>5 else "[anon]")+" "+f[1]
            elif l.startswith("Rss:"):
                agg[cur]=agg.get(cur,0)+int(l.split()[1])
        for k,v in sorted(agg.items(), key=lambda x:-x[1])[:14]: print(f"{v:8d} kB {k}")
    p.stdin.close(); p.wait(timeout=10)
    return kb
vals = [start() for _ in range(n)]
sim.terminate()
print(f"{binary}: RSS after start, median of {n}: {statistics.median(vals)/1024:.2f} MiB (min {min(vals)/1024:.2f}, max {max(vals)/1024:.2f})")
