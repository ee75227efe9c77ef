//! What a run reports as it goes; the binary shows it (a progress bar on a terminal, JSON lines
//! for scripts), the library only emits it.

use serde::Serialize;

/// One step of a run.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    /// The work is known: `total` pages (or files) to look at.
    Planned { total: usize },
    /// One page looked at: what was done to it (`written`, `unchanged`, `created`, ...).
    Page {
        id: String,
        title: String,
        path: String,
        action: String,
    },
    /// One page failed; the run goes on with the others.
    Failed { path: String, error: String },
    /// Something worth a person's attention that is no failure.
    Warning { message: String },
}

/// Receives the events of a run; called from the run's tasks, so it must be cheap.
pub trait Progress: Send + Sync {
    fn event(&self, event: &Event);
}

/// Shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _: &Event) {}
}
