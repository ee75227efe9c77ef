"""Converts one file with markdownify or md2conf as a whole process, for whole-process timing
against `conflux convert` (read the file, convert, write the result).

Usage: one.py markdownify|md2conf IN OUT (with the venv bench/convert/run.sh makes)
"""

import sys
import tempfile
from pathlib import Path

from others import md2conf_storage, read


def main() -> None:
    tool, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    text = read(Path(src))
    if tool == "markdownify":
        from markdownify import markdownify

        out = markdownify(text)
    else:
        out = md2conf_storage(text, Path(tempfile.mkdtemp(prefix="md2conf-")))
    with open(dst, "w", encoding="utf-8") as f:
        f.write(out)


if __name__ == "__main__":
    main()
