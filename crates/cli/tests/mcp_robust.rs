//! No input takes `conflux serve` down and every message gets an answer, through the built
//! binary: malformed JSON-RPC over stdio (raw lines, no MCP client in between) and over
//! streamable HTTP (raw POSTs), each answered with its JSON-RPC error and followed by a
//! request that still works; a panic inside a tool call answered as that call's error, with
//! the next call served; a client that closes stdout ends the process quietly; and
//! `--files-root` reaching the tools.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Stdio;
use std::time::Duration;

use conflux_testkit::mcp::{call, text};
use rmcp::ServiceExt;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_conflux");
/// What a tool call that panicked answers (conflux_mcp::INTERNAL_ERROR).
const INTERNAL_ERROR: &str =
    "internal error in Conflux: this call failed and nothing else was affected; please report it";
/// The tool that panics, in debug builds only (conflux_mcp::DEBUG_PANIC_TOOL).
#[cfg(debug_assertions)]
const DEBUG_PANIC_TOOL: &str = "__conflux_debug_panic";
/// Generous bounds against a hung server; no test depends on how long anything takes.
const PATIENCE: Duration = Duration::from_secs(60);

/// `conflux --demo ...` with none of the environment that shapes `serve`.
fn conflux(args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for var in [
        "CONFLUX_TOOLS",
        "CONFLUX_READ_ONLY",
        "READ_ONLY_MODE",
        "CONFLUX_HTTP",
        "CONFLUX_ALLOW_SPACES",
        "CONFLUENCE_SPACES_FILTER",
        "CONFLUX_DENY_SPACES",
        "CONFLUX_READ_ONLY_SPACES",
        "CONFLUX_FILES_ROOT",
        "CONFLUX_DATABASE_URL",
        "CONFLUX_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.kill_on_drop(true);
    cmd
}

fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "mcp-robust-test", "version": "1"}}})
}

fn tool_call(id: u64, name: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": arguments}})
}

fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line that is not a JSON-RPC message, and the error code and id its answer must carry.
struct Malformed {
    what: &'static str,
    bytes: Vec<u8>,
    code: i64,
    id: Value,
}

fn malformed() -> Vec<Malformed> {
    let case = |what, bytes: &[u8], code, id| Malformed {
        what,
        bytes: bytes.to_vec(),
        code,
        id,
    };
    vec![
        case(
            "invalid UTF-8",
            b"\xff\xfe{\"jsonrpc\":\"2.0\"}",
            -32700,
            Value::Null,
        ),
        case(
            "truncated JSON",
            br#"{"jsonrpc":"2.0","id":2,"method":"tools/list""#,
            -32700,
            Value::Null,
        ),
        case(
            "a lone surrogate",
            br#"{"jsonrpc":"2.0","id":3,"method":"ping","params":{"s":"\ud800"}}"#,
            -32700,
            Value::Null,
        ),
        case("garbage", b"hello, server", -32700, Value::Null),
        case(
            "missing jsonrpc",
            br#"{"id":4,"method":"ping"}"#,
            -32600,
            json!(4),
        ),
        case(
            "method of the wrong type",
            br#"{"jsonrpc":"2.0","id":5,"method":5}"#,
            -32600,
            json!(5),
        ),
        case(
            "params of the wrong type",
            br#"{"jsonrpc":"2.0","id":6,"method":"tools/list","params":"all"}"#,
            -32600,
            json!(6),
        ),
        case(
            "tools/call with a numeric name",
            br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":7}}"#,
            -32602,
            json!(7),
        ),
        case(
            "a batch",
            br#"[{"jsonrpc":"2.0","id":8,"method":"ping"}]"#,
            -32600,
            Value::Null,
        ),
        case("a number", b"42", -32600, Value::Null),
    ]
}

