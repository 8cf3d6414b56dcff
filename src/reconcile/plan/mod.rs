//! The plan: per site, one small value per file with a fixed execution
//! order, the hashes it was computed from, and its own safety check.
//! Outputs (`output::*`) print it; `apply` executes it; a plan file is it
//! serialised (hashes only, never a secret, and of a file that carries a
//! secret only an HMAC: see `published`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::TextDiff;

use crate::mask::{has_password_attribute, Masker};
use crate::polycom;
use crate::reconcile::boot::Boot;
use crate::reconcile::observe::Observed;
use crate::reconcile::published::{carries_secret, keyed, HashKey, Hashes, Side};
use crate::reconcile::state::STATE_FILE;
use crate::render::inputs::sha256_hex;
use crate::render::Rendered;
use crate::site::model::ALTIGEN_CFG;
use crate::site::model::{is_master_config, Safety, Site};
use crate::site::secret::MASK;

/// Files larger than this (on either side) are compared by hash, not
/// diffed: a line diff's time and memory grow faster than the file, and a
/// diff of megabytes is no use to a reviewer anyway. Polycom configuration
/// files are a few kilobytes.
pub const DIFF_MAX_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
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

impl Action {
    pub fn word(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }
}

/// What happens to one file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileChange {
    pub name: String,
    pub action: Action,
    /// Changed (or removed) on the target since polyops last wrote it.
    pub drifted: bool,
    /// Removed on the target since polyops last wrote it (drifted, and
    /// created again by apply).
    #[serde(default)]
    pub removed: bool,
    /// On the target already but not written by polyops: apply takes it over.
    #[serde(default)]
    pub adopted: bool,
    /// sha256 of the file on the target, for polyops's own comparisons;
    /// never serialised (`published` is), so unset in a plan read back.
    #[serde(skip)]
    pub sha256_before: Option<String>,
    /// sha256 of the rendered file; the same.
    #[serde(skip)]
    pub sha256_after: Option<String>,
    /// Whether the file carries a secret (`published::carries_secret`).
    #[serde(skip)]
    pub carries_secret: bool,
    /// The hashes as JSON and plan files show them: `sha256_before`,
    /// `sha256_after`, and for a file that carries a secret the HMACs.
    #[serde(flatten)]
    pub published: Hashes,
    /// Unified diff with every secret masked; not part of plan files.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub diff: Option<String>,
    /// The parameters the update adds, removes and changes, for a `.cfg`
    /// file whose both sides parse (`null` otherwise, and in plan files):
    /// what the phone will run differently, which a diff of a hand-made
    /// file laid out differently does not show.
    #[serde(default)]
    pub params: Option<ParamChanges>,
    /// The bytes change, the parameters do not (`params` is empty).
    #[serde(default)]
    pub formatting_only: bool,
}

/// A change of a file's parameters, as the phone reads them: every
/// attribute of every element, the first occurrence of a name winning
/// (`polycom::reader::parameter_map`). A name repeated in a file counts
/// with its first value only, the one the phone uses: adding, removing or
/// changing a later occurrence changes nothing the phone runs. Names and
/// values are fit to print already (one line, capped), and a secret value
/// is `********`; a changed secret is `["********", "******** (changed)"]`,
/// whichever of its two sides was the secret, so neither value nor its
/// length shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamChanges {
    pub added: BTreeMap<String, String>,
    pub removed: BTreeMap<String, String>,
    /// Name → (value on the target, value rendered).
    pub changed: BTreeMap<String, (String, String)>,
}

impl ParamChanges {
    /// Whether no parameter changes: the change is formatting only.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Every change, ordered by name: (name, value before, value after),
    /// `None` where the parameter is absent.
    pub fn rows(&self) -> Vec<(&str, Option<&str>, Option<&str>)> {
        let mut rows: Vec<(&str, Option<&str>, Option<&str>)> = self
            .added
            .iter()
            .map(|(n, v)| (n.as_str(), None, Some(v.as_str())))
            .chain(
                self.removed
                    .iter()
                    .map(|(n, v)| (n.as_str(), Some(v.as_str()), None)),
            )
            .chain(
                self.changed
                    .iter()
                    .map(|(n, (a, b))| (n.as_str(), Some(a.as_str()), Some(b.as_str()))),
            )
            .collect();
        rows.sort_by_key(|r| r.0);
        rows
    }

