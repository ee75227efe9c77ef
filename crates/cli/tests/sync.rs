//! `conflux export` and `conflux publish` as a person runs them: JSON lines with `-o json`, a
//! quiet summary otherwise, the dry run's page-by-page plan, the conflict report and its exit
//! status, and the read-only guardrail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use conflux_testkit::Sim;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_conflux");

/// `conflux ARGS` against `sim` with the classic token (off the test's runtime threads).
async fn run(sim: &Sim, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let info = &sim.info;
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("CONFLUENCE_URL", &info.site_url)
        .env("CONFLUENCE_USERNAME", &info.classic_token.email)
        .env("CONFLUENCE_API_TOKEN", &info.classic_token.token)
        .env("CONFLUX_TOKEN_KIND", "classic")
        .env("CONFLUX_GATEWAY_URL", &info.gateway_url)
        .env("CONFLUX_IDENTITY_URL", &info.identity_url)
        .envs(vars.iter().copied());
    cmd.output().await.expect("conflux runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn export_and_publish_from_the_command_line() {
    let sim = Sim::demo(51).await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ops-docs");
    let dir_s = dir.to_str().unwrap();

    // JSON lines: planned, one line per page, done with the summary.
    let out = run(
        &sim,
        &["-o", "json", "export", "--space", "OPS", dir_s],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(lines[0]["event"], "planned");
    let total = lines[0]["total"].as_u64().unwrap();
    let pages = lines.iter().filter(|l| l["event"] == "page").count() as u64;
    assert_eq!(pages, total);
    let done = lines.last().unwrap();
    assert_eq!(done["event"], "done");
    assert_eq!(done["summary"]["written"].as_u64(), Some(total));

    // Not a terminal, text: quiet, one summary line.
    let out = run(&sim, &["export", "--space", "OPS", dir_s], &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains(&format!(
        "{total} nodes, 0 written, {total} unchanged, 0 bodies"
    )));

    // A local edit: the dry run names the page and what would change, and changes nothing.
    let file = walk(&dir)
        .into_iter()
        .find(|p| {
            let t = std::fs::read_to_string(p).unwrap();
            p.extension().is_some_and(|e| e == "md") && t.contains("\nversion: 1\n")
        })
        .expect("a page at version 1");
    let rel = file
        .strip_prefix(&dir)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let body = std::fs::read_to_string(&file).unwrap();
    let id = body
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .trim_matches('\'')
        .to_string();
    std::fs::write(&file, format!("{body}\nA line added here.\n")).unwrap();
    let out = run(&sim, &["publish", dir_s, "--dry-run"], &[]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    assert!(
        plan.contains(&format!("would change {rel}: body")),
        "{plan}"
    );
    assert!(plan.contains("would 0 created, 1 updated"), "{plan}");

    // Edited in Confluence meanwhile: a conflict with both versions, exit status 1.
    let out = run(
        &sim,
        &["pages", "update", &id, "--body", "Edited in Confluence."],
        &[],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&sim, &["publish", dir_s], &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!(
            "conflict  {rel}: the folder has version 1, Confluence has version 2 by "
        )),
        "{report}"
    );
    assert!(report.contains("-Edited in Confluence."), "{report}");
    assert!(report.contains("+A line added here."), "{report}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("--force"),
        "{stderr}"
    );

    // Read-only: refused at the first write, with the guardrail's hint; nothing written.
    let out = run(
        &sim,
        &["publish", dir_s, "--force"],
        &[("CONFLUX_READ_ONLY", "true")],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("read-only"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&sim, &["-o", "json", "pages", "get", &id], &[]).await;
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["page"]["version"], 2);

    // Forced: the folder's text wins.
    let out = run(&sim, &["publish", dir_s, "--force"], &[]).await;
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let out = run(&sim, &["-o", "json", "pages", "get", &id], &[]).await;
    let page: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(page["page"]["version"], 3);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if !p.ends_with(".conflux") {
                    stack.push(p);
                }
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
