//! The notifications Airlock has on screen, by the server's id and by approval. Only ids in
//! here can act: an `ActionInvoked` for any other id (another application's notification, or
//! a guess) does nothing. Ids belong to one server; when the server changes, all are dropped.

use airlock_protocol::Decision;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub approval: String,
    /// What the notification offered: an `approve` for a step-up request was never a button.
    pub decision: Decision,
}

#[derive(Debug, Default)]
pub struct Shown {
    by_id: HashMap<u32, Entry>,
    by_approval: HashMap<String, u32>,
}

impl Shown {
    pub fn insert(&mut self, id: u32, approval: &str, decision: Decision) {
        if let Some(old) = self.by_approval.insert(approval.to_string(), id) {
            self.by_id.remove(&old);
        }
        self.by_id.insert(
            id,
            Entry {
                approval: approval.to_string(),
                decision,
            },
        );
    }

    pub fn get(&self, id: u32) -> Option<&Entry> {
        self.by_id.get(&id)
    }

    pub fn has_approval(&self, approval: &str) -> bool {
        self.by_approval.contains_key(approval)
    }

    pub fn approvals(&self) -> Vec<String> {
        self.by_approval.keys().cloned().collect()
    }

    /// Forget an approval's notification; returns its id so it can be closed.
    pub fn remove_approval(&mut self, approval: &str) -> Option<u32> {
        let id = self.by_approval.remove(approval)?;
        self.by_id.remove(&id);
        Some(id)
    }

    /// The server closed notification `id` (expired, dismissed, or closed on our request).
    pub fn remove_id(&mut self, id: u32) {
        if let Some(entry) = self.by_id.remove(&id) {
            self.by_approval.remove(&entry.approval);
        }
    }

    pub fn clear(&mut self) {
        self.by_id.clear();
        self.by_approval.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_approvals_stay_in_step() {
        let mut shown = Shown::default();
        shown.insert(3, "a", Decision::Ask);
        shown.insert(4, "b", Decision::StepUp);
        assert_eq!(
            shown.get(4),
            Some(&Entry {
                approval: "b".into(),
                decision: Decision::StepUp
            })
        );
        // Shown again (a new server): the old id no longer acts.
        shown.insert(9, "a", Decision::Ask);
        assert_eq!(shown.get(3), None);
        assert_eq!(shown.remove_approval("a"), Some(9));
        assert_eq!(shown.get(9), None);
        shown.remove_id(4);
        assert!(!shown.has_approval("b"));
        assert!(shown.approvals().is_empty());
    }
}
