"""Whole-process timing: `conflux convert` against markdownify and md2conf (each run as its own
process through one.py), on the corpus concatenated to single large documents. Each process
reads the file, converts and writes the result; the interpreter's start counts against the
Python tools and the binary's start against conflux. The commands alternate, ROUNDS runs each,
and the median CPU time (user + system, from wait4) of each is compared.

Usage: whole.py CONFLUX_BIN CORPUS_DIR OUT_DIR [ROUNDS]   (with the venv run.sh makes)
Environment: LARGE_MB (default "1 10"), MD2CONF_MAX_MB (default 1), as in others.py.
"""

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from others import LARGE_MB, MD2CONF_MAX_MB, md2conf_storage, read

HERE = Path(__file__).resolve().parent


def cpu_seconds(cmd: list[str], out: Path) -> float:
    with open(out, "wb") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed: {status}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    conflux, corpus, out_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    out_dir.mkdir(parents=True, exist_ok=True)
    storage_files = sorted(p for p in corpus.iterdir() if p.suffix in (".xml", ".html"))
    md_files = sorted(p for p in corpus.iterdir() if p.suffix == ".md")
    work = Path(tempfile.mkdtemp(prefix="md2conf-"))

    def accepted(p: Path) -> bool:
        try:
            md2conf_storage(read(p), work)
            return True
        except Exception:
            return False

    md_accepted = [p for p in md_files if accepted(p)]
    py = sys.executable
    one = str(HERE / "one.py")
    print("| document | direction | conflux convert | other | ratio |")
    print("|---|---|---:|---:|---:|")
    for mb in LARGE_MB:
        for ext, files, tool, flags in (
            ("xml", storage_files, "markdownify", ["--from", "storage", "--to", "markdown"]),
            ("md", md_accepted, "md2conf", ["--from", "markdown", "--to", "storage"]),
        ):
            if ext == "md" and mb > MD2CONF_MAX_MB:
                continue
            unit = "".join(read(p) for p in files)
            text = unit * max(1, -(-mb * 1_000_000 // len(unit.encode())))
            path = out_dir / f"whole-{mb}.{ext}"
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            ours, theirs = [], []
            for _ in range(rounds):
                ours.append(cpu_seconds([conflux, "convert", *flags, str(path)], out_dir / "ours.out"))
                theirs.append(cpu_seconds([py, one, tool, str(path), str(out_dir / "theirs.out")], out_dir / "theirs.log"))
            a, b = statistics.median(ours), statistics.median(theirs)
            size = len(text.encode()) / 1e6
            direction = "storage → Markdown" if ext == "xml" else "Markdown → storage"
            print(
                f"| {size:.1f} MB | {direction} | {a:.3f} s ({size / a:.1f} MB/s) "
                f"| {tool} {b:.2f} s | {b / a:.0f}× |"
            )


if __name__ == "__main__":
    main()
