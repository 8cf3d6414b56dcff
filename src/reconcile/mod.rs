//! Reconcile a site with its target. Takes the rendered files and a
//! target, hands on a plan (`observe` → `plan`, with its `boot` check and
//! its refusals), then its execution (`apply`, under the `lock`, recorded
//! in the `state`; what a failed one leaves is cleared by `leftovers`).
//! `published` says what of a file's hash a plan may
//! show, `record` how JSON and plan files hold a site, `planfile` what
//! `plan --out` saves; `outcome` says how each site of a run ended.

pub mod apply;
pub mod boot;
pub mod explain;
pub mod leftovers;
pub mod lock;
pub mod observe;
pub mod outcome;
pub mod plan;
pub mod planfile;
pub mod published;
pub mod record;
pub mod state;
