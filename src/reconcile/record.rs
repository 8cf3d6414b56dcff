//! A site as JSON output and plan files hold it (docs/outputs.md "JSON"):
//! the plan serialised with its hashes published (`published`), or why
//! the site has none. A plan file is the same record without the diffs
//! (`planfile`), read back by `apply --plan`. What polyops uses while it
//! plans and applies is `plan::Plan`; nothing here is half of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::reconcile::boot::Boot;
use crate::reconcile::plan::{Action, Override, ParamChanges, Plan, SiteId, Summary};
use crate::reconcile::published::PublishedHashes;

/// Version of the documents JSON output and plan files are (a plan file
/// is the JSON document of a plan without its diffs); bumped on any
/// incompatible change of either.
pub const FORMAT_VERSION: u32 = 1;

/// Whether a site was planned (or applied), or not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteStatus {
    #[default]
    Ok,
    Error,
}

/// One site of a JSON document or a plan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRecord {
    pub site: String,
    /// `error`: the site could not be planned (or applied); `error` says
    /// why, and it has no files. `ok` never carries an `error`.
    #[serde(default)]
    pub status: SiteStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub site_file: String,
    pub site_file_sha256: String,
    pub target: String,
    pub summary: Summary,
    pub files: Vec<FileRecord>,
    pub unmanaged: Vec<String>,
    pub overrides: Vec<Override>,
    /// Every target file the plan read → its published hash (`null`:
    /// absent, or redacted). What makes a saved plan stale.
    pub reads: BTreeMap<String, Option<String>>,
    /// A hash of a file that carries a secret was left out (no key), in
    /// `files` or in `reads`: such a plan cannot be checked for staleness.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// Why apply would refuse this plan (`null`: it would not, and always
    /// in an apply report).
    #[serde(default)]
    pub apply_would_refuse: Option<String>,
    #[serde(default)]
    pub boot: Boot,
}

/// One file of a [`SiteRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub name: String,
    pub action: Action,
    pub drifted: bool,
    #[serde(default)]
    pub removed: bool,
    #[serde(default)]
    pub adopted: bool,
    #[serde(flatten)]
    pub hashes: PublishedHashes,
    /// Present for changes in JSON output; never in a plan file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub diff: Option<String>,
    /// `null` for any file but an update of a `.cfg` file whose both sides
    /// parse, and always in a plan file.
    #[serde(default)]
    pub params: Option<ParamChanges>,
    #[serde(default)]
    pub formatting_only: bool,
}

impl SiteRecord {
    /// A plan as JSON shows it; `refusal_shown` is false in an apply
    /// report (the plan was carried out: nothing refused it).
    pub fn of(plan: &Plan, refusal_shown: bool) -> Self {
        SiteRecord {
            site: plan.site.name.clone(),
            status: SiteStatus::Ok,
            error: None,
            site_file: plan.site.file.clone(),
            site_file_sha256: plan.site_file_sha256.clone(),
            target: plan.site.target.clone(),
            summary: plan.summary.clone(),
            files: plan
                .files
                .iter()
                .map(|f| FileRecord {
                    name: f.name.clone(),
                    action: f.action,
                    drifted: f.drifted,
                    removed: f.removed,
                    adopted: f.adopted,
                    hashes: plan.published(f),
                    diff: f.diff.clone(),
                    params: f.params.clone(),
                    formatting_only: f.formatting_only,
                })
                .collect(),
            unmanaged: plan.unmanaged.clone(),
            overrides: plan.overrides.clone(),
            reads: plan.published_reads(),
            redacted: plan.is_redacted(),
            apply_would_refuse: plan.apply_would_refuse().filter(|_| refusal_shown),
            boot: plan.boot.clone(),
        }
    }

    /// A site that has no plan, and why (one line, secrets masked
    /// already).
    pub fn failed(site: &SiteId, error: String) -> Self {
        SiteRecord {
            site: site.name.clone(),
            status: SiteStatus::Error,
            error: Some(error),
            site_file: site.file.clone(),
            site_file_sha256: String::new(),
            target: site.target.clone(),
            summary: Summary::default(),
            files: Vec::new(),
            unmanaged: Vec::new(),
            overrides: Vec::new(),
            reads: BTreeMap::new(),
            redacted: false,
            apply_would_refuse: None,
            boot: Boot::default(),
        }
    }

    /// The record without what a plan file leaves out: the diffs, of lines
    /// and of parameters (hashes only, no secrets; not even masked
    /// contents, which apply does not need). `formatting_only` stays: it
    /// says nothing of the contents.
    pub fn without_contents(mut self) -> Self {
        for f in &mut self.files {
            f.diff = None;
            f.params = None;
        }
        self
    }
}
