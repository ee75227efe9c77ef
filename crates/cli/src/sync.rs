//! `conflux export` and `conflux publish`: a space as a folder of Markdown, and back. Thin: the
//! work is conflux-sync's; this shows its progress (a bar on a terminal, JSON lines with
//! `-o json`, else quiet) and its summary.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::Mutex;

use conflux_ops::Ops;
use conflux_sync::{Event, Progress};

use crate::output::Printer;
use crate::stdout::outln;

#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    /// The space's key (or id).
    #[arg(long)]
    pub space: String,
    /// The folder to export into (created when missing; a second run updates it).
    pub dir: PathBuf,
    /// Pages worked on at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Fetch every body and attachment again, whatever the folder's state says.
    #[arg(long)]
    pub full: bool,
}

/// How a run's events are shown.
enum Shown {
    Bar(indicatif::ProgressBar),
    JsonLines,
    Quiet,
}

struct Reporter {
    shown: Shown,
    /// Warnings and failures, printed after the bar in text mode.
    notes: Mutex<Vec<String>>,
}

impl Reporter {
    fn new(out: &Printer) -> Reporter {
        let shown = if out.is_json() {
            Shown::JsonLines
        } else if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {pos}/{len} {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            Shown::Bar(bar)
        } else {
            Shown::Quiet
        };
        Reporter {
            shown,
            notes: Mutex::new(Vec::new()),
        }
    }

    fn finish(&self) {
        if let Shown::Bar(bar) = &self.shown {
            bar.finish_and_clear();
        }
        if !matches!(self.shown, Shown::JsonLines) {
            for n in self.notes.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                eprintln!("{n}");
            }
        }
    }
}

impl Progress for Reporter {
    fn event(&self, event: &Event) {
        match &self.shown {
            Shown::JsonLines => {
                if let Ok(line) = serde_json::to_string(event) {
                    let _ = outln!("{line}");
                }
                return;
            }
            Shown::Bar(bar) => match event {
                Event::Planned { total } => bar.set_length(*total as u64),
                Event::Page { path, .. } => {
                    bar.inc(1);
                    bar.set_message(path.clone());
                }
                Event::Failed { .. } => bar.inc(1),
                Event::Warning { .. } => {}
            },
            Shown::Quiet => {}
        }
        let note = match event {
            Event::Failed { path, error } => Some(format!("failed: {path}: {error}")),
            Event::Warning { message } => Some(format!("warning: {message}")),
            _ => None,
        };
        if let Some(n) = note {
            self.notes.lock().unwrap_or_else(|e| e.into_inner()).push(n);
        }
    }
}

/// Keeps an action's refusal an [`conflux_ops::OpError`] (its exit code and hint), and says
/// the fix for the rest.
fn error(e: conflux_sync::SyncError) -> anyhow::Error {
    match e {
        conflux_sync::SyncError::Op(op) => op.into(),
        conflux_sync::SyncError::Client(c) => c.into(),
        other => {
            let hint = other.hint();
            anyhow::anyhow!("{other}").context(format!("hint: {hint}"))
        }
    }
}

pub async fn export(ops: &Ops, out: &Printer, args: &ExportArgs) -> anyhow::Result<()> {
    let reporter = Reporter::new(out);
    let options = conflux_sync::ExportOptions {
        concurrency: args.concurrency.max(1),
        full: args.full,
    };
    let result = conflux_sync::export(ops, &args.space, &args.dir, &options, &reporter).await;
    reporter.finish();
    let summary = result.map_err(error)?;
    if out.is_json() {
        let line = serde_json::json!({ "event": "done", "summary": summary });
        outln!("{line}")?;
    } else {
        outln!(
            "{}: {} nodes, {} written, {} unchanged, {} bodies and {} attachments fetched, {} removed",
            args.dir.display(),
            summary.nodes,
            summary.written,
            summary.unchanged,
            summary.bodies_fetched,
            summary.attachments_downloaded,
            summary.removed
        )?;
    }
    Ok(())
}