/// One line over the 4 MiB limit.
fn oversized() -> Vec<u8> {
    let pad = "x".repeat(4 * 1024 * 1024);
    format!(r#"{{"jsonrpc":"2.0","id":9,"method":"ping","params":{{"pad":"{pad}"}}}}"#).into_bytes()
}

fn assert_error(answer: &Value, code: i64, id: &Value, what: &str) {
    assert_eq!(answer["jsonrpc"], "2.0", "{what}: {answer}");
    assert_eq!(answer["error"]["code"], code, "{what}: {answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{what}: {answer}"
    );
    let object = answer.as_object().unwrap();
    assert_eq!(object.get("id"), Some(id), "{what}: id in {answer}");
}

/// The server over its stdio, spoken to line by line.
struct StdioServer {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: tokio::task::JoinHandle<String>,
}

impl StdioServer {
    fn start(args: &[&str]) -> StdioServer {
        let mut child = conflux(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("conflux starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s).await;
            s
        });
        StdioServer {
            child,
            stdin,
            stdout,
            stderr,
        }
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    async fn send(&mut self, message: &Value) {
        self.send_raw(message.to_string().as_bytes()).await;
    }

    /// The next line on stdout, which must be JSON.
    async fn answer(&mut self) -> Value {
        let line = tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .expect("an answer")
            .unwrap()
            .expect("stdout still open");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// Closes stdin and waits for a clean exit; returns stderr.
    async fn finish(mut self) -> String {
        drop(self.stdin);
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("the server exits once stdin closes")
            .unwrap();
        assert!(status.success(), "exit status {status}");
        let rest = tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rest, None, "nothing more on stdout");
        self.stderr.await.unwrap()
    }
}

#[tokio::test]
async fn stdio_answers_every_malformed_line_and_keeps_serving() {
    let mut s = StdioServer::start(&["--demo", "serve"]);
    // Before initialize: a stray notification is dropped and garbage answered, and the
    // handshake still happens.
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;
    s.send_raw(b"not yet").await;
    assert_error(
        &s.answer().await,
        -32700,
        &Value::Null,
        "garbage before initialize",
    );
    s.send(&initialize(1)).await;
    let init = s.answer().await;
    assert_eq!(init["id"], 1);
    assert_eq!(init["result"]["serverInfo"]["name"], "conflux", "{init}");
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    for m in malformed() {
        s.send_raw(&m.bytes).await;
        assert_error(&s.answer().await, m.code, &m.id, m.what);
    }
    s.send_raw(&oversized()).await;
    let answer = s.answer().await;
    assert_error(&answer, -32600, &Value::Null, "a line over 4 MiB");
    assert_eq!(
        answer["error"]["data"]["limit"],
        4 * 1024 * 1024,
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4194304"),
        "{answer}"
    );

    // JSON-RPC answers no notification and no response: the next line is the ping's.
    s.send(&json!({"jsonrpc": "2.0", "method": "notifications/no_such_thing"}))
        .await;
    s.send(&json!({"jsonrpc": "2.0", "id": 99, "result": {}}))
        .await;
    s.send(&json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "echo"}}))
        .await;
    s.send(&json!({"jsonrpc": "2.0", "id": 10, "method": "ping"}))
        .await;
    let pong = s.answer().await;
    assert_eq!(pong["id"], 10, "{pong}");
    assert!(pong["result"].is_object(), "{pong}");

    // After all that, a normal session.
    s.send(&json!({"jsonrpc": "2.0", "id": 11, "method": "tools/list"}))
        .await;
    let tools = s.answer().await;
    assert_eq!(tools["id"], 11);
    assert_eq!(
        tools["result"]["tools"].as_array().map(Vec::len),
        Some(conflux_ops::catalog::TOOLS.len()),
        "{tools}"
    );
    s.send(&tool_call(
        12,
        "spaces",
        json!({"action": "list", "limit": 1}),
    ))
    .await;
    let spaces = s.answer().await;
    assert_eq!(spaces["id"], 12);
    assert_eq!(spaces["result"]["isError"], false, "{spaces}");
    s.finish().await;
}

/// A panic inside one tool call is that call's tool error; the server carries on.
#[cfg(debug_assertions)]
#[tokio::test]
async fn stdio_a_panicking_call_is_answered_and_the_next_call_served() {
    let mut s = StdioServer::start(&["--demo", "serve"]);
    s.send(&initialize(1)).await;
    assert_eq!(s.answer().await["id"], 1);
    s.send(&tool_call(2, DEBUG_PANIC_TOOL, json!({}))).await;
    let panicked = s.answer().await;
    assert_eq!(panicked["id"], 2, "{panicked}");
    assert_eq!(panicked["result"]["isError"], true, "{panicked}");
    assert!(
        text_of(&panicked["result"]).contains(INTERNAL_ERROR),
        "{panicked}"
    );
    s.send(&tool_call(
        3,
        "spaces",
        json!({"action": "list", "limit": 1}),
    ))
    .await;
    let next = s.answer().await;
    assert_eq!(next["id"], 3);
    assert_eq!(next["result"]["isError"], false, "{next}");
    let logs = s.finish().await;
    assert!(logs.contains("a tool call panicked"), "logged: {logs}");
}

