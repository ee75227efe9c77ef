//! Test support (feature `test-support`): a throwaway Postgres server on loopback.
//!
//! Tests of every crate that needs Postgres start one with [`PgServer::start_or_skip`]. It
//! runs Debian's `initdb` and `postgres` from `/usr/lib/postgresql/<version>/bin` in a
//! temporary directory, as the `postgres` user when the tests run as root (initdb refuses
//! root), listening on a free loopback port with its socket inside the directory. The server
//! stops when the value is dropped, and in any case when the test process ends. Tests of one
//! binary may share a server through [`PgServer::shared_or_skip`]. Without the binaries the
//! test is skipped with a printed reason, unless `CI=true`, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running throwaway Postgres server.
#[derive(Debug)]
pub struct PgServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

const SUPERUSER: &str = "conflux";

impl PgServer {
    /// Starts a server, or returns `None` (after printing why) when Postgres is not installed
    /// and `CI` is not `true`. Panics on any other failure: a test that meant to use Postgres
    /// must not pass without it.
    pub async fn start_or_skip(test: &str) -> Option<PgServer> {
        let bin = bin_dir_or_skip(test)?;
        Some(PgServer::start(&bin).await)
    }

    /// One server for every test of this test binary that asks, started by the first; each
    /// test makes its own database on it. `None` (after printing why, for each test) when
    /// Postgres is not installed, as [`PgServer::start_or_skip`]. Being static, the value is
    /// never dropped: the server stops when the test process ends.
    pub async fn shared_or_skip(test: &str) -> Option<&'static PgServer> {
        static SHARED: tokio::sync::OnceCell<PgServer> = tokio::sync::OnceCell::const_new();
        let bin = bin_dir_or_skip(test)?;
        Some(SHARED.get_or_init(|| PgServer::start(&bin)).await)
    }

    async fn start(bin: &Path) -> PgServer {
        let dir = tempfile::Builder::new()
            .prefix("conflux-pg-")
            .tempdir()
            .unwrap_or_else(|e| panic!("temp dir for Postgres: {e}"));
        let owner = run_as();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown the Postgres temp dir to postgres: {e}"));
        }
        let data = dir.path().join("data");
        let out = command(bin.join("initdb"), owner)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("running initdb: {e}"));
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("postgres.log"))
            .unwrap_or_else(|e| panic!("Postgres log file: {e}"));
        // Postgres runs under a shell that stops it (fast shutdown) and removes the directory
        // once its stdin closes: when this value is dropped, or when the test process ends in
        // any way (a shared server is never dropped; a test may be killed).
        let child = command(PathBuf::from("/bin/sh"), owner)
            .args(["-c", SUPERVISOR, "sh"])
            .arg(dir.path())
            .arg(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting postgres: {e}"));
        let server = PgServer { child, port, dir };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        use sqlx::Connection as _;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match sqlx::PgConnection::connect(&self.url("postgres")).await {
                Ok(c) => {
                    let _ = c.close().await;
                    return;
                }
                Err(e) if Instant::now() > deadline => {
                    let log = std::fs::read_to_string(self.dir.path().join("postgres.log"))
                        .unwrap_or_default();
                    panic!("Postgres did not come up: {e}\n{log}");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh database and returns its URL.
    pub async fn create_database(&self, db: &str) -> String {
        use sqlx::Connection as _;
        let mut admin = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap_or_else(|e| panic!("connecting to Postgres: {e}"));
        sqlx::query(&format!("CREATE DATABASE \"{db}\""))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {db}: {e}"));
        let _ = admin.close().await;
        self.url(db)
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Runs `$2...` (postgres) in the background until stdin closes, then stops it with SIGINT
/// (Postgres's fast shutdown) and removes the directory `$1`. It ignores SIGINT itself, so a
/// Ctrl-C (which Postgres handles) still ends in the clean-up.
const SUPERVISOR: &str = r#"trap '' INT
dir=$1; shift
"$@" & pid=$!
cat >/dev/null
kill -INT "$pid" 2>/dev/null
wait "$pid"
rm -rf "$dir""#;

impl Drop for PgServer {
    fn drop(&mut self) {
        // Closing the supervisor's stdin stops Postgres; fall back to SIGKILL.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let pid = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))
            .ok()
            .and_then(|s| s.lines().next().map(str::to_string));
        if let Some(pid) = pid {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The Postgres binaries, or `None` after saying why the test cannot run (a failure when
/// `CI=true`).
fn bin_dir_or_skip(test: &str) -> Option<PathBuf> {
    let bin = find_bin_dir();
    if bin.is_none() {
        let reason = "Postgres binaries not found under /usr/lib/postgresql/*/bin \
                      (install Debian's `postgresql` package)";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{test}: {reason}; CI=true forbids skipping");
        }
        // Straight to stderr: the test harness captures `eprintln!` and shows it only when a
        // test fails, so a skip would pass silently.
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {reason}");
    }
    bin
}

fn find_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The postgres user's uid and gid when running as root.
fn run_as() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt as _;
    let me = std::fs::metadata("/proc/self").ok()?.uid();
    if me != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"));
    let Some(line) = line else {
        panic!("running as root but there is no `postgres` user to run initdb as");
    };
    let fields: Vec<&str> = line.split(':').collect();
    let uid = fields.get(2)?.parse().ok()?;
    let gid = fields.get(3)?.parse().ok()?;
    Some((uid, gid))
}

fn command(program: PathBuf, owner: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt as _;
    let mut c = Command::new(program);
    if let Some((uid, gid)) = owner {
        c.uid(uid).gid(gid);
        c.env("HOME", "/tmp");
    }
    c.current_dir("/tmp");
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("finding a free port: {e}"))
}
