//! Writes every conversion of a set of documents to a directory, so two builds can be
//! compared byte for byte (`bench/convert/same.sh`).
//!
//! Usage: `dump <out dir> <file or dir>...`. Storage documents (`.xml`, `.html`) are
//! converted to Markdown and normalised as storage; Markdown documents (`.md`) are converted
//! to storage. Each document is also converted cut short and with some of its `>` and `"`
//! removed, so malformed input is compared too. Each result holds the output, the warnings
//! and the stats, or the error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use conflux_convert::{Format, run_convert};

fn inputs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            v.sort();
            files.extend(v);
        } else {
            files.push(p.clone());
        }
    }
    files.retain(|p| {
        matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("xml" | "html" | "md")
        )
    });
    files
}

/// The document as it is, and damaged in a few fixed ways.
fn variants(text: &str) -> Vec<(&'static str, String)> {
    let cut = |n: usize| {
        let mut at = text.len() * n / 3;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text[..at].to_string()
    };
    let drop_every = |c: char, k: usize| {
        let mut seen = 0;
        text.chars()
            .filter(|x| {
                if *x == c {
                    seen += 1;
                    seen % k != 0
                } else {
                    true
                }
            })
            .collect::<String>()
    };
    vec![
        ("whole", text.to_string()),
        ("cut1", cut(1)),
        ("cut2", cut(2)),
        ("gt7", drop_every('>', 7)),
        ("quote5", drop_every('"', 5)),
        ("lt11", drop_every('<', 11)),
    ]
}

fn record(from: Format, to: Format, input: &str) -> String {
    let mut s = String::new();
    match run_convert(from, to, input, false) {
        Ok(out) => {
            let _ = writeln!(s, "failed: {}\nstats: {:?}", out.failed, out.stats);
            for w in &out.warnings {
                let _ = writeln!(s, "warning: {w}");
            }
            s.push_str("----\n");
            s.push_str(&out.output);
        }
        Err(e) => {
            let _ = writeln!(s, "error: {e}");
        }
    }
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().expect("out dir"));
    let paths: Vec<PathBuf> = args.map(PathBuf::from).collect();
    std::fs::create_dir_all(&out).unwrap();
    let mut n = 0;
    for file in inputs(&paths) {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let storage = !name.ends_with(".md");
        for (tag, doc) in variants(&text) {
            let write = |suffix: &str, body: String| {
                std::fs::write(out.join(format!("{name}.{tag}.{suffix}")), body).unwrap();
            };
            if storage {
                write("md", record(Format::Storage, Format::Markdown, &doc));
                write("xml", record(Format::Storage, Format::Storage, &doc));
            } else {
                write("xml", record(Format::Markdown, Format::Storage, &doc));
            }
            n += 1;
        }
    }
    eprintln!("{n} documents written to {}", Path::new(&out).display());
}
