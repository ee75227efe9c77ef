//! What the MCP benchmarks share: percentiles, units, and what Linux says about a process
//! (`/proc/PID/status`, `/proc/PID/fd`) and the machine.

use std::time::Duration;

use anyhow::Context;

/// Nearest-rank percentile.
pub fn pct(v: &[Duration], p: usize) -> Duration {
    let mut s = v.to_vec();
    s.sort();
    if s.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * s.len()).div_ceil(100).max(1);
    s[rank - 1]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// The process's resident set (VmRSS), in KiB.
pub fn vm_rss_kb(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("/proc/PID/status (Linux only)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("VmRSS in /proc/PID/status")
}

/// The process's open file descriptors (sockets included).
pub fn open_fds(pid: u32) -> anyhow::Result<usize> {
    proc_entries(pid, "fd")
}

/// How many entries `/proc/PID/DIR` has.
fn proc_entries(pid: u32, dir: &str) -> anyhow::Result<usize> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/{dir}"))
        .with_context(|| format!("/proc/PID/{dir} (Linux only)"))?
        .count())
}

/// CPU time the process has used (user + system), from `/proc/PID/stat` at 100 ticks a
/// second (Linux's USER_HZ).
pub fn cpu_time(pid: u32) -> anyhow::Result<std::time::Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .context("/proc/PID/stat (Linux only)")?;
    // The command name may hold spaces; the fields after it are space-separated.
    let rest = stat.rsplit_once(')').context("/proc/PID/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("/proc/PID/stat fields")?.parse()?)
    };
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    Ok(std::time::Duration::from_millis(
        (ticks(11)? + ticks(12)?) * 10,
    ))
}

/// Context switches of all the process's threads so far (voluntary, involuntary), from
/// `/proc/PID/task/*/status`; threads that have ended are not counted.
pub fn context_switches(pid: u32) -> anyhow::Result<(u64, u64)> {
    let mut total = (0, 0);
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).context("/proc/PID/task")? {
        let Ok(status) = std::fs::read_to_string(task?.path().join("status")) else {
            continue;
        };
        for line in status.lines() {
            if let Some(n) = line.strip_prefix("voluntary_ctxt_switches:") {
                total.0 += n.trim().parse::<u64>()?;
            } else if let Some(n) = line.strip_prefix("nonvoluntary_ctxt_switches:") {
                total.1 += n.trim().parse::<u64>()?;
            }
        }
    }
    Ok(total)
}

/// Threads of the process now.
pub fn threads(pid: u32) -> anyhow::Result<usize> {
    proc_entries(pid, "task")
}

pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Other work on the machine skews the figures; the report says how busy it was.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}
