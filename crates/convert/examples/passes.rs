//! Converts every storage document of a directory several times in one process, for
//! instruction counts that the machine's load does not move:
//!
//! ```sh
//! valgrind --tool=callgrind target/release/examples/passes ../shared/corpus/storage 5 storage
//! ```
//!
//! Usage: `passes <dir> <passes> storage|markdown [file]`: `storage` converts the `.xml` and
//! `.html` documents to Markdown, `markdown` the `.md` documents to storage; a `file` instead
//! of the directory's documents converts that one file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use conflux_convert::{markdown_to_storage, storage_to_markdown};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().expect("dir"));
    let passes: usize = args.next().and_then(|p| p.parse().ok()).unwrap_or(5);
    let to_md = args.next().as_deref() != Some("markdown");
    let exts: &[&str] = if to_md { &["xml", "html"] } else { &["md"] };
    let mut files: Vec<PathBuf> = match args.next() {
        Some(f) => vec![PathBuf::from(f)],
        None => std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| exts.contains(&e))
            })
            .collect(),
    };
    files.sort();
    let docs: Vec<String> = files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let mut bytes = 0;
    for _ in 0..passes {
        for d in &docs {
            let out = if to_md {
                storage_to_markdown(d)
            } else {
                markdown_to_storage(d)
            };
            bytes += std::hint::black_box(out.unwrap()).output.len();
        }
    }
    println!(
        "{} documents, {passes} passes, {bytes} bytes out",
        docs.len()
    );
}
