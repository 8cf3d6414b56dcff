//! What apply refuses, and what lets it through: the safety limits of a
//! site (docs/apply.md "Safety"), the boot check, a saved plan gone stale,
//! an answer that is not "yes". Each refusal is a value; its text is said
//! once, here.

use std::fmt;

use crate::error::Error;
use crate::reconcile::boot::Boot;
use crate::reconcile::planfile::Stale;
use crate::site::model::Safety;

/// A safety check a plan trips, and the option that lets it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guard {
    pub kind: GuardKind,
    /// "plan deletes 5 of 12 managed files (more than 30%)".
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardKind {
    MassDelete,
    MassUpdate,
}

impl Guard {
    pub fn option(&self) -> &'static str {
        match self.kind {
            GuardKind::MassDelete => "--allow-mass-delete",
            GuardKind::MassUpdate => "--allow-mass-update",
        }
    }

    /// "REASON: apply needs --allow-mass-delete".
    pub fn describe(&self) -> String {
        format!("{}: apply needs {}", self.reason, self.option())
    }

    /// Whether `allow` lets this guard through.
    fn allowed_by(&self, allow: &Allow) -> bool {
        match self.kind {
            GuardKind::MassDelete => allow.mass_delete,
            GuardKind::MassUpdate => allow.mass_update,
        }
    }
}

/// The safety checks of a site's plan (docs/apply.md "Safety"): deletes
/// and updates as a share of the files polyops manages there now, once
/// there are at least `min_managed` of them.
pub(super) fn guards(
    safety: &Safety,
    managed: usize,
    deletes: usize,
    updates: usize,
) -> Vec<Guard> {
    let mut out = Vec::new();
    if managed < safety.min_managed.max(1) {
        return out;
    }
    let over = |count: usize, percent: u8| count * 100 > usize::from(percent) * managed;
    if over(deletes, safety.max_delete_percent) {
        out.push(Guard {
            kind: GuardKind::MassDelete,
            reason: format!(
                "plan deletes {deletes} of {managed} managed files (more than {}%)",
                safety.max_delete_percent
            ),
        });
    }
    if let Some(percent) = safety.max_update_percent {
        if over(updates, percent) {
            out.push(Guard {
                kind: GuardKind::MassUpdate,
                reason: format!(
                    "plan updates {updates} of {managed} managed files (more than {percent}%)"
                ),
            });
        }
    }
    out
}

/// What the options of `apply` let through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    /// `--allow-mass-delete`.
    pub mass_delete: bool,
    /// `--allow-mass-update`.
    pub mass_update: bool,
    /// `--allow-incomplete`: apply although the boot check finds files
    /// missing.
    pub incomplete: bool,
}

/// Why apply does not carry out a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The saved plan no longer matches the sites or the target.
    Stale(Stale),
    /// A safety limit the options do not let through.
    Unsafe(Guard),
    /// Files the phones' master files name would not be on the target.
    Incomplete(Boot),
    /// Asked on a terminal, the answer was not "yes".
    NotConfirmed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Stale(stale) => stale.fmt(f),
            Refusal::Unsafe(guard) => write!(
                f,
                "{}; rerun with {} if that is intended",
                guard.reason,
                guard.option()
            ),
            Refusal::Incomplete(boot) => f.write_str(&boot.why_incomplete()),
            Refusal::NotConfirmed => f.write_str("not confirmed"),
        }
    }
}

impl Refusal {
    /// The error of `site` this refusal is.
    pub fn into_error(self, site: &str) -> Error {
        let site = site.to_owned();
        match self {
            Refusal::Stale(stale) => Error::Stale {
                site,
                reason: stale.to_string(),
            },
            other => Error::Refused {
                site,
                reason: other.to_string(),
            },
        }
    }
}

/// The first guard `allow` does not let through, as a refusal.
pub(super) fn first_unsafe(guards: &[Guard], allow: &Allow) -> Option<Refusal> {
    guards
        .iter()
        .find(|g| !g.allowed_by(allow))
        .cloned()
        .map(Refusal::Unsafe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safety(max_update_percent: Option<u8>) -> Safety {
        Safety {
            max_delete_percent: 30,
            max_update_percent,
            min_managed: 10,
        }
    }

    #[test]
    fn a_guard_trips_over_its_share_once_enough_files_are_managed() {
        assert!(guards(&safety(Some(50)), 9, 9, 9).is_empty());
        let tripped = guards(&safety(Some(50)), 10, 4, 6);
        let kinds: Vec<GuardKind> = tripped.iter().map(|g| g.kind).collect();
        assert_eq!(kinds, [GuardKind::MassDelete, GuardKind::MassUpdate]);
        assert!(guards(&safety(None), 10, 3, 10).is_empty());
    }

    #[test]
    fn each_option_lets_its_own_guard_through_and_no_other() {
        let tripped = guards(&safety(Some(50)), 10, 4, 6);
        let deletes = Allow {
            mass_delete: true,
            ..Allow::default()
        };
        let refused = first_unsafe(&tripped, &deletes).expect("updates still refused");
        assert_eq!(
            refused.to_string(),
            "plan updates 6 of 10 managed files (more than 50%); rerun with --allow-mass-update if that is intended"
        );
        let both = Allow {
            mass_update: true,
            ..deletes
        };
        assert_eq!(first_unsafe(&tripped, &both), None);
    }
}
