//! The plan of one site: one small value per file with a fixed execution
//! order, the hashes it was computed from, and its own checks (what apply
//! refuses: `safety`). Outputs (`output::*`) print it, `apply` executes
//! it; JSON and plan files hold it as a `record::SiteRecord` (hashes
//! only, never a secret, and of a file that carries a secret only an
//! HMAC: see `published`).

mod build;
pub mod change;
pub mod diff;
pub mod overrides;
pub mod params;
pub mod safety;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use change::{Action, FileChange};
pub use diff::{too_large, unified, DIFF_DEADLINE, DIFF_MAX_BYTES};
pub use overrides::{override_names, Override, OVERRIDE_SUFFIXES};
pub use params::{param_changes, ParamChanges};
pub use safety::{Allow, Guard, GuardKind, Refusal};

use crate::reconcile::boot::Boot;
use crate::reconcile::published::{keyed, HashKey, PublishedHashes};
use crate::site::model::Site;

/// Which site, as every output names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteId {
    pub name: String,
    /// Its site file.
    pub file: String,
    /// Its target, as the site file's URL shows it (no password).
    pub target: String,
}

impl SiteId {
    pub fn of(site: &Site) -> Self {
        Self {
            name: site.name.clone(),
            file: site.file.clone(),
            target: site.target.display.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub drifted: usize,
    pub unmanaged: usize,
    /// Override files that set a declared parameter to another value.
    #[serde(default)]
    pub overrides: usize,
}

/// What the plan read of a file on the target: its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadHash {
    /// Its sha256; `None`: absent.
    pub sha256: Option<String>,
    /// Whether it carries a secret: its hash is published as an HMAC.
    pub carries_secret: bool,
}

/// What apply would do to one site, and what it was computed from.
#[derive(Debug, Clone)]
pub struct Plan {
    pub site: SiteId,
    pub site_file_sha256: String,
    pub summary: Summary,
    /// In execution order: uploads (referenced files before the `<mac>.cfg`
    /// naming them), then deletes (`<mac>.cfg` first), then unchanged.
    pub files: Vec<FileChange>,
    /// Files at the root that polyops does not own (never touched).
    pub unmanaged: Vec<String>,
    pub overrides: Vec<Override>,
    /// Every target file the plan read (the state file included): what
    /// makes a saved plan stale.
    pub reads: BTreeMap<String, ReadHash>,
    /// The safety checks this plan trips.
    pub guards: Vec<Guard>,
    /// The files the phones' master files name that will not be on the
    /// target after apply: apply refuses them without `--allow-incomplete`,
    /// and drift counts them.
    pub boot: Boot,
    /// The key the hashes of files that carry a secret are published
    /// under; `None`: they are redacted.
    pub key: Option<HashKey>,
}

impl Plan {
    /// Publish the hashes of files that carry a secret as HMACs under
    /// `key` (`None`: not at all).
    pub fn publish_under(&mut self, key: Option<HashKey>) {
        self.key = key;
    }

    /// A file's hashes as JSON and plan files show them: plain sha256 for
    /// a file that carries no secret; for one that does, its HMACs under
    /// the key, or nothing (`redacted`) without one.
    pub fn published(&self, f: &FileChange) -> PublishedHashes {
        PublishedHashes::publish(
            f.sha256_before.as_deref(),
            f.sha256_after.as_deref(),
            f.carries_secret,
            self.key.as_ref(),
        )
    }

    /// `reads` as published: the HMAC for a file that carries a secret,
    /// `None` without a key (or without a file).
    pub fn published_reads(&self) -> BTreeMap<String, Option<String>> {
        self.reads
            .iter()
            .map(|(name, read)| {
                let shown = if read.carries_secret {
                    keyed(read.sha256.as_deref(), self.key.as_ref())
                } else {
                    read.sha256.clone()
                };
                (name.clone(), shown)
            })
            .collect()
    }

    /// A hash of a file that carries a secret is left out (no key), in
    /// `files` or in `reads`: such a plan cannot be checked for staleness.
    pub fn is_redacted(&self) -> bool {
        self.key.is_none()
            && (self
                .reads
                .values()
                .any(|r| r.carries_secret && r.sha256.is_some())
                || self.files.iter().any(|f| f.carries_secret))
    }