/// The client closes the server's stdout and keeps stdin open: the next answer fails to
/// write, and the process ends by itself, with no panic text.
#[tokio::test]
async fn stdio_a_closed_stdout_ends_the_process_quietly() {
    let mut s = StdioServer::start(&["--demo", "serve"]);
    s.send(&initialize(1)).await;
    assert_eq!(s.answer().await["id"], 1);
    let StdioServer {
        mut child,
        mut stdin,
        stdout,
        stderr,
    } = s;
    drop(stdout);
    for id in 2..5 {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"});
        // The server may be gone already, closing its stdin.
        if stdin
            .write_all(format!("{request}\n").as_bytes())
            .await
            .is_err()
        {
            break;
        }
        let _ = stdin.flush().await;
    }
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the server exits while its stdin is still open")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let logs = stderr.await.unwrap();
    assert!(!logs.contains("panicked"), "panic text: {logs}");
    assert!(!logs.contains("ERROR"), "error logs: {logs}");
    drop(stdin);
}

/// The requests of a short stdio session, one line each, and the ids their answers carry.
fn short_session() -> (String, Vec<u64>) {
    let lines = [
        initialize(1),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        tool_call(3, "spaces", json!({"action": "list", "limit": 1})),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    (text, vec![1, 2, 3])
}

fn answer_ids(output: &str) -> Vec<u64> {
    output
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            assert!(v.get("result").is_some(), "an error answer: {v}");
            v["id"].as_u64().unwrap()
        })
        .collect()
}

/// Stdin and stdout that are pipes are read and written by the runtime; anything else (a
/// file here) by the fallbacks. Every combination serves a whole session and, once stdin
/// ends, answers everything it read before exiting.
#[tokio::test]
async fn stdio_serves_pipes_files_and_a_mix_to_the_end_of_input() {
    let dir = tempfile::tempdir().unwrap();
    let (requests, ids) = short_session();
    let input = dir.path().join("requests.jsonl");
    std::fs::write(&input, &requests).unwrap();
    for (stdin_file, stdout_file) in [(true, true), (true, false), (false, true), (false, false)] {
        let what = format!(
            "stdin a {}, stdout a {}",
            if stdin_file { "file" } else { "pipe" },
            if stdout_file { "file" } else { "pipe" }
        );
        let output = dir
            .path()
            .join(format!("answers-{stdin_file}-{stdout_file}.jsonl"));
        let mut cmd = conflux(&["--demo", "serve"]);
        cmd.stderr(Stdio::null());
        cmd.stdin(if stdin_file {
            Stdio::from(std::fs::File::open(&input).unwrap())
        } else {
            Stdio::piped()
        });
        cmd.stdout(if stdout_file {
            Stdio::from(std::fs::File::create(&output).unwrap())
        } else {
            Stdio::piped()
        });
        let mut child = cmd.spawn().expect("conflux starts");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(requests.as_bytes()).await.unwrap();
            // Dropped: the end of input.
        }
        let mut piped = String::new();
        if let Some(mut stdout) = child.stdout.take() {
            tokio::time::timeout(PATIENCE, stdout.read_to_string(&mut piped))
                .await
                .unwrap_or_else(|_| panic!("{what}: no end of output"))
                .unwrap();
        }
        let status = tokio::time::timeout(PATIENCE, child.wait())
            .await
            .unwrap_or_else(|_| panic!("{what}: still running at the end of its input"))
            .unwrap();
        assert!(status.success(), "{what}: exit status {status}");
        let answers = if stdout_file {
            std::fs::read_to_string(&output).unwrap()
        } else {
            piped
        };
        assert_eq!(answer_ids(&answers), ids, "{what}: {answers}");
    }
}

