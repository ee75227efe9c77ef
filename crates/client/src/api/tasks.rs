use std::time::{Duration, Instant};

use conflux_catalog::Operation;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::LongTaskStatus;
use crate::transport::Call;

/// `client.tasks()`: long-running tasks (v1), such as a page-hierarchy copy.
pub struct Tasks<'a> {
    pub(crate) client: &'a Client,
}

impl Tasks<'_> {
    /// Where the task stands now.
    pub async fn get(&self, task_id: &str) -> Result<LongTaskStatus> {
        self.client
            .json(Call::new(Operation::GetTask, &[("id", task_id)])?)
            .await
    }

    /// Reads the task until it has finished, waiting between reads (the retry policy's base
    /// delay, doubling up to 5 s), for at most `max_wait`. A task still running then is
    /// [`ClientError::OutcomeUnknown`]: it goes on in Confluence.
    pub async fn wait(&self, task_id: &str, max_wait: Duration) -> Result<LongTaskStatus> {
        let started = Instant::now();
        let mut pause = self
            .client
            .config()
            .retry
            .base_delay
            .max(Duration::from_millis(10));
        loop {
            let status = self.get(task_id).await?;
            if status.finished {
                return Ok(status);
            }
            if started.elapsed() + pause > max_wait {
                return Err(ClientError::OutcomeUnknown {
                    message: format!(
                        "task {task_id} is still running ({}% done)",
                        status.percentage_complete
                    ),
                    check: format!("GET /wiki/rest/api/longtask/{task_id} later"),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
