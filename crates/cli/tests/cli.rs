//! The `conflux` binary end to end: `conflux sim`'s JSON contract, commands against it with
//! `CONFLUENCE_*` settings, the demo, and errors that print a hint and exit by kind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_conflux");

/// `conflux sim` as a child process; killed on drop.
struct SimProcess {
    child: Child,
    info: Value,
    /// The read end of the simulator's stdout, held open: the simulator ends when it closes.
    _stdout: BufReader<ChildStdout>,
}

impl SimProcess {
    fn start(extra: &[&str]) -> SimProcess {
        let mut child = Command::new(BIN)
            .arg("sim")
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("conflux sim starts");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        let info: Value = serde_json::from_str(&line).expect("first stdout line is JSON");
        SimProcess {
            child,
            info,
            _stdout: stdout,
        }
    }

    fn s(&self, pointer: &str) -> String {
        self.info
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer}"))
            .to_string()
    }

    /// `conflux ARGS` with the environment of a user of a classic or scoped token.
    fn run(&self, token: &str, args: &[&str]) -> Output {
        self.run_with(token, args, &[])
    }

    /// [`Self::run`] with more variables set.
    fn run_with(&self, token: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let (email, token) = match token {
            "classic" => (
                self.s("/classic_token/email"),
                self.s("/classic_token/token"),
            ),
            "full" => (
                self.s("/scoped_tokens/full/email"),
                self.s("/scoped_tokens/full/token"),
            ),
            "read_only" => (
                self.s("/scoped_tokens/read_only/email"),
                self.s("/scoped_tokens/read_only/token"),
            ),
            other => panic!("{other}"),
        };
        Command::new(BIN)
            .args(args)
            .env_clear()
            .env("CONFLUENCE_URL", self.s("/site_url"))
            .env("CONFLUENCE_USERNAME", email)
            .env("CONFLUENCE_API_TOKEN", token)
            .env("CONFLUX_GATEWAY_URL", self.s("/gateway_url"))
            .env("CONFLUX_IDENTITY_URL", self.s("/identity_url"))
            .envs(vars.iter().copied())
            .output()
            .expect("conflux runs")
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn sim_prints_its_contract_first() {
    let sim = SimProcess::start(&["--seed", "3"]);
    for key in [
        "site_url",
        "gateway_url",
        "identity_url",
        "admin_url",
        "cloud_id",
    ] {
        assert!(
            sim.info[key].as_str().is_some_and(|s| !s.is_empty()),
            "{key}"
        );
    }
    assert!(sim.info["classic_token"]["email"].is_string());
    assert!(
        sim.info["classic_token"].get("scopes").is_none(),
        "a classic token has no scopes key"
    );
    let full = sim.info["scoped_tokens"]["full"]["scopes"]
        .as_array()
        .unwrap();
    let read = sim.info["scoped_tokens"]["read_only"]["scopes"]
        .as_array()
        .unwrap();
    assert!(full.iter().any(|s| s == "write:page:confluence"));
    assert!(
        full.iter().any(|s| s == "read:content-details:confluence"),
        "search included"
    );
    assert!(
        read.iter()
            .all(|s| s.as_str().unwrap().starts_with("read:"))
    );
    assert!(
        sim.info["oauth_client"]["redirect_uris"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    // The cloudId is what the site's tenant_info says.
    let tenant: Value = reqwest_blocking_json(&format!("{}/_edge/tenant_info", sim.s("/site_url")));
    assert_eq!(tenant["cloudId"], sim.info["cloud_id"]);
}

/// A tiny blocking GET, so this test file needs no async runtime.
fn reqwest_blocking_json(url: &str) -> Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::get(url).await.unwrap().json().await.unwrap()
    })
}

