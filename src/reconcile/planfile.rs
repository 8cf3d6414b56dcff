//! Plan files (docs/apply.md "Plan files"): what `plan --out` saves and
//! `apply --plan` carries out. A plan file is the JSON document of a plan
//! without its diffs: a `format_version`, `mode: plan`, and a
//! `record::SiteRecord` per site (hashes only, never a secret). A plan
//! file of a version this polyops does not read is refused before anything
//! else in it is read. Whether a saved plan is stale is decided here, from
//! what the file holds against a fresh plan.

use crate::error::PlanFileError;
use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::reconcile::plan::{Action, Plan, Refusal};
use crate::reconcile::record::{SiteRecord, SiteStatus, FORMAT_VERSION};

/// The `mode` of a plan file.
const PLAN: &str = "plan";

/// A saved plan: every site of it planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFile {
    pub format_version: u32,
    pub mode: String,
    pub sites: Vec<SiteRecord>,
}

/// Only the version of a plan file, read before the rest: a file of
/// another version may have another shape.
#[derive(Deserialize)]
struct Version {
    format_version: Option<u64>,
}

impl PlanFile {
    /// The plan file of these plans.
    pub fn of<'a>(plans: impl IntoIterator<Item = &'a Plan>) -> Self {
        PlanFile {
            format_version: FORMAT_VERSION,
            mode: PLAN.to_owned(),
            sites: plans
                .into_iter()
                .map(|p| SiteRecord::of(p, true).without_contents())
                .collect(),
        }
    }

    /// Write it to `path`.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("a plan file always serialises");
        bytes.push(b'\n');
        std::fs::write(path, bytes).map_err(|e| Error::Write {
            path: path.to_owned(),
            source: e,
        })
    }

    /// Read the plan file at `path`: of this polyops's version, a plan,
    /// of at least one site, each planned and named once.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bad = |problem: PlanFileError| Error::PlanFile {
            path: path.to_owned(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(PlanFileError::Read(e)))?;
        Self::parse(&bytes).map_err(bad)
    }

    /// A plan file's bytes, checked as [`PlanFile::read`] says; `Err` is
    /// one line.
    fn parse(bytes: &[u8]) -> Result<Self, PlanFileError> {
        let version: Version = serde_json::from_slice(bytes).map_err(PlanFileError::Json)?;
        match version.format_version {
            None => return Err(PlanFileError::NoVersion),
            Some(v) if v != u64::from(FORMAT_VERSION) => {
                return Err(PlanFileError::OtherVersion {
                    found: v,
                    reads: u64::from(FORMAT_VERSION),
                })
            }
            Some(_) => {}
        }
        let file: PlanFile = serde_json::from_slice(bytes).map_err(PlanFileError::Json)?;
        if file.mode != PLAN {
            return Err(PlanFileError::NotAPlan);
        }
        if file.sites.is_empty() {
            return Err(PlanFileError::NoSite);
        }
        if let Some(s) = file.sites.iter().find(|s| s.status != SiteStatus::Ok) {
            return Err(PlanFileError::Failed(s.site.clone()));
        }
        let mut seen = BTreeSet::new();
        for s in &file.sites {
            if !seen.insert(&s.site) {
                return Err(PlanFileError::Twice(s.site.clone()));
            }
        }
        Ok(file)
    }

    /// The saved plan of site `name`.
    pub fn site(&self, name: &str) -> Option<&SiteRecord> {
        self.sites.iter().find(|s| s.site == name)
    }

    /// Whether it plans site `name`.
    pub fn plans(&self, name: &str) -> bool {
        self.site(name).is_some()
    }
}

/// Why a saved plan no longer matches the sites or the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// It was made without a hash key: a redacted hash is `null`, like an
    /// absent file's, so it could compare equal to a target whose secrets
    /// changed.
    Redacted,
    /// This site file changed.
    SiteFile(String),
    /// A rendered byte changed (the site, a secret, a firmware file);
    /// `another_key`: a keyed hash differs, so the plan may have been made
    /// under another key instead.
    Rendered { another_key: bool },
    /// A file the plan read on the target changed.
    TargetFile { name: String, another_key: bool },
    /// A file the plan read is no longer among those a plan reads.
    TargetFiles,
}

