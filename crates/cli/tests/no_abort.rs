//! Nothing takes the `conflux` process down: input nested deeper than the converter's limit
//! is an `error: … nested deeper than 512 …` with exit status 2, and a closed stdout
//! (`conflux sim | head -1`) ends a command quietly, with status 0 and no panic message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_conflux");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file under the test target's scratch directory.
fn scratch(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn convert(from: &str, to: &str, file: &PathBuf) -> Output {
    Command::new(BIN)
        .args(["convert", "--from", from, "--to", to])
        .arg(file)
        .env_clear()
        .output()
        .unwrap()
}

/// Exit status 2 with the converter's message, and nothing that looks like a crash.
fn assert_refused(o: &Output, what: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{what}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains("nested deeper than 512 levels"),
        "{what}: {err}"
    );
    for crash in ["panicked", "overflow", "aborting"] {
        assert!(!err.contains(crash), "{what}: {err}");
    }
    assert!(o.stdout.is_empty(), "{what}: nothing is printed");
}

/// The inputs that aborted `conflux convert` before the depth limit existed.
#[test]
fn convert_refuses_deep_storage_with_a_clear_error() {
    let lists = scratch(
        "deep-lists.xml",
        &format!(
            "{}x{}",
            "<ul><li>".repeat(10_000),
            "</li></ul>".repeat(10_000)
        ),
    );
    let o = convert("storage", "markdown", &lists);
    assert_refused(&o, "10,000 nested lists");
    assert!(
        stderr(&o)
            .contains("storage input is nested deeper than 512 levels (at line 1, column 2049)"),
        "{}",
        stderr(&o)
    );
    let divs = scratch("deep-divs.xml", &"<div>".repeat(20_000));
    assert_refused(&convert("storage", "markdown", &divs), "20,000 nested divs");
    assert_refused(
        &convert("storage", "storage", &divs),
        "20,000 nested divs, normalised",
    );
}

#[test]
fn convert_refuses_deep_markdown_with_a_clear_error() {
    let quotes = scratch("deep-quotes.md", &format!("{}x\n", "> ".repeat(10_000)));
    assert_refused(&convert("markdown", "storage", &quotes), "10,000 quotes");
    let items = scratch("deep-items.md", &format!("{}x\n", "- ".repeat(5_000)));
    assert_refused(&convert("markdown", "storage", &items), "5,000 list items");
    let mut indented = String::new();
    for i in 0..1_000 {
        indented.push_str(&" ".repeat(2 * i));
        indented.push_str("- x\n");
    }
    let indented = scratch("deep-indented.md", &indented);
    assert_refused(
        &convert("markdown", "markdown", &indented),
        "1,000 indented list levels",
    );
}

/// Waits for the child to end; a child still running after a minute is killed and reported
/// (a guard against hanging the test run, not a timing assertion).
fn wait(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what}: still running after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn assert_quiet_exit(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(o.status.success(), "{what}: {:?} {err}", o.status);
    assert!(
        !err.contains("panicked") && !err.contains("failed printing to stdout"),
        "{what}: {err}"
    );
}

/// `conflux sim | head -1`: the simulator prints its contract, the reader takes one line and
/// leaves, and the simulator ends.
#[test]
fn sim_ends_quietly_when_its_reader_leaves_after_the_first_line() {
    let mut child = Command::new(BIN)
        .arg("sim")
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("{\"site_url\""), "{line}");
    let o = wait(child, "conflux sim");
    assert_quiet_exit(&o, "conflux sim");
}

/// `conflux convert` of a document larger than a pipe holds, read by `head -1`.
#[test]
fn convert_ends_quietly_when_its_reader_leaves_after_the_first_line() {
    let big = scratch(
        "big.xml",
        &"<p>A line with <strong>bold</strong> text.</p>\n".repeat(40_000),
    );
    let mut child = Command::new(BIN)
        .args(["convert", "--from", "storage", "--to", "markdown"])
        .arg(&big)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "A line with **bold** text.\n");
    let o = wait(child, "conflux convert");
    assert_quiet_exit(&o, "conflux convert");
}

/// Commands whose stdout is a pipe nobody reads any more, from the first write on.
#[test]
fn printing_commands_end_quietly_on_a_closed_stdout() {
    let file = scratch("small.xml", "<p>hello</p>");
    let file = file.to_str().unwrap();
    for args in [
        vec!["sim"],
        vec!["--demo", "spaces", "list"],
        vec!["--demo", "-o", "json", "search", "type = page"],
        vec!["demo"],
        vec!["convert", "--from", "storage", "--to", "markdown", file],
        // serve.rs still prints with println!; the panic hook keeps it quiet.
        vec!["serve", "--print-scopes"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = Command::new(BIN)
            .args(&args)
            .env_clear()
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let what = format!("conflux {}", args.join(" "));
        let o = wait(child, &what);
        assert_quiet_exit(&o, &what);
    }
}
