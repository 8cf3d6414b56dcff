//! Reconcile a site with its target. Takes the rendered files and a
//! target, hands on a plan (`observe` → `plan`, with its `boot` check),
//! then its execution (`apply`, under the `lock`, recorded in the `state`).
//! `published` says what of a file's hash a plan may show.

pub mod apply;
pub mod boot;
pub mod explain;
pub mod lock;
pub mod observe;
pub mod plan;
pub mod published;
pub mod state;
