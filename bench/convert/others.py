"""Times the converters people use today on the same corpus files, and writes their
storage -> Markdown -> storage round trips so the Rust side can score them.

storage -> Markdown: markdownify (what sooperset/mcp-atlassian relies on).
Markdown -> storage: md2conf (PyPI `markdown-to-confluence`), on the corpus's paired .md files.
Round trip: markdownify, then md2conf.
"""

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from markdownify import markdownify
from md2conf.collection import ConfluencePageCollection, ConfluenceUserCollection
from md2conf.converter import ConfluenceDocument
from md2conf.metadata import ConfluenceSiteMetadata
from md2conf.options import ProcessorOptions
from md2conf.scanner import Scanner


def md2conf_storage(text: str, workdir: Path) -> str:
    """Converts Markdown to storage the way `md2conf` does for one file, without network."""
    path = workdir / "page.md"
    path.write_text(text, encoding="utf-8")
    doc = Scanner().parse(text)
    site = ConfluenceSiteMetadata(domain="example.atlassian.net", base_path="/wiki/", space_key="DOC")
    options = ProcessorOptions(generated_by=None)
    cd = ConfluenceDocument(path, doc, options, workdir, site, ConfluencePageCollection(), ConfluenceUserCollection())
    return cd.xhtml()


LARGE_MB = [int(x) for x in os.environ.get("LARGE_MB", "1 10").split()]
LARGE_ROUNDS = {1: 3}
MD2CONF_MAX_MB = int(os.environ.get("MD2CONF_MAX_MB", "1"))


def read(path: Path) -> str:
    """Reads a file byte for byte (no newline translation), as the Rust side does."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


# Seconds each series is measured for at least, on both sides (the Rust bench reads the same
# variable): a fast tool's 20 rounds are a window so short that one busy moment covers it.
MIN_SECONDS = float(os.environ.get("MIN_SECONDS", "1"))


def timed(fn, inputs, rounds):
    """Seconds of the best round converting every input once (at least `rounds` rounds and
    MIN_SECONDS of them), and the outputs."""
    best = float("inf")
    outputs = []
    began = time.perf_counter()
    done = 0
    while done < max(rounds, 1) or time.perf_counter() - began < MIN_SECONDS:
        start = time.perf_counter()
        outputs = [fn(x) for x in inputs]
        best = min(best, time.perf_counter() - start)
        done += 1
    return best, outputs


def main() -> None:
    corpus, out_dir, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    out_dir.mkdir(parents=True, exist_ok=True)
    storage_files = sorted(p for p in corpus.iterdir() if p.suffix in (".xml", ".html"))
    md_files = sorted(p for p in corpus.iterdir() if p.suffix == ".md")
    storage = [read(p) for p in storage_files]
    markdown = [read(p) for p in md_files]
    work = Path(tempfile.mkdtemp(prefix="md2conf-"))

    def safe_md2conf(text: str) -> str:
        try:
            return md2conf_storage(text, work)
        except Exception as ex:  # md2conf refuses some inputs; count them as lost
            failures.append(repr(ex)[:200])
            return ""

    failures: list[str] = []
    s2m_secs, md_out = timed(markdownify, storage, rounds)
    m2s_secs, _ = timed(safe_md2conf, markdown, rounds)
    failures.clear()
    round_trip = [safe_md2conf(m) for m in md_out]
    for p, s in zip(storage_files, round_trip):
        (out_dir / p.name).write_text(s, encoding="utf-8")
    # Single large documents: the corpus concatenated to about 1 and 10 MB, timed the way
    # `conflux convert` runs (read the file, convert, write the result).
    large = []

    def md2conf_accepts(path: Path) -> bool:
        try:
            md2conf_storage(read(path), work)
            return True
        except Exception:
            return False

    # md2conf refuses a document when any part of it fails (a missing image, say), so its
    # large document is made of the files it converts on their own.
    md_accepted = [p for p in md_files if md2conf_accepts(p)]
    for mb in LARGE_MB:
        for ext, files, fn, direction in (
            ("xml", storage_files, markdownify, "storage_to_markdown"),
            ("md", md_accepted, lambda t: md2conf_storage(t, work), "markdown_to_storage"),
        ):
            unit = "".join(read(p) for p in files)
            path = out_dir / f"large-{mb}.{ext}"
            text = unit * max(1, -(-mb * 1_000_000 // len(unit.encode())))
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            best = float("inf")
            error = None
            if ext == "md" and mb > MD2CONF_MAX_MB:
                # md2conf ran for more than 13 CPU-minutes on 10 MB without finishing.
                large.append({
                    "file": path.name, "direction": direction, "mb": mb,
                    "bytes": len(text.encode()), "seconds": None,
                    "error": f"not run above {MD2CONF_MAX_MB} MB (MD2CONF_MAX_MB)",
                })
                continue
            began, done = time.perf_counter(), 0
            while done < LARGE_ROUNDS.get(mb, 1) or time.perf_counter() - began < MIN_SECONDS:
                done += 1
                start = time.perf_counter()
                try:
                    converted = fn(read(path))
                except Exception as ex:  # counted as a failure, reported
                    error = repr(ex)[:200]
                    break
                with open(out_dir / f"large-{mb}.{ext}.out", "w", encoding="utf-8") as f:
                    f.write(converted)
                best = min(best, time.perf_counter() - start)
            large.append({
                "file": path.name, "direction": direction, "mb": mb,
                "bytes": len(text.encode()), "seconds": None if error else best, "error": error,
            })
    result = {
        "large": large,
        "storage_to_markdown": {"tool": "markdownify", "seconds": s2m_secs, "bytes": sum(len(s.encode()) for s in storage)},
        "markdown_to_storage": {"tool": "md2conf", "seconds": m2s_secs, "bytes": sum(len(m.encode()) for m in markdown)},
        "round_trip_failures": failures,
    }
    (out_dir / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