#[test]
fn commands_work_with_classic_and_scoped_tokens_from_the_environment() {
    let sim = SimProcess::start(&[]);
    for who in ["classic", "full", "read_only"] {
        let o = sim.run(who, &["spaces", "list"]);
        assert!(o.status.success(), "{who}: {}", stderr(&o));
        assert!(stdout(&o).contains("ENG"), "{who}: {}", stdout(&o));
    }
    let o = sim.run(
        "read_only",
        &[
            "-o", "json", "pages", "list", "--space", "ENG", "--limit", "3",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 3, "{v}");
    assert!(v["nextCursor"].is_string());
    let id = v["items"][0]["id"].as_str().unwrap().to_string();
    let o = sim.run(
        "full",
        &[
            "-o",
            "json",
            "pages",
            "get",
            &id,
            "--body-format",
            "storage",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let got: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(got["page"]["id"], id);
    assert!(
        got["body"]["value"]
            .as_str()
            .is_some_and(|b| b.contains('<')),
        "{got}"
    );
    // Markdown by default, as the MCP tool gives it; `--all` follows every cursor.
    let o = sim.run("full", &["pages", "getBody", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stdout(&o).contains("<p>"), "{}", stdout(&o));
    let o = sim.run(
        "full",
        &["-o", "json", "spaces", "list", "--limit", "1", "--all"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let all: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(all["count"].as_u64().unwrap() > 1, "{all}");
    assert!(all["nextCursor"].is_null(), "{all}");
}

#[test]
fn create_update_and_search_round_trip() {
    let sim = SimProcess::start(&[]);
    let o = sim.run(
        "full",
        &[
            "-o",
            "json",
            "pages",
            "create",
            "--space",
            "ENG",
            "--title",
            "CLI made this",
            "--body",
            "first",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let page: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let id = page["page"]["id"].as_str().unwrap().to_string();
    let o = sim.run(
        "full",
        &[
            "pages",
            "update",
            &id,
            "--body",
            "<p>second</p>",
            "--body-format",
            "storage",
            "--version-message",
            "edit",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("version 2"), "{}", stdout(&o));
    // A stale explicit version is a conflict: exit 5, with the number to use.
    let o = sim.run(
        "full",
        &[
            "pages",
            "update",
            &id,
            "--body",
            "<p>x</p>",
            "--version",
            "2",
        ],
    );
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: ") && stderr(&o).contains("send version 3"),
        "{}",
        stderr(&o)
    );
    let o = sim.run(
        "classic",
        &["-o", "json", "search", "title = \"CLI made this\""],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["items"][0]["id"], id.as_str(), "{v}");
}

#[test]
fn refusals_print_the_fix_and_exit_by_kind() {
    let sim = SimProcess::start(&[]);
    // Read-only scoped token writing: exit 3, the missing scope named.
    let o = sim.run(
        "read_only",
        &[
            "pages", "create", "--space", "ENG", "--title", "x", "--body", "<p/>",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    let mut seen = err.clone();
    assert!(err.contains("error: createPage needs scope(s)"), "{err}");
    assert!(err.contains("`write:page:confluence`"), "{err}");
    assert!(err.contains("hint: create a new scoped API token"), "{err}");
    // Malformed CQL: exit 2, with where it broke.
    let o = sim.run("classic", &["search", "type = page AND ("]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("column"), "{}", stderr(&o));
    seen.push_str(&stderr(&o));
    // Unknown page: exit 4.
    let o = sim.run("classic", &["pages", "get", "999999999"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    seen.push_str(&stderr(&o));
    // No secret in any of it.
    for token in ["/classic_token/token", "/scoped_tokens/read_only/token"] {
        assert!(!seen.contains(&sim.s(token)), "{token} leaked");
    }
}

#[test]
fn missing_configuration_is_explained() {
    let o = Command::new(BIN)
        .args(["spaces", "list"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("CONFLUENCE_API_TOKEN"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--demo"), "{}", stderr(&o));
}

/// Issue 12: `serve --tools` with a bad name listed 8 tools (there are 10), and only after
/// asking for a credential; `serve --help` showed each `[env: ...]` twice.
#[test]
fn issue_012_serve_names_every_tool_and_each_variable_once() {
    let o = Command::new(BIN)
        .args(["serve", "--tools", "pages,nope"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("unknown tool `nope`"), "{err}");
    for t in conflux_ops::catalog::TOOLS {
        assert!(err.contains(t.name), "{} missing from: {err}", t.name);
    }
    assert!(
        !err.contains("CONFLUENCE_API_TOKEN"),
        "no credential asked first: {err}"
    );
    let help = Command::new(BIN)
        .args(["serve", "--help"])
        .env_clear()
        .output()
        .unwrap();
    let help = stdout(&help);
    let mut seen = std::collections::BTreeMap::new();
    for (at, _) in help.match_indices("[env: ") {
        let name: String = help[at + 6..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
            .collect();
        *seen.entry(name).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(!seen.is_empty() && twice.is_empty(), "{twice:?}\n{help}");
}

#[test]
fn demo_runs_with_nothing_configured() {
    let o = Command::new(BIN).arg("demo").env_clear().output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("classic API token -> site"), "{out}");
    assert!(out.contains("scoped API token -> gateway"), "{out}");
    assert!(out.contains("`write:page:confluence`"), "{out}");
    let o = Command::new(BIN)
        .args(["--demo", "-o", "json", "spaces", "list"])
        .env_clear()
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("--demo stdout is only the result");
    assert!(!v["items"].as_array().unwrap().is_empty());
}

#[test]
fn convert_round_trips_and_reports_positions() {
    use std::io::Write as _;
    let run = |args: &[&str], input: &str| {
        let mut child = Command::new(BIN)
            .args(args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let storage = "<h2>Plan</h2><p>Ship <strong>v2</strong>.</p><ac:structured-macro ac:name=\"code\">\
        <ac:parameter ac:name=\"language\">rust</ac:parameter>\
        <ac:plain-text-body><![CDATA[fn main() {}]]></ac:plain-text-body></ac:structured-macro>";
    let o = run(
        &["convert", "--from", "storage", "--to", "markdown"],
        storage,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(
        md.contains("## Plan") && md.contains("**v2**") && md.contains("```rust"),
        "{md}"
    );
    let o = run(&["convert", "--from", "markdown", "--to", "storage"], &md);
    assert!(o.status.success(), "{}", stderr(&o));
    let back = stdout(&o);
    assert!(
        back.contains("ac:name=\"code\"") && back.contains("fn main() {}"),
        "{back}"
    );

    // Malformed input: converted anyway, with a line:col warning; --strict fails.
    let broken = "<p>one\n<b>two</p>";
    let o = run(
        &["convert", "--from", "storage", "--to", "markdown"],
        broken,
    );
    assert!(o.status.success());
    assert!(stderr(&o).contains("<stdin>:2:"), "{}", stderr(&o));
    let o = run(
        &[
            "convert", "--from", "storage", "--to", "markdown", "--strict",
        ],
        broken,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = run(&["convert", "--from", "html", "--to", "markdown"], "");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn doctor_audit_and_databases_from_the_command_line() {
    let sim = SimProcess::start(&[]);
    // doctor --output json: the stable contract.
    let o = sim.run("read_only", &["-o", "json", "doctor"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["credential_kind"], "scoped_api_token");
    assert_eq!(v["cloud_id"], sim.info["cloud_id"]);
    assert!(
        v["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["route"] == "site" && r["accepts"] == false)
    );
    let create = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["tool"] == "pages" && a["action"] == "create")
        .unwrap();
    assert_eq!(create["status"], "missing_scopes");
    assert_eq!(
        create["missing_scopes"],
        serde_json::json!(["write:page:confluence"])
    );
    assert!(
        v["scopes_to_add"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "write:page:confluence")
    );
    // The table for people.
    let o = sim.run("read_only", &["doctor", "--tools", "pages"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("MISSING SCOPES  add write:page:confluence"),
        "{}",
        stdout(&o)
    );
    // audit, Markdown and JSON.
    let o = sim.run("classic", &["audit"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("## Not covered: no public API"),
        "{}",
        stdout(&o)
    );
    let o = sim.run("classic", &["-o", "json", "audit"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(!v["spaces"].as_array().unwrap().is_empty());
    // databases: create, get, entries explained, delete.
    let o = sim.run(
        "full",
        &[
            "-o",
            "json",
            "databases",
            "create",
            "--space",
            "ENG",
            "--title",
            "Roadmap DB",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let id = v["database"]["id"].as_str().unwrap().to_string();
    let o = sim.run("full", &["databases", "get", &id]);
    assert!(stdout(&o).contains("Roadmap DB"), "{}", stdout(&o));
    let o = sim.run("full", &["databases", "entries", &id]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no public API for database entries"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("Export"), "{}", stderr(&o));
    let o = sim.run("full", &["databases", "delete", &id]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Issue 12: the CLI is a surface on the same actions as the MCP tools: every action is a
/// subcommand, with the same guardrails (read-only and the space lists, from the variables
/// `serve` reads), Markdown bodies, and the structured result under `-o json`.
#[test]
fn issue_012_every_tool_action_is_a_subcommand_with_the_servers_guardrails() {
    let sim = SimProcess::start(&[]);
    // An action the old CLI did not have: comment threads, written and read back.
    let o = sim.run(
        "classic",
        &[
            "-o", "json", "pages", "list", "--space", "ENG", "--limit", "1",
        ],
    );
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let page = v["items"][0]["id"].as_str().unwrap().to_string();
    let o = sim.run(
        "classic",
        &["comments", "addFooter", &page, "--body", "from the *CLI*"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sim.run("classic", &["-o", "json", "comments", "get-footer", &page]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["body"].as_str().is_some_and(|b| b.contains("*CLI*"))),
        "{v}"
    );
    // Read-only from the environment: refused as policy (exit 2) before anything is sent.
    let create = [
        "pages", "create", "--space", "ENG", "--title", "guarded", "--body", "x",
    ];
    let o = sim.run_with("classic", &create, &[("CONFLUX_READ_ONLY", "1")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("read-only"), "{}", stderr(&o));
    // A denied space is not reachable, for reads either.
    let o = sim.run_with(
        "classic",
        &["pages", "list", "--space", "ENG"],
        &[("CONFLUX_DENY_SPACES", "ENG")],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("deny list"), "{}", stderr(&o));
    // An argument the action requires is asked for by clap, by its flag.
    let o = sim.run("classic", &["pages", "create", "--title", "no space"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--space-id"), "{}", stderr(&o));
}

/// `conflux setup CLIENT` prints what each MCP client needs, in the format that client
/// documents: each output parses as its format, starts this binary's `serve`, carries the
/// site and user from the environment, and never the token.
#[test]
fn setup_prints_each_clients_configuration_without_the_token() {
    let secret = "test-credential-value-not-to-be-printed";
    let run = |client: &str| {
        let o = Command::new(BIN)
            .args(["setup", client, "--read-only", "--tools", "pages,search"])
            .env_clear()
            .env("CONFLUENCE_URL", "https://acme.atlassian.net")
            .env("CONFLUENCE_USERNAME", "ann@acme.example")
            .env("CONFLUENCE_API_TOKEN", secret)
            .output()
            .unwrap();
        assert!(o.status.success(), "{client}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            !out.contains(secret) && !stderr(&o).contains(secret),
            "{client}: token printed"
        );
        out
    };
    let bin = std::fs::canonicalize(BIN).unwrap().display().to_string();
    let check = |client: &str, server: &Value| {
        assert_eq!(
            server["command"].as_str(),
            Some(bin.as_str()),
            "{client}: {server}"
        );
        assert_eq!(
            server["args"],
            json!(["serve", "--read-only", "--tools", "pages,search"]),
            "{client}"
        );
        assert_eq!(
            server["env"]["CONFLUENCE_URL"], "https://acme.atlassian.net",
            "{client}"
        );
        assert_eq!(
            server["env"]["CONFLUENCE_USERNAME"], "ann@acme.example",
            "{client}"
        );
    };
    for (client, key) in [
        ("claude-desktop", "mcpServers"),
        ("claude-code", "mcpServers"),
        ("vscode", "servers"),
        ("cursor", "mcpServers"),
        ("windsurf", "mcpServers"),
    ] {
        let out = run(client);
        let v: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{client}: {e}\n{out}"));
        check(client, &v[key]["confluence"]);
        insta::assert_snapshot!(format!("setup_{client}"), out.replace(&bin, "{conflux}"));
    }
    let vscode: Value = serde_json::from_str(&run("vscode")).unwrap();
    assert_eq!(
        vscode["servers"]["confluence"]["env"]["CONFLUENCE_API_TOKEN"],
        "${input:confluence-api-token}"
    );
    assert_eq!(vscode["inputs"][0]["password"], true);
    let out = run("codex");
    let v: toml::Table = toml::from_str(&out).unwrap_or_else(|e| panic!("codex: {e}\n{out}"));
    let server = serde_json::to_value(&v["mcp_servers"]["confluence"]).unwrap();
    check("codex", &server);
    insta::assert_snapshot!("setup_codex", out.replace(&bin, "{conflux}"));
    // A tool that does not exist is a mistake on the command line.
    let o = Command::new(BIN)
        .args(["setup", "cursor", "--tools", "nope"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// The SHA-256 of what renames the release binary's symbols: `Cargo.lock` and every manifest
/// (versions, features, profiles), as bench/mcp/startup-order.py computes it.
fn manifests_digest(root: &std::path::Path) -> String {
    use sha2::{Digest, Sha256};
    let mut paths = vec!["Cargo.lock".to_string(), "Cargo.toml".to_string()];
    let mut crates: Vec<String> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| root.join("crates").join(name).join("Cargo.toml").is_file())
        .map(|name| format!("crates/{name}/Cargo.toml"))
        .collect();
    crates.sort();
    paths.extend(crates);
    let mut h = Sha256::new();
    for rel in paths {
        h.update(rel.as_bytes());
        h.update([0]);
        h.update(std::fs::read(root.join(&rel)).unwrap());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The start-up function list (crates/cli/startup-order.txt) names symbols whose hashes come
/// from the manifests and the dependency graph; when those change, the names go stale and the
/// link silently places nothing: the RSS after start grew from 5.6 to 9.8 MiB that way (the
/// limit is 10). The list records the digest it was written for.
#[test]
fn startup_order_list_matches_the_manifests() {
    let cli = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = cli.parent().unwrap().parent().unwrap();
    let list = std::fs::read_to_string(cli.join("startup-order.txt")).unwrap();
    let recorded = list
        .lines()
        .find_map(|l| l.strip_prefix("# manifests "))
        .expect("the list records the manifests' digest");
    assert_eq!(
        recorded,
        manifests_digest(root),
        "Cargo.lock or a Cargo.toml changed since crates/cli/startup-order.txt was written: run \
         bench/mcp/startup-order.py (valgrind, a release build's time), then check with \
         `bench/mcp/startup-order.py --check` (docs/mcp.md, \"Start-up code side by side\")"
    );
}
