#!/usr/bin/env python3
"""Writes crates/cli/startup-order.txt, the functions `conflux serve` runs from spawn to its
`tools/list` answer, which the link of the release binary places side by side (crates/cli/build.rs;
docs/mcp.md, "Start and footprint").

Builds the release binary as shipped (`cargo build --release -p conflux`, CARGO_TARGET_DIR
honoured) with a link map, runs `conflux serve` under valgrind's callgrind against `conflux sim`
until `initialize` and `tools/list` are answered, and names the functions whose code ran, from the
map. The names are the symbols of that exact build: the profile (strip, opt-level, LTO), the
features and the compiler version all go into their hashes, so it is the shipped build that must
be measured. Then rebuild: `cargo build --release -p conflux`.

With --check, writes nothing: says how many of the listed names the build still has, and fails
when fewer than 90% (time to write the list again).

Usage: bench/mcp/startup-order.py [--check] [--keep DIR]   (valgrind; a release build's time)"""
import bisect, glob, hashlib, json, os, re, subprocess, sys, tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.path.abspath(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"))
OUT = os.path.join(ROOT, "crates", "cli", "startup-order.txt")
work = sys.argv[sys.argv.index("--keep") + 1] if "--keep" in sys.argv else tempfile.mkdtemp()
os.makedirs(work, exist_ok=True)
link_map = os.path.join(TARGET, "conflux-startup.map")

# 1. The shipped build, with a link map (only the link of the binary changes).
subprocess.run(["cargo", "build", "--release", "-p", "conflux"], cwd=ROOT, check=True,
               env=dict(os.environ, CARGO_TARGET_DIR=TARGET, CONFLUX_LINK_MAP=link_map))
binary = os.path.join(TARGET, "release", "conflux")

# 2. The functions' sections in .text (address, end, symbol), from the map: "VMA LMA Size Align"
#    then, indented by 0, 8 or 16, an output section, an input section (`file:(.text.SYMBOL)`, one
#    per function) or a symbol it defines.
sections = []  # (start, end, symbol)
out_sec = None
line_re = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(.*)$")
for line in open(link_map, encoding="utf-8", errors="replace"):
    m = line_re.match(line.rstrip("\n"))
    if not m:
        continue
    vma, size, indent, text = int(m[1], 16), int(m[2], 16), len(m[3]), m[4]
    if indent == 0:
        out_sec = text
    elif out_sec == ".text" and indent == 8 and size:
        sec = re.search(r":\((\.text\.[^)]+)\)$", text)
        if sec:
            name = re.sub(r"^\.text\.((unlikely|hot|startup|exit|split)\.)?", "", sec[1])
            sections.append((vma, vma + size, name))
sections.sort()
starts = [s[0] for s in sections]

if "--check" in sys.argv:
    built = {s[2] for s in sections}
    listed = [l.strip() for l in open(OUT) if l.strip() and not l.startswith("#")]
    have = sum(n in built for n in listed)
    print(f"{OUT}: {have} of {len(listed)} names in this build")
    sys.exit(0 if have >= 0.9 * len(listed) else 1)

# 3. The instructions run from spawn to the `tools/list` answer (callgrind, dumped right then).
sim = subprocess.Popen([binary, "sim"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
info = json.loads(sim.stdout.readline())
env = {"PATH": os.environ.get("PATH", ""), "CONFLUENCE_URL": info["site_url"],
       "CONFLUENCE_USERNAME": info["classic_token"]["email"], "CONFLUENCE_API_TOKEN": info["classic_token"]["token"],
       "CONFLUX_GATEWAY_URL": info["gateway_url"], "CONFLUX_IDENTITY_URL": info["identity_url"]}
prefix = os.path.join(work, "callgrind.out")
p = subprocess.Popen(["valgrind", "--tool=callgrind", "--dump-instr=yes", "--compress-strings=no",
                      "--compress-pos=no", f"--callgrind-out-file={prefix}.%p", binary, "serve"],
                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
def send(o): p.stdin.write(json.dumps(o) + "\n"); p.stdin.flush()
send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "startup-order", "version": "0"}}})
json.loads(p.stdout.readline())
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
assert json.loads(p.stdout.readline())["result"]["tools"]
subprocess.run(["callgrind_control", "--dump=tools/list answered", str(p.pid)], check=True, stdout=subprocess.DEVNULL)
p.stdin.close(); p.wait(timeout=120); sim.terminate()
dump = f"{prefix}.{p.pid}.1"

# 4. The binary's instruction addresses (callgrind gives them as the file's virtual addresses) ->
#    the functions they are in.
names, outside = set(), 0
obj = ""
for line in open(dump):
    if line.startswith("ob="):
        obj = line[3:].strip()
    elif line.startswith("0x") and obj == binary:
        a = int(line.split()[0], 16)
        i = bisect.bisect_right(starts, a) - 1
        if i < 0 or not sections[i][0] <= a < sections[i][1]:
            outside += 1
        else:
            names.add(sections[i][2])

if not names:
    sys.exit(f"no instruction of {binary} found in {dump}: nothing written")
rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True).stdout.strip()

def manifests_digest():
    """What renames the symbols: the dependency graph and the manifests (versions, features,
    profiles). `manifests_digest` in crates/cli/tests/cli.rs computes the same."""
    h = hashlib.sha256()
    paths = ["Cargo.lock", "Cargo.toml"] + sorted(
        os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "crates", "*", "Cargo.toml")))
    for rel in paths:
        h.update(rel.encode() + b"\0" + open(os.path.join(ROOT, rel), "rb").read() + b"\0")
    return h.hexdigest()

with open(OUT, "w") as f:
    f.write("# The functions `conflux serve` runs from spawn to its tools/list answer, placed side by side by\n"
            "# the link of the release binary (crates/cli/build.rs); names a build does not have are skipped.\n"
            f"# Written by bench/mcp/startup-order.py from `cargo build --release -p conflux`, {rustc}.\n"
            f"# manifests {manifests_digest()}\n")
    for n in sorted(names):
        f.write(n + "\n")
print(f"{OUT}: {len(names)} functions ({outside} instructions run outside them: start files, PLT)")