    /// "1 changed, 2 added, 1 removed" (the parts that are not zero).
    pub fn counts(&self) -> String {
        [
            (self.changed.len(), "changed"),
            (self.added.len(), "added"),
            (self.removed.len(), "removed"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The parameter change of an update of `name` from `before` to `after`:
/// `None` unless it is a `.cfg` file, neither side is over
/// [`DIFF_MAX_BYTES`] and both parse as a configuration file.
pub fn param_changes(
    name: &str,
    before: &[u8],
    after: &[u8],
    masker: &Masker,
) -> Option<ParamChanges> {
    let is_cfg = name.to_ascii_lowercase().ends_with(".cfg");
    if !is_cfg || before.len() > DIFF_MAX_BYTES || after.len() > DIFF_MAX_BYTES {
        return None;
    }
    let old = polycom::reader::parameter_map(before).ok()?.values;
    let new = polycom::reader::parameter_map(after).ok()?.values;
    let mut out = ParamChanges::default();
    // Two names that print the same (a declared secret masked in both)
    // keep the first: either way nothing secret shows.
    for (n, v) in &old {
        let shown = masker.parameter_name(n);
        match new.get(n) {
            None => {
                out.removed
                    .entry(shown)
                    .or_insert_with(|| masker.parameter_value(n, v));
            }
            Some(w) if w != v => {
                let pair = if masker.is_secret_parameter(n, v) || masker.is_secret_parameter(n, w) {
                    (MASK.to_owned(), format!("{MASK} (changed)"))
                } else {
                    (masker.parameter_value(n, v), masker.parameter_value(n, w))
                };
                out.changed.entry(shown).or_insert(pair);
            }
            Some(_) => {}
        }
    }
    for (n, w) in &new {
        if !old.contains_key(n) {
            out.added
                .entry(masker.parameter_name(n))
                .or_insert_with(|| masker.parameter_value(n, w));
        }
    }
    Some(out)
}

/// A phone's own settings file that overrides declared parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Override {
    pub file: String,
    pub phone: String,
    /// Declared parameters the file sets to another value than the site
    /// renders (names only, never values): what makes it drift.
    pub shadows: Vec<String>,
    /// Why the file could not be read as a configuration file, if it
    /// could not (the phone ignores such a file: not drift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Override {
    /// Whether the file changes what the phone runs.
    pub fn is_drift(&self) -> bool {
        !self.shadows.is_empty()
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

/// Whether a site was planned (or applied), or failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Ok,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SitePlan {
    pub site: String,
    /// `error`: the site could not be planned; `error` says why, and it
    /// has no files.
    #[serde(default)]
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub site_file: String,
    pub site_file_sha256: String,
    pub target: String,
    pub summary: Summary,
    /// In execution order: uploads (referenced files before the `<mac>.cfg`
    /// naming them), then deletes (`<mac>.cfg` first), then unchanged.
    pub files: Vec<FileChange>,
    /// Files at the root that polyops does not own (never touched).
    pub unmanaged: Vec<String>,
    pub overrides: Vec<Override>,
    /// Every target file the plan read → its sha256 (`null`: absent), for
    /// polyops's own comparisons; never serialised, so empty in a plan
    /// read back.
    #[serde(skip)]
    pub reads: BTreeMap<String, Option<String>>,
    /// Those of `reads` that carry a secret.
    #[serde(skip)]
    pub secret_reads: BTreeSet<String>,
    /// `reads` as published: the HMAC for a file that carries a secret,
    /// `null` without a key. What makes a saved plan stale.
    #[serde(rename = "reads")]
    pub published_reads: BTreeMap<String, Option<String>>,
    /// A hash of a file that carries a secret was left out (no key), in
    /// `files` or in `reads`: such a plan cannot be checked for staleness.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    /// Why apply would refuse this plan (`null`: it would not), naming the
    /// option that lets it through, so a reviewer does not approve a
    /// change that cannot land.
    #[serde(default)]
    pub apply_would_refuse: Option<String>,
    /// The safety checks this plan trips (what `apply_would_refuse` says).
    #[serde(skip)]
    pub guards: Vec<Guard>,
    /// The files the phones' master files name that will not be on the
    /// target after apply: apply refuses them without `--allow-incomplete`,
    /// and drift counts them.
    #[serde(default)]
    pub boot: Boot,
}

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
}

/// The safety checks of a site's plan (docs/many-sites.md `safety`): deletes and
/// updates as a share of the files polyops manages there now, once there
/// are at least `min_managed` of them.
fn guards(safety: &Safety, managed: usize, deletes: usize, updates: usize) -> Vec<Guard> {
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

/// What a change of a file means for the order of execution.
fn order_key(c: &FileChange) -> (u8, String) {
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

impl SitePlan {
    /// Compare the files a site wants with what the target holds. Ownership
    /// comes first: only files in the state can be deleted. The hashes of
    /// files that carry a secret are published as redacted until
    /// [`SitePlan::publish`] is given a key.
    pub fn build(
        site: &Site,
        site_file_sha256: &str,
        desired: &Rendered,
        observed: &Observed,
        masker: &Masker,
    ) -> SitePlan {
        let owned: BTreeMap<&String, &Option<String>> = observed.owned.iter().collect();
        let mut files = Vec::new();
        for (name, after) in desired {
            let after_sha = sha256_hex(after);
            let before = observed.contents.get(name);
            let before_sha = observed.hashes.get(name).cloned();
            let recorded = owned.get(name).copied().cloned().flatten();
            let action = match &before_sha {
                None => Action::Create,
                Some(b) if *b == after_sha => Action::Unchanged,
                Some(_) => Action::Update,
            };
            // Polyops wrote it, someone removed it.
            let removed = recorded.is_some() && before_sha.is_none();
            let drifted = match (&recorded, &before_sha) {
                (Some(rec), Some(b)) => rec != b,
                _ => removed,
            };
            let before_side = match (&before_sha, before) {
                (None, _) => Side::Absent,
                // The same bytes as rendered, which the rendered side covers.
                (Some(b), _) if *b == after_sha => Side::Absent,
                (Some(_), Some(bytes)) => Side::Bytes(bytes),
                (Some(_), None) => Side::Unread,
            };
            let secret = carries_secret(name, site, masker, before_side, Side::Bytes(after));
            let diff = (action != Action::Unchanged).then(|| match observed.too_large.get(name) {
                Some(size) => too_large(
                    name,
                    *size,
                    before_sha.as_deref(),
                    Some(after),
                    masker,
                    secret,
                ),
                None => unified(name, before.map(Vec::as_slice), Some(after), masker),
            });
            let params = match (action, before) {
                (Action::Update, Some(before)) => param_changes(name, before, after, masker),
                _ => None,
            };
            files.push(FileChange {
                name: name.clone(),
                action,
                drifted,
                removed,
                adopted: before_sha.is_some() && !owned.contains_key(name),
                sha256_before: before_sha,
                sha256_after: Some(after_sha),
                carries_secret: secret,
                published: Hashes::default(),
                diff,
                formatting_only: params.as_ref().is_some_and(ParamChanges::is_empty),
                params,
            });
        }
        for (name, recorded) in &owned {
            if desired.contains_key(*name) {
                continue;
            }
            // Owned, no longer wanted: delete if it is still there.
            if let Some(before_sha) = observed.hashes.get(*name).cloned() {
                let before = observed.contents.get(*name).map(Vec::as_slice);
                let before_side = before.map_or(Side::Unread, Side::Bytes);
                let secret = carries_secret(name, site, masker, before_side, Side::Absent);
                let diff = match observed.too_large.get(*name) {
                    Some(size) => Some(too_large(
                        name,
                        *size,
                        Some(&before_sha),
                        None,
                        masker,
                        secret,
                    )),
                    None => before.map(|b| unified(name, Some(b), None, masker)),
                };
                files.push(FileChange {
                    name: (*name).clone(),
                    action: Action::Delete,
                    drifted: recorded.as_ref().is_some_and(|r| *r != before_sha),
                    removed: false,
                    adopted: false,
                    sha256_before: Some(before_sha),
                    sha256_after: None,
                    carries_secret: secret,
                    published: Hashes::default(),
                    diff,
                    params: None,
                    formatting_only: false,
                });
            }
        }
        files.sort_by_key(order_key);

        let unmanaged: Vec<String> = observed
            .names
            .iter()
            .filter(|n| !desired.contains_key(*n) && !owned.contains_key(n))
            .filter(|n| !n.starts_with(".polyops"))
            .cloned()
            .collect();

        let mut reads: BTreeMap<String, Option<String>> = desired
            .keys()
            .chain(owned.keys().copied())
            .map(|n| (n.clone(), observed.hashes.get(n).cloned()))
            .collect();
        reads.insert(
            STATE_FILE.to_owned(),
            observed.state_raw.as_deref().map(sha256_hex),
        );
        // Every read with a hash, whatever adds it to `reads`: as its file
        // entry says, else by the bytes read (none read: in doubt, secret).
        let file_secret: BTreeMap<&str, bool> = files
            .iter()
            .map(|f| (f.name.as_str(), f.carries_secret))
            .collect();
        let secret_reads: BTreeSet<String> = reads
            .iter()
            .filter(|(_, sha)| sha.is_some())
            .map(|(name, _)| name)
            .filter(|name| match file_secret.get(name.as_str()) {
                Some(&secret) => secret,
                None => {
                    let bytes = if name.as_str() == STATE_FILE {
                        observed.state_raw.as_ref()
                    } else {
                        observed
                            .contents
                            .get(*name)
                            .or_else(|| observed.overrides.get(*name))
                    };
                    let side = bytes.map_or(Side::Unread, |b| Side::Bytes(b));
                    carries_secret(name, site, masker, side, Side::Absent)
                }
            })
            .cloned()
            .collect();

        let deleted: BTreeSet<&str> = files
            .iter()
            .filter(|f| f.action == Action::Delete)
            .map(|f| f.name.as_str())
            .collect();
        let boot = Boot::check(
            site,
            desired,
            |n| desired.contains_key(n) || (observed.names.contains(n) && !deleted.contains(n)),
            masker,
        );

        let overrides = overrides(site, desired, observed);
        let mut summary = Summary {
            unmanaged: unmanaged.len(),
            overrides: overrides.iter().filter(|o| o.is_drift()).count(),
            ..Summary::default()
        };
        for f in &files {
            match f.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Delete => summary.delete += 1,
                Action::Unchanged => summary.unchanged += 1,
            }
            if f.drifted {
                summary.drifted += 1;
            }
        }
        let mut plan = SitePlan {
            site: site.name.clone(),
            status: Status::Ok,
            error: None,
            site_file: site.file.clone(),
            site_file_sha256: site_file_sha256.to_owned(),
            target: site.target.display.clone(),
            summary,
            files,
            unmanaged,
            overrides,
            reads,
            secret_reads,
            published_reads: BTreeMap::new(),
            redacted: false,
            apply_would_refuse: None,
            guards: Vec::new(),
            boot,
        };
        let existing = |f: &&FileChange| observed.hashes.contains_key(&f.name) && !f.adopted;
        let managed = plan.files.iter().filter(existing).count();
        let updates = plan
            .files
            .iter()
            .filter(existing)
            .filter(|f| f.action == Action::Update)
            .count();
        plan.guards = guards(&site.safety, managed, plan.summary.delete, updates);
        plan.apply_would_refuse = (!plan.guards.is_empty()).then(|| {
            plan.guards
                .iter()
                .map(Guard::describe)
                .collect::<Vec<_>>()
                .join("; ")
        });
        plan.publish(None);
        plan
    }

    /// A site that could not be planned, and why (one line, secrets
    /// masked already).
    pub fn failed(site: &Site, error: String) -> SitePlan {
        SitePlan {
            site: site.name.clone(),
            status: Status::Error,
            error: Some(error),
            site_file: site.file.clone(),
            site_file_sha256: String::new(),
            target: site.target.display.clone(),
            summary: Summary::default(),
            files: Vec::new(),
            unmanaged: Vec::new(),
            overrides: Vec::new(),
            reads: BTreeMap::new(),
            secret_reads: BTreeSet::new(),
            published_reads: BTreeMap::new(),
            redacted: false,
            apply_would_refuse: None,
            guards: Vec::new(),
            boot: Boot::default(),
        }
    }

    /// Fill in what JSON and plan files show of every hash: plain sha256
    /// for a file that carries no secret; for one that does, its HMAC under
    /// `key`, or nothing (`redacted`) without one. Only for a plan this
    /// process built (a plan read back has no plain hashes to publish).
    pub fn publish(&mut self, key: Option<&HashKey>) {
        for f in &mut self.files {
            f.published = Hashes::publish(
                f.sha256_before.as_deref(),
                f.sha256_after.as_deref(),
                f.carries_secret,
                key,
            );
        }
        self.published_reads = self
            .reads
            .iter()
            .map(|(name, sha)| {
                let shown = if self.secret_reads.contains(name) {
                    keyed(sha.as_deref(), key)
                } else {
                    sha.clone()
                };
                (name.clone(), shown)
            })
            .collect();
        let withheld_read = self
            .secret_reads
            .iter()
            .any(|n| self.reads.get(n).is_some_and(Option::is_some));
        self.redacted =
            key.is_none() && (withheld_read || self.files.iter().any(|f| f.published.redacted));
    }

    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// Whether apply would change any file.
    pub fn has_changes(&self) -> bool {
        self.files.iter().any(|f| f.action != Action::Unchanged)
    }

    /// Whether anything on the target differs from the site (drift): a
    /// file the phones need and do not find included.
    pub fn has_drift(&self) -> bool {
        self.has_changes()
            || self.overrides.iter().any(Override::is_drift)
            || !self.boot.is_complete()
    }

    /// The guards that still stand once the given options are taken into
    /// account: each an error for apply.
    pub fn refusals(&self, allow_mass_delete: bool, allow_mass_update: bool) -> Vec<String> {
        self.guards
            .iter()
            .filter(|g| match g.kind {
                GuardKind::MassDelete => !allow_mass_delete,
                GuardKind::MassUpdate => !allow_mass_update,
            })
            .map(|g| {
                format!(
                    "{}; rerun with {} if that is intended",
                    g.reason,
                    g.option()
                )
            })
            .collect()
    }
}

/// What stands for the diff of a file whose bytes on the target were too
/// large to keep (over `remote::KEEP_BYTES`, read only for its sha256):
/// the same note as [`unified`] gives for any side over the cap. No hash
/// is shown of a file that `carries_secret` (docs/threat-model.md).
pub fn too_large(
    name: &str,
    size: u64,
    before_sha: Option<&str>,
    after: Option<&[u8]>,
    masker: &Masker,
    carries_secret: bool,
) -> String {
    let mut sizes = vec![format!(
        "{} on the target",
        human_size(usize::try_from(size).unwrap_or(usize::MAX))
    )];
    sizes.extend(after.map(|b| format!("{} rendered", human_size(b.len()))));
    let holds_secret =
        carries_secret || after.is_some_and(|b| masker.holds_secret(&String::from_utf8_lossy(b)));
    too_large_note(
        name,
        &sizes,
        holds_secret,
        before_sha.map(str::to_owned),
        after.map(sha256_hex),
    )
}

/// "NAME: too large to diff (SIZES); compared by sha256 A → B", or, for a
/// file that holds a secret, without the hashes.
fn too_large_note(
    name: &str,
    sizes: &[String],
    holds_secret: bool,
    before_sha: Option<String>,
    after_sha: Option<String>,
) -> String {
    let compared = if holds_secret {
        "it holds a secret, so no hash is shown".to_owned()
    } else {
        let absent = || "absent".to_owned();
        format!(
            "compared by sha256 {} → {}",
            before_sha.unwrap_or_else(absent),
            after_sha.unwrap_or_else(absent)
        )
    };
    format!(
        "{name}: too large to diff ({}); {compared}\n",
        sizes.join(", ")
    )
}

/// How long one file's diff may take; past it similar settles for a
/// coarser diff (still correct, just less minimal).
pub const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// A unified diff of one file, secrets masked; binary files, and files
/// over [`DIFF_MAX_BYTES`] on either side, by hash only. Bounded in time
/// and memory whatever the input.
pub fn unified(name: &str, before: Option<&[u8]>, after: Option<&[u8]>, masker: &Masker) -> String {
    let too_large = |b: Option<&[u8]>| b.is_some_and(|b| b.len() > DIFF_MAX_BYTES);
    if too_large(before) || too_large(after) {
        return too_large_to_diff(name, before, after, masker);
    }
    let text = |b: Option<&[u8]>| -> Option<Option<String>> {
        match b {
            None => Some(Some(String::new())),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) if !s.contains('\0') => Some(Some(s.to_owned())),
                _ => None,
            },
        }
    };
    match (text(before), text(after)) {
        (Some(Some(a)), Some(Some(b))) => {
            let old = if before.is_some() {
                format!("a/{name}")
            } else {
                "/dev/null".to_owned()
            };
            let new = if after.is_some() {
                format!("b/{name}")
            } else {
                "/dev/null".to_owned()
            };
            // The old side is what the target holds: a terminal must not
            // obey its escapes.
            crate::mask::visible(&masker.mask_diff(
                before.is_some().then_some(a.as_str()),
                &b,
                |a, b| {
                    TextDiff::configure()
                        .deadline(Instant::now() + DIFF_DEADLINE)
                        .diff_lines(a, b)
                        .unified_diff()
                        .context_radius(3)
                        .header(&old, &new)
                        .to_string()
                },
            ))
        }
        // Like a file too large to diff: no hash of a file that holds a
        // secret (a binary file on the target, and the rendered text with
        // a password in it, whose sha256 can be brute-forced).
        _ if [before, after]
            .into_iter()
            .flatten()
            .any(|b| masker.holds_secret_in(b)) =>
        {
            format!("binary file {name}: it holds a secret, so no hash is shown\n")
        }
        _ => format!(
            "binary file {name}: {} → {}\n",
            before
                .map(sha256_hex)
                .unwrap_or_else(|| "absent".to_owned()),
            after.map(sha256_hex).unwrap_or_else(|| "absent".to_owned())
        ),
    }
}

/// The note that stands in for the diff of a file too large to diff: the
/// sizes, and the hashes unless the file holds a secret (the hash of a
/// small file with a password in it can be brute-forced).
fn too_large_to_diff(
    name: &str,
    before: Option<&[u8]>,
    after: Option<&[u8]>,
    masker: &Masker,
) -> String {
    let sizes: Vec<String> = [(before, "on the target"), (after, "rendered")]
        .into_iter()
        .filter_map(|(b, side)| b.map(|b| format!("{} {side}", human_size(b.len()))))
        .collect();
    // A side over the cap is only scanned for password attributes: looking
    // for every declared secret in it would cost (size × secrets).
    let holds_secret = [before, after].into_iter().flatten().any(|b| {
        if b.len() > DIFF_MAX_BYTES {
            has_password_attribute(b)
        } else {
            masker.holds_secret(&String::from_utf8_lossy(b))
        }
    });
    too_large_note(
        name,
        &sizes,
        holds_secret,
        before.map(sha256_hex),
        after.map(sha256_hex),
    )
}

/// `1.5 KiB`, `16.0 MiB`: a size for people.
fn human_size(bytes: usize) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Override files of declared phones and the declared parameters they set
/// to another value. Files are read as the phone reads them (XML, every
/// attribute a parameter), so neither the XML declaration nor a parameter
/// set to the value the site renders counts.
fn overrides(site: &Site, desired: &Rendered, observed: &Observed) -> Vec<Override> {
    let parsed = |name: &str| -> Vec<(String, String)> {
        desired
            .get(name)
            .and_then(|bytes| polycom::reader::parameters(bytes).ok())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for phone in &site.phones {
        let master = format!("{}.cfg", phone.mac);
        let master_params = parsed(&master);
        // The value the phone runs: leftmost in CONFIG_FILES wins, and the
        // master file's own attributes come last.
        let config_files: Vec<String> = master_params
            .iter()
            .find(|(n, _)| n == "CONFIG_FILES")
            .map(|(_, v)| {
                v.split(',')
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty())
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("{}.cfg", phone.extension), ALTIGEN_CFG.to_owned()]);
        let mut declared: BTreeMap<String, String> = BTreeMap::new();
        for file in &config_files {
            for (name, value) in parsed(file) {
                declared.entry(name).or_insert(value);
            }
        }
        for (name, value) in master_params {
            declared.entry(name).or_insert(value);
        }
        for suffix in OVERRIDE_SUFFIXES {
            let file = format!("{}{suffix}", phone.mac);
            let Some(bytes) = observed.overrides.get(&file) else {
                continue;
            };
            let (shadows, note) = match polycom::reader::parameters(bytes) {
                Ok(params) => {
                    let shadows: BTreeSet<String> = params
                        .into_iter()
                        .filter(|(n, v)| declared.get(n).is_some_and(|d| d != v))
                        .map(|(n, _)| n)
                        .collect();
                    (shadows.into_iter().collect(), None)
                }
                Err(e) => (Vec::new(), Some(format!("does not parse: {e}"))),
            };
            out.push(Override {
                file,
                phone: phone.mac.to_string(),
                shadows,
                note,
            });
        }
    }
    out
}

/// The files through which a handset or its web page override settings.
pub const OVERRIDE_SUFFIXES: [&str; 2] = ["-phone.cfg", "-web.cfg"];

/// Names of every override file the site's phones could write.
pub fn override_names(site: &Site) -> Vec<String> {
    site.phones
        .iter()
        .flat_map(|p| {
            OVERRIDE_SUFFIXES
                .iter()
                .map(move |s| format!("{}{s}", p.mac))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_cap_is_compared_by_hash_at_once() {
        let big = "<x a=\"1\"/>\n".repeat(2 * 1024 * 1024 / 11 + 1);
        assert!(big.len() > DIFF_MAX_BYTES);
        let started = std::time::Instant::now();
        let d = unified(
            "big.cfg",
            Some(big.as_bytes()),
            Some(b"<x a=\"2\"/>\n"),
            &Masker::default(),
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            d,
            format!(
                "big.cfg: too large to diff (2.0 MiB on the target, 11 B rendered); compared by sha256 {} → {}\n",
                sha256_hex(big.as_bytes()),
                sha256_hex(b"<x a=\"2\"/>\n")
            )
        );
    }

    #[test]
    fn a_file_over_the_cap_that_holds_a_secret_shows_sizes_only() {
        let big = "<x a=\"1\"/>\n".repeat(DIFF_MAX_BYTES / 11 + 1);
        let after = "<reg reg.1.auth.password=\"1212\"/>\n";
        let d = unified(
            "201.cfg",
            Some(big.as_bytes()),
            Some(after.as_bytes()),
            &Masker::new(["1212".to_owned()]),
        );
        assert!(
            d.starts_with("201.cfg: too large to diff (1.0 MiB on the target, 34 B rendered)"),
            "{d}"
        );
        assert!(!d.contains(&sha256_hex(after.as_bytes())), "{d}");
        assert!(!d.contains(&sha256_hex(big.as_bytes())), "{d}");
    }

    #[test]
    fn a_target_file_too_large_to_keep_that_carries_a_secret_shows_no_hash() {
        let before = "0".repeat(64);
        let d = too_large(
            "201.cfg",
            3 << 20,
            Some(&before),
            None,
            &Masker::default(),
            true,
        );
        assert!(d.contains("no hash is shown"), "{d}");
        assert!(!d.contains(&before), "{d}");
        let d = too_large(
            "big.cfg",
            3 << 20,
            Some(&before),
            None,
            &Masker::default(),
            false,
        );
        assert!(d.contains(&before), "{d}");
    }

    /// A 201.cfg with this password and label, one attribute a line.
    fn ext_cfg(password: &str, label: &str) -> String {
        format!(
            "<reg\n  reg.1.label=\"{label}\"\n  reg.1.auth.password=\"{password}\"\n  reg.1.auth.userId=\"201\"/>\n"
        )
    }

    #[test]
    fn a_changed_secret_is_marked_changed_without_its_value_or_length() {
        let diff = |old: &str, new: &str| {
            unified(
                "201.cfg",
                Some(ext_cfg(old, "201").as_bytes()),
                Some(ext_cfg(new, "201").as_bytes()),
                &Masker::new([new.to_owned()]),
            )
        };
        let d = diff("old-one", "new-secret");
        assert!(d.contains("\n-  reg.1.auth.password=\"********\"\n"), "{d}");
        assert!(
            d.contains("\n+  reg.1.auth.password=\"******** (changed)\"\n"),
            "{d}"
        );
        assert!(!d.contains("old-one") && !d.contains("new-secret"), "{d}");
        // Other values of other lengths: the very same text.
        assert_eq!(diff("o", "a-much-longer-new-secret"), d);
    }

    #[test]
    fn an_unchanged_secret_beside_a_change_is_only_masked() {
        let d = unified(
            "201.cfg",
            Some(ext_cfg("same", "201").as_bytes()),
            Some(ext_cfg("same", "Lobby").as_bytes()),
            &Masker::new(["same".to_owned()]),
        );
        assert!(d.contains("\n+  reg.1.label=\"Lobby\"\n"), "{d}");
        assert!(d.contains("\n   reg.1.auth.password=\"********\"\n"), "{d}");
        assert!(!d.contains("(changed)") && !d.contains("same"), "{d}");
    }

    #[test]
    fn a_new_file_or_a_new_secret_is_not_called_changed() {
        let masker = Masker::new(["pw".to_owned()]);
        let created = unified(
            "201.cfg",
            None,
            Some(ext_cfg("pw", "201").as_bytes()),
            &masker,
        );
        assert!(
            created.contains("+  reg.1.auth.password=\"********\"\n"),
            "{created}"
        );
        assert!(!created.contains("(changed)"), "{created}");
        let added = unified(
            "201.cfg",
            Some(b"<reg\n  reg.1.label=\"201\"/>\n"),
            Some(ext_cfg("pw", "201").as_bytes()),
            &masker,
        );
        assert!(
            added.contains("+  reg.1.auth.password=\"********\"\n"),
            "{added}"
        );
        assert!(!added.contains("(changed)"), "{added}");
    }

    fn params(before: &str, after: &str, masker: &Masker) -> ParamChanges {
        param_changes("201.cfg", before.as_bytes(), after.as_bytes(), masker)
            .expect("both sides parse")
    }

    fn map<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn parameters_added_removed_and_changed_are_named_with_their_values() {
        let p = params(
            r#"<x a.a="1" b.b="old" c.c="gone" e.e=""/>"#,
            r#"<x a.a="1" b.b="new" d.d="" e.e="0"/>"#,
            &Masker::default(),
        );
        assert_eq!(p.added, map([("d.d", "")]));
        assert_eq!(p.removed, map([("c.c", "gone")]));
        assert_eq!(
            p.changed,
            [
                ("b.b".to_owned(), ("old".to_owned(), "new".to_owned())),
                ("e.e".to_owned(), (String::new(), "0".to_owned())),
            ]
            .into_iter()
            .collect()
        );
        assert!(!p.is_empty());
        assert_eq!(p.counts(), "2 changed, 1 added, 1 removed");
        let names: Vec<&str> = p.rows().iter().map(|r| r.0).collect();
        assert_eq!(names, ["b.b", "c.c", "d.d", "e.e"]);
        let json = serde_json::to_value(&p).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({
                "added": {"d.d": ""},
                "removed": {"c.c": "gone"},
                "changed": {"b.b": ["old", "new"], "e.e": ["", "0"]},
            })
        );
    }

    #[test]
    fn a_hand_made_file_with_the_same_parameters_is_formatting_only() {
        let rendered = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<phone1>\n  <reg\n    reg.1.label=\"201\"\n    reg.1.auth.password=\"1212\"/>\n  <msg msg.bypassInstantMessage=\"1\"/>\n</phone1>\n";
        let by_hand = "\u{feff}<?xml version=\"1.0\"?>\r\n<!-- typed in by hand -->\r\n<all>\r\n\t<a reg.1.auth.password='1212'\r\n\t\tmsg.bypassInstantMessage = \"1\">\r\n\t\t<b reg.1.label=\"201\"/></a>\r\n</all>";
        let p = params(by_hand, rendered, &Masker::new(["1212".to_owned()]));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(p.counts(), "");
    }

    #[test]
    fn a_repeated_name_counts_with_its_first_value_as_on_the_phone() {
        let m = Masker::default();
        // The repeat is ignored by the phone: dropping it changes nothing.
        assert!(params(r#"<a x.y="1"><b x.y="2"/></a>"#, r#"<a x.y="1"/>"#, &m).is_empty());
        // The first value is the one compared.
        let p = params(r#"<a x.y="1"><b x.y="2"/></a>"#, r#"<a x.y="2"/>"#, &m);
        assert_eq!(
            p.changed.get("x.y"),
            Some(&("1".to_owned(), "2".to_owned()))
        );
        let p = params(r#"<a x.y="1"/>"#, r#"<a x.y="2"><b x.y="1"/></a>"#, &m);
        assert_eq!(
            p.changed.get("x.y"),
            Some(&("1".to_owned(), "2".to_owned()))
        );
    }

    #[test]
    fn no_parameter_diff_unless_both_sides_of_a_cfg_file_parse() {
        let m = Masker::default();
        let good = b"<a x.y=\"1\"/>".as_slice();
        for bad in [
            b"<a x.y=\"1\"".as_slice(),
            b"x.y=1\n",
            b"<a x.y=\"\xff\"/>",
            b"",
        ] {
            assert_eq!(param_changes("201.cfg", bad, good, &m), None);
            assert_eq!(param_changes("201.cfg", good, bad, &m), None);
        }
        assert_eq!(param_changes("directory.xml", good, good, &m), None);
        assert!(param_changes("ALTIGEN.CFG", good, good, &m).is_some());
        let big = format!("<a x.y=\"1\">{}</a>", " ".repeat(DIFF_MAX_BYTES));
        assert_eq!(param_changes("201.cfg", big.as_bytes(), good, &m), None);
    }

    #[test]
    fn a_secret_parameter_shows_neither_value_nor_length() {
        let changes = |old: &str, new: &str| {
            params(
                &format!(
                    r#"<reg reg.1.auth.password="{old}" x.Password="{old}" a.b="{old}" gone.password="{old}"/>"#
                ),
                &format!(
                    r#"<reg reg.1.auth.password="{new}" x.Password="{new}" a.b="{new}" new.password="{new}"/>"#
                ),
                &Masker::new([new.to_owned()]),
            )
        };
        let p = changes("old-one", "new-secret");
        let changed = ("********".to_owned(), "******** (changed)".to_owned());
        for name in ["reg.1.auth.password", "x.Password", "a.b"] {
            assert_eq!(p.changed.get(name), Some(&changed), "{name}: {p:?}");
        }
        assert_eq!(p.added, map([("new.password", "********")]));
        assert_eq!(p.removed, map([("gone.password", "********")]));
        let shown = format!("{p:?}{}", serde_json::to_string(&p).expect("serialises"));
        assert!(
            !shown.contains("old-one") && !shown.contains("new-secret"),
            "{shown}"
        );
        // Other values of other lengths: the very same change.
        assert_eq!(changes("o", "a-much-longer-new-secret"), p);
    }

    #[test]
    fn a_hostile_value_from_the_target_is_shown_escaped_on_one_line() {
        let m = Masker::default();
        let p = params(
            "<a x.y=\"a&#13;&#10;b&#9;[2J\u{202e}\" n.m=\"1\"/>",
            "<a x.y=\"ab\" n.m=\"\u{2066}2\"/>",
            &m,
        );
        assert_eq!(
            p.changed.get("x.y"),
            Some(&("a\\x0d\\x0ab\\x09[2J\\u{202e}".to_owned(), "ab".to_owned()))
        );
        assert_eq!(
            p.changed.get("n.m"),
            Some(&("1".to_owned(), "\\u{2066}2".to_owned()))
        );
        // XML has no place for ESC, raw or as a reference: such a file does
        // not parse, and only its (escaped) line diff shows it.
        for hostile in ["<a x.y=\"\u{1b}[2J\"/>", "<a x.y=\"&#27;[2J\"/>"] {
            assert_eq!(
                param_changes("201.cfg", hostile.as_bytes(), b"<a x.y=\"1\"/>", &m),
                None
            );
        }
        let long = params(
            &format!("<a x.y=\"{}\"/>", "x".repeat(100_000)),
            "<a x.y=\"1\"/>",
            &Masker::default(),
        );
        let (old, _) = long.changed.get("x.y").expect("changed");
        assert_eq!(old.chars().count(), crate::mask::MAX_OUTSIDE_CHARS + 1);
    }

    #[test]
    fn a_binary_side_shows_no_hash_of_a_file_that_holds_a_secret() {
        let after = ext_cfg("1212", "201");
        let d = unified(
            "201.cfg",
            Some(b"\x00\x01 garbage"),
            Some(after.as_bytes()),
            &Masker::new(["1212".to_owned()]),
        );
        assert_eq!(
            d,
            "binary file 201.cfg: it holds a secret, so no hash is shown\n"
        );
        let d = unified(
            "logo.bin",
            Some(b"\x00\x01"),
            Some(b"\x00\x02"),
            &Masker::default(),
        );
        assert!(d.contains(&sha256_hex(b"\x00\x02")), "{d}");
    }

    /// A site `hq` with extension 201 and no phones.
    fn hq() -> Site {
        let yaml = "site: hq\ntarget: {url: \"dir:root\"}\nserver: {address: 10.0.0.1}\ntime: {zone: pacific}\nextensions: [{number: \"201\", password: \"1212\"}]\nphones: []\n";
        let (file, positions) =
            crate::site::load::parse_site("sites/hq.yaml", yaml).expect("a site file");
        let (site, diags) = crate::site::rules::check_site("sites/hq.yaml", &file, &positions);
        site.unwrap_or_else(|| panic!("a valid site: {diags:?}"))
    }

    #[test]
    fn only_files_without_a_secret_publish_their_sha256() {
        let site = hq();
        let ext = ext_cfg("1212", "201").into_bytes();
        let altigen = b"<sip a.b=\"1\"/>\n".to_vec();
        let big_on_target = "x".repeat(2 * 1024 * 1024);
        let desired: Rendered = [
            ("201.cfg".to_owned(), ext.clone()),
            ("altigen.cfg".to_owned(), altigen.clone()),
            ("big.cfg".to_owned(), b"<a b.c=\"1\"/>".to_vec()),
        ]
        .into_iter()
        .collect();
        let state = b"{\"site\": \"hq\"}".to_vec();
        let hashes: BTreeMap<String, String> = [
            ("201.cfg", sha256_hex(&ext)),
            ("altigen.cfg", sha256_hex(&altigen)),
            ("big.cfg", sha256_hex(big_on_target.as_bytes())),
        ]
        .into_iter()
        .map(|(n, h)| (n.to_owned(), h))
        .collect();
        let observed = Observed {
            names: hashes.keys().cloned().collect(),
            hashes,
            // Hashed by the server, equal to what is rendered: not read.
            contents: BTreeMap::new(),
            too_large: [("big.cfg".to_owned(), 2 * 1024 * 1024)].into(),
            state_raw: Some(state.clone()),
            state: crate::reconcile::state::State::new("hq"),
            owned: BTreeMap::new(),
            overrides: BTreeMap::new(),
            warnings: Vec::new(),
        };
        let masker = Masker::new(["1212".to_owned()]);
        let mut plan = SitePlan::build(&site, "s", &desired, &observed, &masker);
        let file = |p: &SitePlan, n: &str| {
            p.files
                .iter()
                .find(|f| f.name == n)
                .cloned()
                .expect("planned")
        };
        // Built: redacted until published under a key.
        assert!(plan.redacted);
        assert!(file(&plan, "201.cfg").published.redacted);
        assert_eq!(plan.published_reads["201.cfg"], None);
        let key = HashKey::new(crate::site::secret::Secret::new("k"));
        plan.publish(Some(&key));
        assert!(!plan.redacted);
        let ext_file = file(&plan, "201.cfg");
        assert_eq!(ext_file.published.sha256_after, None);
        assert_eq!(
            ext_file.published.hmac_sha256_after,
            Some(Some(key.hmac(&sha256_hex(&ext))))
        );
        // Polyops's own comparisons keep the plain sha256.
        assert_eq!(ext_file.sha256_after, Some(sha256_hex(&ext)));
        assert_eq!(plan.reads["201.cfg"], Some(sha256_hex(&ext)));
        assert_eq!(
            plan.published_reads["201.cfg"],
            Some(key.hmac(&sha256_hex(&ext)))
        );
        // A file too large to keep on the target: in doubt, a secret.
        let big = file(&plan, "big.cfg");
        assert!(big.carries_secret && big.published.sha256_before.is_none());
        // The rest: plain, as before.
        let plain = file(&plan, "altigen.cfg");
        assert_eq!(plain.published.sha256_after, Some(sha256_hex(&altigen)));
        assert_eq!(plain.published.hmac_sha256_after, None);
        assert_eq!(plan.published_reads[STATE_FILE], Some(sha256_hex(&state)));
    }

    #[test]
    fn a_declared_secret_is_masked_even_in_the_diff_header() {
        let d = unified(
            "201.cfg",
            Some(b"a\n"),
            Some(b"b\n"),
            &Masker::new(["201".to_owned()]),
        );
        assert!(!d.contains("201"), "{d}");
    }
}
