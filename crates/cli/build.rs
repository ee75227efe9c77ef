//! Link options of the `conflux` binary: a smaller file and fewer pages touched at start
//! (figures in docs/mcp.md, "Start and footprint"). Only this binary's link changes; the
//! libraries and the other targets are built as before.

use std::env;
use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let target = env::var("TARGET").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" {
        return;
    }
    // Relative relocations packed (DT_RELR): the position-independent binary's 0.6 MB of
    // R_X86_64_RELATIVE entries become a few KB, and the loader no longer reads them all at
    // start. glibc loads them from 2.36 on, and a binary that has them needs that glibc, so only
    // when the C library it is linked against (this machine's: `cargo install` builds where it
    // runs) has them.
    if env::var("HOST").as_deref() == Ok(target.as_str()) && glibc_loads_relr() {
        println!("cargo::rustc-link-arg-bin=conflux=-Wl,-z,pack-relative-relocs");
    }
    // Identical code folding: functions whose machine code is the same (monomorphised generics
    // above all) are kept once. rust-lld links this target from Rust 1.90 on; GNU ld has no
    // such option. Rust does not promise distinct function addresses; in the C libraries
    // (SQLite, ring) only helpers whose address is never taken fold.
    if rustc_minor().is_some_and(|m| m >= 90) {
        println!("cargo::rustc-link-arg-bin=conflux=-Wl,--icf=all");
        // The functions `conflux serve` runs from spawn to its `tools/list` answer, side by side:
        // start then faults in 1 MB of code instead of pages all over the 11 MB of it (RSS 11.9
        // -> 6.0 MiB). The names carry hashes of the compiler version, the profile and the
        // features: those another build does not have are skipped, quietly, and only the
        // start's footprint grows back. bench/mcp/startup-order.py writes the list again, from
        // the link map asked for through CONFLUX_LINK_MAP.
        // The linker reads a copy in OUT_DIR: checkouts that share a target directory share
        // this script's output, and a path into the checkout that ran it would outlive it.
        println!("cargo::rerun-if-changed=startup-order.txt");
        let dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        let out = env::var("OUT_DIR").unwrap_or_default();
        let order = Path::new(&out).join("startup-order.txt");
        if std::fs::copy(Path::new(&dir).join("startup-order.txt"), &order).is_ok() {
            let order = order.display();
            println!("cargo::rustc-link-arg-bin=conflux=-Wl,--symbol-ordering-file={order}");
            println!("cargo::rustc-link-arg-bin=conflux=-Wl,--no-warn-symbol-ordering");
        }
    }
    // A link map on request: where each function landed, under the symbol name the build gave
    // it (bench/mcp/startup-order.py reads the start-up functions' names from it).
    println!("cargo::rerun-if-env-changed=CONFLUX_LINK_MAP");
    if let Ok(map) = env::var("CONFLUX_LINK_MAP") {
        println!("cargo::rustc-link-arg-bin=conflux=-Wl,-Map={map}");
    }
}

/// Whether this machine's glibc defines `GLIBC_ABI_DT_RELR` (glibc 2.36 and later).
fn glibc_loads_relr() -> bool {
    [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
        "/usr/lib64/libc.so.6",
        "/usr/lib/libc.so.6",
    ]
    .iter()
    .find_map(|p| std::fs::read(p).ok())
    .is_some_and(|bytes| {
        bytes
            .windows(b"GLIBC_ABI_DT_RELR".len())
            .any(|w| w == b"GLIBC_ABI_DT_RELR")
    })
}

/// The minor version of the compiler building this (`rustc 1.95.0 ...` gives 95).
fn rustc_minor() -> Option<u32> {
    let rustc = env::var("RUSTC").ok()?;
    let out = Command::new(rustc).arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    let mut parts = version.split('.');
    if parts.next()? != "1" {
        return None;
    }
    parts.next()?.parse().ok()
}
