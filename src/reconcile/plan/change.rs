//! One file's change: what happens to it, what it was and will be, and
//! what a reviewer sees of it (a diff, its parameters). The order in which
//! changes are carried out belongs to them too.

use serde::{Deserialize, Serialize};

use crate::reconcile::plan::params::ParamChanges;
use crate::site::model::is_master_config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
}

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }

    /// Whether apply writes the file (creates or updates it).
    pub fn uploads(self) -> bool {
        matches!(self, Action::Create | Action::Update)
    }
}

/// What happens to one file. The plain sha256 of both sides stays here,
/// for polyops's own comparisons; what JSON and plan files show of them
/// is `record::FileRecord` (hashes published: `published`).
#[derive(Debug, Clone)]
pub struct FileChange {
    pub name: String,
    pub action: Action,
    /// Changed (or removed) on the target since polyops last wrote it.
    pub drifted: bool,
    /// Removed on the target since polyops last wrote it (drifted, and
    /// created again by apply).
    pub removed: bool,
    /// On the target already but not written by polyops: apply takes it over.
    pub adopted: bool,
    /// sha256 of the file on the target (`None`: absent).
    pub sha256_before: Option<String>,
    /// sha256 of the rendered file (`None`: a delete).
    pub sha256_after: Option<String>,
    /// Whether the file carries a secret (`published::carries_secret`):
    /// its hashes are published only as HMACs.
    pub carries_secret: bool,
    /// Unified diff with every secret masked; not part of plan files.
    pub diff: Option<String>,
    /// The parameters the update adds, removes and changes, for a `.cfg`
    /// file whose both sides parse (`None` otherwise): what the phone will
    /// run differently, which a diff of a hand-made file laid out
    /// differently does not show. Not part of plan files.
    pub params: Option<ParamChanges>,
    /// The bytes change, the parameters do not (`params` is empty).
    pub formatting_only: bool,
}

impl FileChange {
    /// What happened to the file on the target behind polyops's back, if
    /// anything.
    pub fn drift_note(&self) -> Option<&'static str> {
        match (self.drifted, self.removed) {
            (true, true) => Some("removed on the target since polyops wrote it"),
            (true, false) => Some("changed on the target since polyops wrote it"),
            _ => None,
        }
    }
}

/// Where a change comes in the order of execution: uploads of the files a
/// `<mac>.cfg` names, then the `<mac>.cfg` uploads, then the deletes of
/// `<mac>.cfg` files, then the deletes of the files they named, then
/// what is unchanged; by name within each.
pub(super) fn execution_order(c: &FileChange) -> (u8, String) {
    let master = is_master_config(&c.name);
    let rank = match (c.action, master) {
        (Action::Create | Action::Update, false) => 0,
        (Action::Create | Action::Update, true) => 1,
        (Action::Delete, true) => 2,
        (Action::Delete, false) => 3,
        (Action::Unchanged, _) => 4,
    };
    (rank, c.name.clone())
}