#[derive(clap::Args, Debug, Clone)]
pub struct PublishArgs {
    /// The folder to publish (Conflux's export, or files with mark's or md2conf's headers).
    pub dir: PathBuf,
    /// The space's key (default: the space the folder was exported from).
    #[arg(long)]
    pub space: Option<String>,
    /// Print what would change, page by page, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Overwrite pages edited in Confluence since the last export or publish.
    #[arg(long)]
    pub force: bool,
    /// Delete (to the trash) pages the folder once had and no longer has.
    #[arg(long)]
    pub prune: bool,
    /// Files worked on at once (siblings are still created in the folder's order).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

/// One page's line: what changed, in words.
fn describe(change: &conflux_sync::Change) -> String {
    use conflux_sync::Change as C;
    match change {
        C::Create => "create".into(),
        C::CreateFolder => "create folder".into(),
        C::CreateParent { title } => format!("create parent {title:?}"),
        C::Body => "body".into(),
        C::Title { from, to } => format!("title {from:?} -> {to:?}"),
        C::Move { from, to } => format!(
            "parent {} -> {}",
            from.as_deref().unwrap_or("(top)"),
            to.as_deref().unwrap_or("(top)")
        ),
        C::LabelsAdded { labels } => format!("labels +{}", labels.join(" +")),
        C::LabelsRemoved { labels } => format!("labels -{}", labels.join(" -")),
        C::Attachment { name, new } => {
            format!("attachment {name}{}", if *new { " (new)" } else { "" })
        }
        C::Delete => "delete".into(),
    }
}

pub async fn publish(ops: &Ops, out: &Printer, args: &PublishArgs) -> anyhow::Result<()> {
    let reporter = Reporter::new(out);
    let options = conflux_sync::PublishOptions {
        dry_run: args.dry_run,
        force: args.force,
        prune: args.prune,
        concurrency: args.concurrency.max(1),
    };
    let result =
        conflux_sync::publish(ops, &args.dir, args.space.as_deref(), &options, &reporter).await;
    reporter.finish();
    let summary = result.map_err(error)?;
    if out.is_json() {
        let line = serde_json::json!({ "event": "done", "summary": summary });
        outln!("{line}")?;
    } else {
        let would = if summary.dry_run { "would " } else { "" };
        for p in &summary.pages {
            if let Some(c) = &p.conflict {
                outln!(
                    "conflict  {}: the folder has version {}, Confluence has version {}{}{}",
                    p.path,
                    c.local_base_version
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "?".into()),
                    c.remote_version,
                    c.remote_author
                        .as_deref()
                        .map(|a| format!(" by {a}"))
                        .unwrap_or_default(),
                    c.remote_date
                        .as_deref()
                        .map(|d| format!(" at {d}"))
                        .unwrap_or_default()
                )?;
                outln!("{}", c.diff)?;
            } else if let Some(e) = &p.error {
                outln!("failed    {}: {e}", p.path)?;
            } else if let Some(s) = &p.skipped {
                outln!("skipped   {}: {s}", p.path)?;
            } else if !p.changes.is_empty() {
                let what: Vec<String> = p.changes.iter().map(describe).collect();
                outln!("{would}change {}: {}", p.path, what.join(", "))?;
            }
            for w in &p.warnings {
                outln!("warning   {}: {w}", p.path)?;
            }
        }
        outln!(
            "{}{} created, {} updated, {} unchanged, {} attachments uploaded, {} deleted, {} conflicts, {} failed",
            would,
            summary.created,
            summary.updated,
            summary.unchanged,
            summary.attachments_uploaded,
            summary.deleted,
            summary.conflicts,
            summary.failed
        )?;
    }
    if summary.conflicts > 0 {
        return Err(error(conflux_sync::SyncError::Conflicts {
            count: summary.conflicts,
        }));
    }
    if summary.failed > 0 {
        anyhow::bail!(
            "{} page(s) failed (see above); run the command again once fixed: pages already \
             published are not published twice",
            summary.failed
        );
    }
    Ok(())
}