/// A pipe is non-blocking while the server reads and writes it from the runtime, and that
/// flag belongs to the pipe, not to the process: whoever shares the pipe after the session
/// (a shell's next command writing to the same stdout) must find it blocking again.
#[cfg(unix)]
#[tokio::test]
async fn stdio_gives_its_pipes_back_blocking() {
    use rustix::fs::{OFlags, fcntl_getfl};
    let (reader, writer) = std::io::pipe().unwrap();
    let shared = writer.try_clone().unwrap();
    let (stdin_reader, mut stdin_writer) = std::io::pipe().unwrap();
    let shared_in = stdin_reader.try_clone().unwrap();
    let mut child = conflux(&["--demo", "serve"])
        .stdin(Stdio::from(stdin_reader))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::null())
        .spawn()
        .expect("conflux starts");
    let mut answers = std::io::BufReader::new(reader);
    {
        use std::io::{BufRead, Write};
        writeln!(stdin_writer, "{}", initialize(1)).unwrap();
        stdin_writer.flush().unwrap();
        let mut line = String::new();
        let read = tokio::task::spawn_blocking(move || {
            answers.read_line(&mut line).unwrap();
            (answers, line)
        });
        let (back, line) = tokio::time::timeout(PATIENCE, read).await.unwrap().unwrap();
        answers = back;
        let first: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(first["id"], 1, "{first}");
    }
    // In the session: the runtime's own, non-blocking.
    assert!(
        fcntl_getfl(&shared).unwrap().contains(OFlags::NONBLOCK),
        "stdout"
    );
    assert!(
        fcntl_getfl(&shared_in).unwrap().contains(OFlags::NONBLOCK),
        "stdin"
    );
    drop(stdin_writer);
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the server exits at the end of its input")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(
        !fcntl_getfl(&shared).unwrap().contains(OFlags::NONBLOCK),
        "stdout left non-blocking"
    );
    assert!(
        !fcntl_getfl(&shared_in).unwrap().contains(OFlags::NONBLOCK),
        "stdin left non-blocking"
    );
    drop(answers);
}

/// Stdout and stderr on one pipe (`2>&1`): making stdout non-blocking would make stderr so
/// too, and a log line meeting a full pipe would fail instead of waiting. Such a stdout is
/// written the blocking way, and the session still answers.
#[cfg(unix)]
#[tokio::test]
async fn stdio_leaves_a_pipe_it_shares_with_stderr_blocking() {
    use rustix::fs::{OFlags, fcntl_getfl};
    let (reader, writer) = std::io::pipe().unwrap();
    let shared = writer.try_clone().unwrap();
    let to_stderr = writer.try_clone().unwrap();
    let (requests, ids) = short_session();
    let mut child = conflux(&["--demo", "serve"])
        .env("CONFLUX_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(to_stderr))
        .spawn()
        .expect("conflux starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(requests.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    let mut lines = std::io::BufReader::new(reader);
    let (lines, first) = tokio::time::timeout(
        PATIENCE,
        tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut line = String::new();
            loop {
                line.clear();
                assert!(lines.read_line(&mut line).unwrap() > 0, "no answer");
                if is_answer(&line) {
                    return (lines, line);
                }
            }
        }),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(!first.is_empty());
    assert!(
        !fcntl_getfl(&shared).unwrap().contains(OFlags::NONBLOCK),
        "stdout shared with stderr made non-blocking"
    );
    drop(stdin);
    drop(shared);
    let rest = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut lines = lines;
        let mut rest = String::new();
        lines.read_to_string(&mut rest).unwrap();
        rest
    });
    let status = tokio::time::timeout(PATIENCE, child.wait())
        .await
        .expect("the server exits at the end of its input")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let rest = tokio::time::timeout(PATIENCE, rest).await.unwrap().unwrap();
    let answers: String = std::iter::once(first.as_str())
        .chain(rest.lines().filter(|l| is_answer(l)))
        .flat_map(|l| [l.trim_end(), "\n"])
        .collect();
    assert_eq!(answer_ids(&answers), ids, "{answers}");
}

/// A JSON-RPC answer, not a log line.
fn is_answer(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|v| v.get("jsonrpc").is_some())
}

