//! Prints the Markdown and the round-tripped storage of a storage file (debugging aid).
#![allow(clippy::unwrap_used)]
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let s = std::fs::read_to_string(path).unwrap();
    let md = conflux_convert::storage_to_markdown(&s);
    println!("{}\n=== warnings: {:?}", md.output, md.warnings);
    let back = conflux_convert::markdown_to_storage(&md.output);
    println!("=== back warnings: {:?}", back.warnings);
    let (a, b) = (conflux_convert::normalized(&s), conflux_convert::normalized(&back.output));
    if a != b {
        for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
            if x != y { println!("DIFF line {i}\n  {x}\n  {y}"); break; }
        }
        println!("=== back:\n{}", back.output);
    } else { println!("=== SAME"); }
}
