//! Benchmark and fidelity report over the storage corpus; run it through `bench/convert/run.sh`.
//!
//! Usage: `bench <corpus/storage> <dir written by others.py> <rounds>`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use conflux_convert::{
    Format, Survival, census, markdown_to_storage, markup_bytes, run_convert_into,
    storage_to_markdown,
};

fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
        })
        .collect();
    v.sort();
    v
}

/// Seconds each series is measured for at least, on both sides (`others.py` reads the same
/// variable): 20 rounds of a millisecond are a 20 ms window that one busy moment of the
/// machine can cover whole, while the other tool's 20 rounds span seconds.
fn min_seconds() -> f64 {
    std::env::var("MIN_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0)
}

/// The best of at least `rounds` rounds, going on until [`min_seconds`] have passed.
fn best_of<F: FnMut()>(rounds: usize, mut f: F) -> Duration {
    let start = Instant::now();
    let min = min_seconds();
    let mut best = Duration::MAX;
    let mut done = 0;
    while done < rounds.max(1) || start.elapsed().as_secs_f64() < min {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        done += 1;
    }
    best
}

fn mbps(bytes: usize, secs: f64) -> f64 {
    if secs <= 0.0 {
        0.0
    } else {
        bytes as f64 / 1e6 / secs
    }
}

fn frac((kept, total): (usize, usize)) -> String {
    if total == 0 {
        "-".into()
    } else {
        format!(
            "{kept}/{total} ({:.0}%)",
            100.0 * kept as f64 / total as f64
        )
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let corpus = PathBuf::from(args.next().expect("corpus dir"));
    let others = PathBuf::from(args.next().expect("others output dir"));
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(20);

    let storage: Vec<(String, String)> = files(&corpus, &["xml", "html"])
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    let markdown: Vec<String> = files(&corpus, &["md"])
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let s_bytes: usize = storage.iter().map(|(_, s)| s.len()).sum();
    let m_bytes: usize = markdown.iter().map(String::len).sum();

    let s2m = best_of(rounds, || {
        for (_, s) in &storage {
            std::hint::black_box(storage_to_markdown(s).unwrap());
        }
    });
    let m2s = best_of(rounds, || {
        for m in &markdown {
            std::hint::black_box(markdown_to_storage(m).unwrap());
        }
    });

    let result: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(others.join("result.json")).expect("result.json"),
    )
    .expect("others.py result");
    let py = |k: &str| {
        let v = &result[k];
        (
            v["tool"].as_str().unwrap_or("?").to_string(),
            v["seconds"].as_f64().unwrap_or(0.0),
            v["bytes"].as_u64().unwrap_or(0) as usize,
        )
    };
    let (py_s2m_tool, py_s2m_secs, py_s2m_bytes) = py("storage_to_markdown");
    let (py_m2s_tool, py_m2s_secs, py_m2s_bytes) = py("markdown_to_storage");
    assert_eq!(
        py_s2m_bytes, s_bytes,
        "both sides must read the same storage files"
    );
    assert_eq!(
        py_m2s_bytes, m_bytes,
        "both sides must read the same Markdown files"
    );

    let ours_s2m = mbps(s_bytes, s2m.as_secs_f64());
    let ours_m2s = mbps(m_bytes, m2s.as_secs_f64());
    let their_s2m = mbps(s_bytes, py_s2m_secs);
    let their_m2s = mbps(m_bytes, py_m2s_secs);
    println!(
        "## Speed ({} storage files, {:.1} KB; {} Markdown files, {:.1} KB; the best round of at least {rounds} and {} s, on both sides)\n",
        storage.len(),
        s_bytes as f64 / 1e3,
        markdown.len(),
        m_bytes as f64 / 1e3,
        min_seconds()
    );
    println!("| direction | conflux-convert MB/s | other | other MB/s | ratio |");
    println!("|---|---:|---|---:|---:|");
    println!(
        "| storage → Markdown | {ours_s2m:.1} | {py_s2m_tool} | {their_s2m:.2} | {:.1}× |",
        ours_s2m / their_s2m.max(f64::MIN_POSITIVE)
    );
    println!(
        "| Markdown → storage | {ours_m2s:.1} | {py_m2s_tool} | {their_m2s:.2} | {:.1}× |",
        ours_m2s / their_m2s.max(f64::MIN_POSITIVE)
    );

    // Single large documents, timed as `conflux convert` runs them: read the file, convert,
    // write the result (the CLI adds process start and argument parsing, a few milliseconds).
    let empty = Vec::new();
    let large = result["large"].as_array().unwrap_or(&empty);
    if !large.is_empty() {
        println!("\n## Single large documents (the corpus concatenated; read, convert, write)\n");
        println!("| document | direction | size | conflux-convert MB/s | other MB/s | ratio |");
        println!("|---|---|---:|---:|---:|---:|");
    }
    for l in large {
        let file = others.join(l["file"].as_str().unwrap_or(""));
        let bytes = l["bytes"].as_u64().unwrap_or(0) as usize;
        let to_md = l["direction"] == "storage_to_markdown";
        let (from, to, other) = if to_md {
            (Format::Storage, Format::Markdown, &py_s2m_tool)
        } else {
            (Format::Markdown, Format::Storage, &py_m2s_tool)
        };
        let out_path = file.with_extension("conflux.out");
        // The same rounds for every size: the best of fewer rounds is a worse figure on a
        // busy machine, which once made large documents look slower per byte.
        let large_rounds = rounds.min(10);
        let t = best_of(large_rounds, || {
            let input = std::fs::read_to_string(&file).unwrap();
            let mut out = std::fs::File::create(&out_path).unwrap();
            run_convert_into(from, to, &input, false, &mut |piece| {
                out.write_all(piece.as_bytes()).unwrap()
            })
            .unwrap();
        });
        let ours = mbps(bytes, t.as_secs_f64());
        let (theirs, ratio) = match l["seconds"].as_f64() {
            Some(s) => {
                let m = mbps(bytes, s);
                (
                    format!("{m:.2}"),
                    format!("{:.1}×", ours / m.max(f64::MIN_POSITIVE)),
                )
            }
            None => (
                format!("failed: {}", l["error"].as_str().unwrap_or("?")),
                "-".into(),
            ),
        };
        println!(
            "| {} | {} | {:.1} MB | {ours:.1} | {other} {theirs} | {ratio} |",
            l["file"].as_str().unwrap_or("?"),
            if to_md {
                "storage → Markdown"
            } else {
                "Markdown → storage"
            },
            bytes as f64 / 1e6
        );
    }

    let mut ours = Survival::default();
    let mut theirs = Survival::default();
    let mut rows = Vec::new();
    let mut warned = 0;
    for (name, s) in &storage {
        let before = census(s).unwrap();
        let md = storage_to_markdown(s).unwrap();
        if !md.warnings.is_empty() {
            warned += 1;
        }
        let back = markdown_to_storage(&md.output).unwrap();
        ours.add(&before.survival(&census(&back.output).unwrap()));
        let other = std::fs::read_to_string(others.join(name)).unwrap_or_default();
        theirs.add(&before.survival(&census(&other).unwrap_or_default()));
        rows.push((name.clone(), md.stats, markup_bytes(&md.output)));
    }
    println!("\n## Fidelity: storage → Markdown → storage, constructs that survive\n");
    println!("| construct | conflux-convert | markdownify + md2conf |");
    println!("|---|---:|---:|");
    for (label, a, b) in [
        ("macros (name + parameters)", ours.macros, theirs.macros),
        ("page links", ours.page_links, theirs.page_links),
        ("images", ours.images, theirs.images),
        ("task items", ours.tasks, theirs.tasks),
        ("mentions", ours.mentions, theirs.mentions),
    ] {
        println!("| {label} | {} | {} |", frac(a), frac(b));
    }
    let failures = result["round_trip_failures"].as_array().map_or(0, Vec::len);
    println!(
        "\n(md2conf refused {failures} of the {} markdownify outputs; their constructs count as lost. {warned} corpus documents produced parse warnings on our side.)",
        storage.len()
    );

    println!(
        "\n## Markup that is neither CommonMark/GFM nor text, per document\n\n\
         Raw HTML (tags, blocks, `<!--confluence …-->` placeholders), directive fence lines \
         with their attribute blocks, text directives (`:name{{…}}`) and the brackets and \
         attribute blocks of bracketed spans (`[text]{{…}}`), as measured by \
         `conflux_convert::markup_bytes` on the Markdown; the Markdown inside a directive or a \
         span counts as Markdown.\n"
    );
    println!("| document | Markdown bytes | markup bytes | share | placeholders + directives |");
    println!("|---|---:|---:|---:|---:|");
    let (mut tb, mut tm) = (0, 0);
    for (name, st, markup) in &rows {
        tb += st.output_bytes;
        tm += markup;
        println!(
            "| {name} | {} | {markup} | {:.1}% | {} |",
            st.output_bytes,
            100.0 * *markup as f64 / st.output_bytes.max(1) as f64,
            st.placeholders,
        );
    }
    println!(
        "| **all** | {tb} | {tm} | {:.1}% | |",
        100.0 * tm as f64 / tb.max(1) as f64
    );
}