/// What a stale plan's reason adds when a keyed hash differs: the plan
/// may have been made under another key rather than for other files.
const ANOTHER_KEY: &str = ", or the plan was made under another hash key";

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let another = |yes: bool| if yes { ANOTHER_KEY } else { "" };
        match self {
            Stale::Redacted => f.write_str(
                "it was made without a hash key, so the files in it that hold a secret cannot be checked",
            ),
            Stale::SiteFile(file) => write!(f, "{file} changed since the plan was made"),
            Stale::Rendered { another_key } => write!(
                f,
                "the rendered files (site, secrets or firmware) changed since the plan was made{}",
                another(*another_key)
            ),
            Stale::TargetFile { name, another_key } => write!(
                f,
                "{name} on the target changed since the plan was made{}",
                another(*another_key)
            ),
            Stale::TargetFiles => {
                f.write_str("the files on the target changed since the plan was made")
            }
        }
    }
}

impl Plan {
    /// Whether `saved`, this site's plan in a plan file, still holds: it
    /// is refused as stale when the site file, any rendered byte, or any
    /// file the plan read on the target changed since. What the plans
    /// publish is compared: plain sha256, or for a file that carries a
    /// secret its HMAC (the same under the same key, different under
    /// another).
    pub fn check_saved(&self, saved: &SiteRecord) -> Result<(), Refusal> {
        match staleness(saved, self) {
            Some(stale) => Err(Refusal::Stale(stale)),
            None => Ok(()),
        }
    }
}

