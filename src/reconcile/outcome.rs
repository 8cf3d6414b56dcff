//! How each site of a run of `plan`, `drift` or `apply` ended: planned (or
//! applied), failed, never started, or stopped by a signal part way. Every
//! output prints these; a command's exit status and its errors come from
//! them.

use std::fmt;

use crate::error::Error;
use crate::reconcile::plan::{Plan, SiteId};
use crate::reconcile::record::SiteRecord;

/// How one site ended.
#[derive(Debug)]
pub enum Outcome {
    /// Planned (`plan`, `drift`), or planned and carried out (`apply`).
    Done(Plan),
    /// It could not be planned or applied.
    Failed(Error),
    /// The run ended before this site started.
    NotStarted(Why),
    /// A signal stopped apply after `done` of `total` changes; the state
    /// records them and the lock is released.
    Interrupted { done: usize, total: usize },
}

/// Why a site never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// An earlier site failed under `--fail-fast`.
    FailFast,
    /// SIGINT or SIGTERM came first.
    Signal,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Why::FailFast => "an earlier site failed and --fail-fast stops the run there",
            Why::Signal => "polyops was interrupted",
        })
    }
}

/// One site of a run and how it ended.
#[derive(Debug)]
pub struct SiteOutcome {
    pub site: SiteId,
    pub outcome: Outcome,
}

impl SiteOutcome {
    pub fn done(plan: Plan) -> Self {
        Self {
            site: plan.site.clone(),
            outcome: Outcome::Done(plan),
        }
    }

    pub fn new(site: SiteId, outcome: Outcome) -> Self {
        Self { site, outcome }
    }

    /// The plan, for a site that has one.
    pub fn plan(&self) -> Option<&Plan> {
        match &self.outcome {
            Outcome::Done(plan) => Some(plan),
            _ => None,
        }
    }

    /// Why the site has no plan, on one line (each line of an error joined
    /// with "; "); `None` for a site that has one.
    pub fn error_line(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Done(_) => None,
            Outcome::Failed(e) => Some(one_line(e)),
            Outcome::NotStarted(why) => Some(format!("not started: {why}")),
            Outcome::Interrupted { done, total } => Some(one_line(&Error::Interrupted {
                site: self.site.name.clone(),
                done: *done,
                total: *total,
            })),
        }
    }

    /// The site as JSON shows it; `refusal_shown` as for
    /// [`SiteRecord::of`].
    pub fn record(&self, refusal_shown: bool) -> SiteRecord {
        match (self.plan(), self.error_line()) {
            (Some(plan), _) => SiteRecord::of(plan, refusal_shown),
            (None, error) => SiteRecord::failed(&self.site, error.unwrap_or_default()),
        }
    }

    /// The error this outcome is for the command, if it is one: a site
    /// that never started is none of its own (the error that stopped the
    /// run is).
    pub fn into_error(self) -> Option<Error> {
        match self.outcome {
            Outcome::Done(_) | Outcome::NotStarted(_) => None,
            Outcome::Failed(e) => Some(e),
            Outcome::Interrupted { done, total } => Some(Error::Interrupted {
                site: self.site.name,
                done,
                total,
            }),
        }
    }
}

/// An error as one line, for the report of the site it stopped.
pub fn one_line(e: &Error) -> String {
    e.to_string().lines().collect::<Vec<_>>().join("; ")
}
