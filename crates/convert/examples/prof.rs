#![allow(clippy::unwrap_used, clippy::expect_used)]
use conflux_convert::{Format, run_convert};
fn main() {
    let mut a = std::env::args().skip(1);
    let dir = a.next().unwrap();
    let mode = a.next().unwrap();
    if mode == "dump" {
        let s = std::fs::read_to_string(&dir).unwrap();
        let o = run_convert(Format::Storage, Format::Markdown, &s, false).unwrap();
        print!("{}", o.output);
        eprintln!(
            "markup {} / {}",
            conflux_convert::markup_bytes(&o.output),
            o.output.len()
        );
        return;
    }
    let to_md = mode == "md";
    let n: usize = a.next().unwrap().parse().unwrap();
    let p = std::path::Path::new(&dir);
    let files: Vec<String> = if p.is_file() {
        vec![std::fs::read_to_string(p).unwrap()]
    } else {
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                if to_md {
                    p.extension().is_some_and(|e| e == "xml" || e == "html")
                } else {
                    p.extension().is_some_and(|e| e == "md")
                }
            })
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    };
    let (f, t) = if to_md {
        (Format::Storage, Format::Markdown)
    } else {
        (Format::Markdown, Format::Storage)
    };
    let mut total = 0;
    for _ in 0..n {
        for s in &files {
            total += run_convert(f, t, s, false).unwrap().output.len();
        }
    }
    println!("{total}");
}