fn staleness(saved: &SiteRecord, fresh: &Plan) -> Option<Stale> {
    if saved.redacted || saved.files.iter().any(|f| f.hashes.redacted) {
        return Some(Stale::Redacted);
    }
    if saved.site_file_sha256 != fresh.site_file_sha256 {
        return Some(Stale::SiteFile(fresh.site.file.clone()));
    }
    type After = BTreeSet<(String, Option<String>, Option<Option<String>>)>;
    let was: After = saved
        .files
        .iter()
        .filter(|f| f.action != Action::Delete)
        .map(|f| {
            let h = &f.hashes;
            (
                f.name.clone(),
                h.sha256_after.clone(),
                h.hmac_sha256_after.clone(),
            )
        })
        .collect();
    let is: After = fresh
        .files
        .iter()
        .filter(|f| f.action != Action::Delete)
        .map(|f| {
            let h = fresh.published(f);
            (f.name.clone(), h.sha256_after, h.hmac_sha256_after)
        })
        .collect();
    if was != is {
        let another_key = was
            .symmetric_difference(&is)
            .any(|(_, _, hmac)| matches!(hmac, Some(Some(_))));
        return Some(Stale::Rendered { another_key });
    }
    let reads = fresh.published_reads();
    for (name, sha) in &reads {
        if saved.reads.get(name) != Some(sha) {
            let another_key =
                sha.is_some() && fresh.reads.get(name).is_some_and(|r| r.carries_secret);
            return Some(Stale::TargetFile {
                name: name.clone(),
                another_key,
            });
        }
    }
    if saved.reads.len() != reads.len() {
        return Some(Stale::TargetFiles);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::plan::{FileChange, ReadHash};
    use crate::reconcile::published::HashKey;
    use crate::site::secret::Secret;

    /// A plan of `hq` that creates 201.cfg (a file that carries a secret)
    /// and read the state file, published under `key`.
    fn plan(key: &str) -> Plan {
        let mut plan = Plan::example(vec![FileChange {
            name: "201.cfg".to_owned(),
            action: Action::Create,
            drifted: false,
            removed: false,
            adopted: false,
            sha256_before: None,
            sha256_after: Some("a".repeat(64)),
            carries_secret: true,
            diff: Some("--- /dev/null\n+++ b/201.cfg\n@@ -0,0 +1 @@\n+<reg/>\n".to_owned()),
            params: None,
            formatting_only: false,
        }]);
        plan.reads.insert(
            ".polyops-state.json".to_owned(),
            ReadHash {
                sha256: Some("b".repeat(64)),
                carries_secret: false,
            },
        );
        plan.publish_under(Some(HashKey::new(Secret::new(key))));
        plan
    }

    fn saved(plan: &Plan) -> PlanFile {
        let bytes = serde_json::to_vec(&PlanFile::of([plan])).expect("serialises");
        PlanFile::parse(&bytes).expect("a plan file reads back")
    }

    #[test]
    fn a_plan_file_reads_back_as_written_without_its_diffs() {
        let plan = plan("a-long-enough-key");
        let file = PlanFile::of([&plan]);
        let text = serde_json::to_string(&file).expect("serialises");
        assert!(!text.contains("\"diff\""), "{text}");
        assert_eq!(saved(&plan), file);
        assert_eq!(file.format_version, FORMAT_VERSION);
    }

    #[test]
    fn a_plan_file_is_the_json_of_the_plan_without_its_diffs() {
        let plan = plan("a-long-enough-key");
        let json = serde_json::to_value(SiteRecord::of(&plan, true)).expect("serialises");
        let mut without = json.clone();
        without["files"][0]
            .as_object_mut()
            .expect("a file")
            .remove("diff");
        assert_ne!(json, without, "the JSON has a diff");
        let saved = serde_json::to_value(&PlanFile::of([&plan]).sites[0]).expect("serialises");
        assert_eq!(saved, without);
    }

    #[test]
    fn a_plan_file_of_another_version_is_refused_before_its_shape_is_read() {
        for (text, why) in [
            (
                r#"{"format_version": 2, "plans": {"hq": []}}"#,
                "it has format version 2, and this polyops reads version 1 only; make the plan again with this polyops",
            ),
            (
                r#"{"mode": "plan", "sites": []}"#,
                "it has no format_version: not a polyops plan file",
            ),
            (r#"{"format_version": 1, "mode": "drift", "sites": []}"#, "not a plan"),
            (r#"{"format_version": 1, "mode": "plan", "sites": []}"#, "it plans no site"),
        ] {
            let refused = PlanFile::parse(text.as_bytes()).expect_err("refused");
            assert_eq!(refused.to_string(), why);
        }
    }

    #[test]
    fn a_saved_plan_is_stale_once_what_it_was_made_from_changed() {
        let made = plan("a-long-enough-key");
        let file = saved(&made);
        let saved = file.site("hq").expect("hq is planned");
        assert_eq!(made.check_saved(saved), Ok(()));

        let mut site_changed = made.clone();
        site_changed.site_file_sha256 = "c".repeat(64);
        assert_eq!(
            site_changed.check_saved(saved),
            Err(Refusal::Stale(Stale::SiteFile("sites/hq.yaml".to_owned())))
        );

        let other_key = plan("another-long-key");
        assert_eq!(
            other_key.check_saved(saved),
            Err(Refusal::Stale(Stale::Rendered { another_key: true }))
        );

        let mut target_changed = made.clone();
        if let Some(read) = target_changed.reads.get_mut(".polyops-state.json") {
            read.sha256 = Some("d".repeat(64));
        }
        let refused = target_changed.check_saved(saved).expect_err("stale");
        assert_eq!(
            refused.to_string(),
            ".polyops-state.json on the target changed since the plan was made"
        );

        let mut unkeyed = made.clone();
        unkeyed.publish_under(None);
        let redacted = self::saved(&unkeyed);
        assert_eq!(
            made.check_saved(&redacted.sites[0]),
            Err(Refusal::Stale(Stale::Redacted))
        );
    }
}