/// `conflux --demo serve --http 127.0.0.1:0` with its store in `dir`, and its MCP endpoint's
/// URL.
async fn start_http(dir: &std::path::Path) -> (Child, String, tokio::task::JoinHandle<String>) {
    let db = dir.join("conflux.db").display().to_string();
    let mut child = conflux(&[
        "--demo",
        "serve",
        "--http",
        "127.0.0.1:0",
        "--database-url",
        &db,
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .expect("conflux starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = tokio::time::timeout(PATIENCE, async {
        while let Some(line) = stderr.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("conflux: MCP endpoint ") {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("conflux exited without naming its MCP endpoint");
    })
    .await
    .expect("the server comes up");
    let logs = tokio::spawn(async move {
        let mut all = String::new();
        while let Ok(Some(line)) = stderr.next_line().await {
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    (child, url, logs)
}

async fn post(http: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, Option<String>, Value) {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let text = r.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, content_type, value)
}

#[tokio::test]
async fn http_answers_every_malformed_post_and_keeps_serving() {
    conflux_testkit::install_crypto();
    let store = tempfile::tempdir().unwrap();
    let (child, url, logs) = start_http(store.path()).await;
    let http = reqwest::Client::new();
    for m in malformed() {
        let (status, content_type, answer) = post(&http, &url, m.bytes.clone()).await;
        assert_eq!(status, 400, "{}: {answer}", m.what);
        assert_eq!(
            content_type.as_deref(),
            Some("application/json"),
            "{}",
            m.what
        );
        assert_error(&answer, m.code, &m.id, m.what);
    }
    let (status, content_type, answer) = post(&http, &url, oversized()).await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(content_type.as_deref(), Some("application/json"));
    assert_error(&answer, -32600, &Value::Null, "a body over 4 MiB");
    assert_eq!(
        answer["error"]["data"]["limit"],
        4 * 1024 * 1024,
        "{answer}"
    );

    // A normal session afterwards, and a panicking call in it.
    let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.clone());
    let mcp = tokio::time::timeout(PATIENCE, ().serve(transport))
        .await
        .unwrap()
        .expect("MCP handshake over HTTP");
    let tools = mcp.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), conflux_ops::catalog::TOOLS.len());
    #[cfg(debug_assertions)]
    {
        let panicked = call(&mcp, DEBUG_PANIC_TOOL, json!({})).await;
        assert_eq!(panicked.is_error, Some(true));
        assert!(
            text(&panicked).contains(INTERNAL_ERROR),
            "{}",
            text(&panicked)
        );
    }
    let spaces = call(&mcp, "spaces", json!({"action": "list", "limit": 1})).await;
    assert_ne!(spaces.is_error, Some(true), "{}", text(&spaces));
    mcp.cancel().await.unwrap();
    drop(child);
    let logs = logs.await.unwrap();
    if cfg!(debug_assertions) {
        assert!(logs.contains("a tool call panicked"), "logged: {logs}");
    }
}

/// `--files-root` reaches the tools over stdio: a file under it is read, `..` is refused.
#[tokio::test]
async fn files_root_flag_lets_the_tools_read_under_it_only() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("body.md"), "Written by the person.\n").unwrap();
    std::fs::write(work.path().join("private.md"), "not for agents\n").unwrap();
    let root_arg = root.display().to_string();
    let mut s = StdioServer::start(&["--demo", "serve", "--files-root", &root_arg]);
    s.send(&initialize(1)).await;
    assert_eq!(s.answer().await["id"], 1);
    s.send(&tool_call(
        2,
        "spaces",
        json!({"action": "get", "key": "ENG"}),
    ))
    .await;
    let space = s.answer().await;
    let space_id = space["result"]["structuredContent"]["space"]["id"].clone();
    assert!(space_id.is_string(), "{space}");
    s.send(&tool_call(
        3,
        "pages",
        json!({"action": "create", "spaceId": space_id, "title": "From a file", "bodyFile": "body.md"}),
    ))
    .await;
    let created = s.answer().await;
    assert_eq!(created["result"]["isError"], false, "{created}");
    s.send(&tool_call(
        4,
        "pages",
        json!({"action": "create", "spaceId": space_id, "title": "Never", "bodyFile": "../private.md"}),
    ))
    .await;
    let refused = s.answer().await;
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    let text = text_of(&refused["result"]);
    assert!(text.starts_with("error (policy)"), "{text}");
    assert!(!text.contains("not for agents"), "{text}");
    s.finish().await;
}
