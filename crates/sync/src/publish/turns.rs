//! Creation order among siblings. Confluence places a parent's new children in the order they
//! are made, so siblings published at once would land in any order. Each file of a wave holds a
//! [`Ticket`] for its place among its siblings; a create waits until every sibling before it
//! has made its page or finished without making one (its ticket dropped). Updates and reads
//! never wait.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::Notify;

/// Siblings' tickets, by sibling key.
#[derive(Default)]
pub(super) struct Turns {
    /// Key -> for each ticket, whether it is done.
    done: Mutex<HashMap<String, Vec<bool>>>,
    changed: Notify,
}

impl Turns {
    /// Starts `n` tickets for the siblings of `key` (a wave's).
    pub(super) fn open(&self, key: &str, n: usize) {
        self.lock().insert(key.to_string(), vec![false; n]);
    }

    /// Ticket `n` of `key`'s siblings; its turn comes when tickets `0..n` are done.
    pub(super) fn ticket(&self, key: String, n: usize) -> Ticket<'_> {
        Ticket {
            turns: self,
            key,
            n,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<bool>>> {
        self.done.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One file's place among its siblings: done when dropped.
pub(super) struct Ticket<'a> {
    turns: &'a Turns,
    key: String,
    n: usize,
}

impl Ticket<'_> {
    /// Waits until every sibling before this one is done.
    pub(super) async fn wait(&self) {
        loop {
            // Made before the check, so a ticket done between the two still wakes it.
            let changed = self.turns.changed.notified();
            let ready = self
                .turns
                .lock()
                .get(&self.key)
                .is_none_or(|done| done.iter().take(self.n).all(|d| *d));
            if ready {
                return;
            }
            changed.await;
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self
            .turns
            .lock()
            .get_mut(&self.key)
            .and_then(|done| done.get_mut(self.n))
        {
            *slot = true;
        }
        self.turns.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn siblings_take_their_turns_in_order_whatever_finishes_first() {
        let turns = Arc::new(Turns::default());
        turns.open("p", 3);
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        // The last sibling asks first, the first one last.
        for n in [2usize, 1, 0] {
            let (turns, order) = (turns.clone(), order.clone());
            tasks.push(tokio::spawn(async move {
                let ticket = turns.ticket("p".into(), n);
                tokio::time::sleep(std::time::Duration::from_millis(5 * (3 - n as u64))).await;
                ticket.wait().await;
                order.lock().unwrap().push(n);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
        // A sibling that makes nothing passes its turn by finishing.
        turns.open("q", 2);
        let skipped = turns.ticket("q".into(), 0);
        let second = turns.ticket("q".into(), 1);
        drop(skipped);
        tokio::time::timeout(std::time::Duration::from_secs(5), second.wait())
            .await
            .unwrap();
    }
}