    /// The files apply writes or deletes, in execution order.
    pub fn changes(&self) -> impl Iterator<Item = &FileChange> {
        self.files.iter().filter(|f| f.action != Action::Unchanged)
    }

    /// Whether apply would change any file.
    pub fn has_changes(&self) -> bool {
        self.changes().next().is_some()
    }

    /// Whether anything on the target differs from the site (drift): a
    /// file the phones need and do not find included.
    pub fn has_drift(&self) -> bool {
        self.has_changes()
            || self.overrides.iter().any(Override::is_drift)
            || !self.boot.is_complete()
    }

    /// Why apply would refuse this plan whatever the boot check finds,
    /// naming the options that let it through, so a reviewer does not
    /// approve a change that cannot land; `None`: it would not.
    pub fn apply_would_refuse(&self) -> Option<String> {
        (!self.guards.is_empty()).then(|| {
            self.guards
                .iter()
                .map(Guard::describe)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Whether apply may carry out this plan under `allow`: the safety
    /// limits first, then the boot check (on what was just observed: a
    /// saved plan's own result does not count, a file may have gone from
    /// the target since).
    pub fn check_apply(&self, allow: &Allow) -> Result<(), Refusal> {
        if let Some(refusal) = safety::first_unsafe(&self.guards, allow) {
            return Err(refusal);
        }
        if !allow.incomplete && !self.boot.is_complete() {
            return Err(Refusal::Incomplete(self.boot.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
impl Plan {
    /// A plan of site `hq` (`sites/hq.yaml`, target `dir:root`) with these
    /// changes, counted in its summary, and nothing else.
    pub fn example(files: Vec<FileChange>) -> Plan {
        let count = |a: Action| files.iter().filter(|f| f.action == a).count();
        Plan {
            site: SiteId {
                name: "hq".to_owned(),
                file: "sites/hq.yaml".to_owned(),
                target: "dir:root".to_owned(),
            },
            site_file_sha256: String::new(),
            summary: Summary {
                create: count(Action::Create),
                update: count(Action::Update),
                delete: count(Action::Delete),
                unchanged: count(Action::Unchanged),
                ..Summary::default()
            },
            files,
            unmanaged: Vec::new(),
            overrides: Vec::new(),
            reads: BTreeMap::new(),
            guards: Vec::new(),
            boot: Boot::default(),
            key: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot_missing(file: &str) -> Boot {
        Boot {
            missing: [(file.to_owned(), vec!["0004f2000607".to_owned()])].into(),
        }
    }

    #[test]
    fn a_plan_with_nothing_tripped_is_not_refused() {
        assert_eq!(
            Plan::example(Vec::new()).check_apply(&Allow::default()),
            Ok(())
        );
    }

    #[test]
    fn the_safety_limits_are_checked_before_the_boot_check() {
        let mut plan = Plan::example(Vec::new());
        plan.boot = boot_missing("sip.cfg");
        plan.guards = vec![Guard {
            kind: GuardKind::MassDelete,
            reason: "plan deletes 5 of 12 managed files (more than 30%)".to_owned(),
        }];
        let refused = plan.check_apply(&Allow::default());
        assert!(matches!(refused, Err(Refusal::Unsafe(_))), "{refused:?}");
        let allow = Allow {
            mass_delete: true,
            ..Allow::default()
        };
        let refused = plan.check_apply(&allow);
        assert!(
            matches!(refused, Err(Refusal::Incomplete(_))),
            "{refused:?}"
        );
        let allow = Allow {
            incomplete: true,
            ..allow
        };
        assert_eq!(plan.check_apply(&allow), Ok(()));
    }

    #[test]
    fn each_refusal_becomes_the_error_that_names_its_site() {
        let mut plan = Plan::example(Vec::new());
        plan.boot = boot_missing("sip.cfg");
        let error = plan
            .check_apply(&Allow::default())
            .expect_err("sip.cfg is missing")
            .into_error("hq")
            .to_string();
        assert!(
            error.starts_with("site hq: apply refused: 1 file the phones' master files name would not be on the target: sip.cfg (phone 0004f2000607)"),
            "{error}"
        );
        assert_eq!(
            Refusal::NotConfirmed.into_error("hq").to_string(),
            "site hq: apply refused: not confirmed"
        );
    }
}
