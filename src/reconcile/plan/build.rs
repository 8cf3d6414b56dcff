//! How a plan is made: the files a site wants compared with what its
//! target holds. Ownership comes first (dnscontrol's rule): only files the
//! state claims can be deleted, so no filter after the fact can forget one.

use std::collections::{BTreeMap, BTreeSet};

use crate::mask::Masker;
use crate::reconcile::boot::Boot;
use crate::reconcile::observe::Observed;
use crate::reconcile::plan::change::{execution_order, Action, FileChange};
use crate::reconcile::plan::diff::{too_large, unified};
use crate::reconcile::plan::overrides::{overrides, Override};
use crate::reconcile::plan::params::{param_changes, ParamChanges};
use crate::reconcile::plan::safety::{guards, Guard};
use crate::reconcile::plan::{Plan, ReadHash, SiteId, Summary};
use crate::reconcile::published::{carries_secret, Side};
use crate::reconcile::state::STATE_FILE;
use crate::render::inputs::sha256_hex;
use crate::render::Rendered;
use crate::site::model::Site;

impl Plan {
    /// Compare the files a site wants (`desired`) with what its target
    /// holds. The hashes of files that carry a secret are published as
    /// redacted until [`Plan::publish_under`] is given a key.
    pub fn build(
        site: &Site,
        site_file_sha256: &str,
        desired: &Rendered,
        observed: &Observed,
        masker: &Masker,
    ) -> Plan {
        let mut files: Vec<FileChange> = desired
            .iter()
            .map(|(name, after)| wanted(name, after, observed, masker))
            .collect();
        files.extend(no_longer_wanted(desired, observed, masker));
        files.sort_by_key(execution_order);
        let unmanaged = unmanaged(desired, observed);
        let overrides = overrides(site, desired, observed);
        let summary = summarise(&files, unmanaged.len(), &overrides);
        Plan {
            site: SiteId::of(site),
            site_file_sha256: site_file_sha256.to_owned(),
            reads: reads(desired, observed, &files, masker),
            boot: boot_after(site, desired, observed, &files, masker),
            guards: safety_guards(site, observed, &files),
            summary,
            files,
            unmanaged,
            overrides,
            key: None,
        }
    }
}

/// The change of a file the site wants, rendered as `after`.
fn wanted(name: &str, after: &[u8], observed: &Observed, masker: &Masker) -> FileChange {
    let after_sha = sha256_hex(after);
    let before = observed.bytes(name);
    let before_sha = observed.sha256(name).cloned();
    let recorded = observed.owned(name).cloned().flatten();
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
    let secret = carries_secret(name, masker, before_side, Side::Bytes(after));
    let diff = (action != Action::Unchanged).then(|| match observed.too_large(name) {
        Some(size) => too_large(
            name,
            size,
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
    FileChange {
        name: name.to_owned(),
        action,
        drifted,
        removed,
        adopted: before_sha.is_some() && observed.owned(name).is_none(),
        sha256_before: before_sha,
        sha256_after: Some(after_sha),
        carries_secret: secret,
        diff,
        formatting_only: params.as_ref().is_some_and(ParamChanges::is_empty),
        params,
    }
}

/// The deletes: files polyops owns that the site no longer wants and that
/// are still on the target.
fn no_longer_wanted(desired: &Rendered, observed: &Observed, masker: &Masker) -> Vec<FileChange> {
    let mut deletes = Vec::new();
    for (name, recorded) in &observed.owned {
        let name = name.as_str();
        if desired.contains_key(name) {
            continue;
        }
        let Some(before_sha) = observed.sha256(name).cloned() else {
            continue;
        };
        let before = observed.bytes(name).map(Vec::as_slice);
        let before_side = before.map_or(Side::Unread, Side::Bytes);
        let secret = carries_secret(name, masker, before_side, Side::Absent);
        let diff = match observed.too_large(name) {
            Some(size) => Some(too_large(
                name,
                size,
                Some(&before_sha),
                None,
                masker,
                secret,
            )),
            None => before.map(|b| unified(name, Some(b), None, masker)),
        };
        deletes.push(FileChange {
            name: name.to_owned(),
            action: Action::Delete,
            drifted: recorded.as_ref().is_some_and(|r| *r != before_sha),
            removed: false,
            adopted: false,
            sha256_before: Some(before_sha),
            sha256_after: None,
            carries_secret: secret,
            diff,
            params: None,
            formatting_only: false,
        });
    }
    deletes
}

/// Files at the root that polyops neither wants nor owns (nor are its
/// own: the state file, the lock, temporary names).
fn unmanaged(desired: &Rendered, observed: &Observed) -> Vec<String> {
    observed
        .files
        .keys()
        .map(|n| n.as_str())
        .filter(|n| !desired.contains_key(*n) && observed.owned(n).is_none())
        .filter(|n| !n.starts_with(".polyops"))
        .map(str::to_owned)
        .collect()
}

/// Every target file the plan read (wanted, owned, the state file) and
/// whether it carries a secret: what makes a saved plan stale. A file of
/// the plan is as its change says; any other by the bytes read (none
/// read: in doubt, a secret).
fn reads(
    desired: &Rendered,
    observed: &Observed,
    files: &[FileChange],
    masker: &Masker,
) -> BTreeMap<String, ReadHash> {
    let file_secret: BTreeMap<&str, bool> = files
        .iter()
        .map(|f| (f.name.as_str(), f.carries_secret))
        .collect();
    let mut hashes: BTreeMap<String, (Option<String>, Option<&[u8]>)> = desired
        .keys()
        .map(String::as_str)
        .chain(observed.owned.keys().map(|n| n.as_str()))
        .map(|n| {
            let bytes = observed.bytes(n).map(Vec::as_slice);
            (n.to_owned(), (observed.sha256(n).cloned(), bytes))
        })
        .collect();
    hashes.insert(
        STATE_FILE.to_owned(),
        (
            observed.state_raw.as_deref().map(sha256_hex),
            observed.state_raw.as_deref(),
        ),
    );
    hashes
        .into_iter()
        .map(|(name, (sha256, bytes))| {
            let carries_secret = sha256.is_some()
                && match file_secret.get(name.as_str()) {
                    Some(&secret) => secret,
                    None => {
                        let side = bytes.map_or(Side::Unread, Side::Bytes);
                        carries_secret(&name, masker, side, Side::Absent)
                    }
                };
            (
                name,
                ReadHash {
                    sha256,
                    carries_secret,
                },
            )
        })
        .collect()
}

/// The boot check on the target as it will be after apply: every file
/// uploaded, or there now and not deleted.
fn boot_after(
    site: &Site,
    desired: &Rendered,
    observed: &Observed,
    files: &[FileChange],
    masker: &Masker,
) -> Boot {
    let deleted: BTreeSet<&str> = files
        .iter()
        .filter(|f| f.action == Action::Delete)
        .map(|f| f.name.as_str())
        .collect();
    Boot::check(
        site,
        desired,
        |n| desired.contains_key(n) || (observed.has(n) && !deleted.contains(n)),
        masker,
    )
}

/// The counts of the summary line.
fn summarise(files: &[FileChange], unmanaged: usize, overrides: &[Override]) -> Summary {
    let mut summary = Summary {
        unmanaged,
        overrides: overrides.iter().filter(|o| o.is_drift()).count(),
        ..Summary::default()
    };
    for f in files {
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
    summary
}

/// The site's safety limits against the files polyops manages there now
/// (on the target and written by polyops: a file taken over is not one).
fn safety_guards(site: &Site, observed: &Observed, files: &[FileChange]) -> Vec<Guard> {
    let managed: Vec<&FileChange> = files
        .iter()
        .filter(|f| observed.sha256(&f.name).is_some() && !f.adopted)
        .collect();
    let count = |action: Action| files.iter().filter(|f| f.action == action).count();
    let updates = managed
        .iter()
        .filter(|f| f.action == Action::Update)
        .count();
    guards(&site.safety, managed.len(), count(Action::Delete), updates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::observe::{Content, Seen};
    use crate::reconcile::published::HashKey;
    use crate::remote::RemoteName;

    /// A site `hq` with extension 201 and no phones.
    fn hq() -> Site {
        let yaml = "site: hq\ntarget: {url: \"dir:root\"}\nserver: {address: 10.0.0.1}\ntime: {zone: pacific}\nextensions: [{number: \"201\", password: \"1212\"}]\nphones: []\n";
        let (file, positions) =
            crate::site::parse::parse_site("sites/hq.yaml", yaml).expect("a site file");
        let (site, diags) = crate::site::rules::check_site("sites/hq.yaml", &file, &positions);
        site.unwrap_or_else(|| panic!("a valid site: {diags:?}"))
    }

    fn remote(name: &str) -> RemoteName {
        RemoteName::new(name).expect("a valid name")
    }

    /// A target holding `files` (name → what was seen) and this state.
    fn target(files: Vec<(&str, Seen)>, state: Option<&[u8]>) -> Observed {
        Observed {
            files: files.into_iter().map(|(n, s)| (remote(n), s)).collect(),
            state_raw: state.map(<[u8]>::to_vec),
            ..Observed::default()
        }
    }

    /// Hashed by the server: its sha256, its bytes not read.
    fn hashed(sha256: String) -> Seen {
        Seen {
            sha256: Some(sha256),
            content: Content::Unread,
        }
    }

    #[test]
    fn only_files_without_a_secret_publish_their_sha256() {
        let site = hq();
        let ext = b"<reg\n  reg.1.label=\"201\"\n  reg.1.auth.password=\"1212\"/>\n".to_vec();
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
        let big = Seen {
            sha256: Some(sha256_hex(big_on_target.as_bytes())),
            content: Content::TooLarge(2 * 1024 * 1024),
        };
        // Hashed by the server, equal to what is rendered: not read.
        let observed = target(
            vec![
                ("201.cfg", hashed(sha256_hex(&ext))),
                ("altigen.cfg", hashed(sha256_hex(&altigen))),
                ("big.cfg", big),
            ],
            Some(&state),
        );
        let masker = Masker::new(["1212".to_owned()]);
        let mut plan = Plan::build(&site, "s", &desired, &observed, &masker);
        let file = |p: &Plan, n: &str| {
            p.files
                .iter()
                .find(|f| f.name == n)
                .cloned()
                .expect("planned")
        };
        // Built: redacted until published under a key.
        assert!(plan.is_redacted());
        assert!(plan.published(&file(&plan, "201.cfg")).redacted);
        assert_eq!(plan.published_reads()["201.cfg"], None);
        let key = HashKey::new(crate::site::secret::Secret::new("k"));
        plan.publish_under(Some(key.clone()));
        assert!(!plan.is_redacted());
        let ext_file = file(&plan, "201.cfg");
        assert_eq!(plan.published(&ext_file).sha256_after, None);
        assert_eq!(
            plan.published(&ext_file).hmac_sha256_after,
            Some(Some(key.hmac(&sha256_hex(&ext))))
        );
        // Polyops's own comparisons keep the plain sha256.
        assert_eq!(ext_file.sha256_after, Some(sha256_hex(&ext)));
        assert_eq!(plan.reads["201.cfg"].sha256, Some(sha256_hex(&ext)));
        assert_eq!(
            plan.published_reads()["201.cfg"],
            Some(key.hmac(&sha256_hex(&ext)))
        );
        // A file too large to keep on the target: in doubt, a secret.
        let big = file(&plan, "big.cfg");
        assert!(big.carries_secret && plan.published(&big).sha256_before.is_none());
        // The rest: plain, as before.
        let plain = file(&plan, "altigen.cfg");
        assert_eq!(
            plan.published(&plain).sha256_after,
            Some(sha256_hex(&altigen))
        );
        assert_eq!(plan.published(&plain).hmac_sha256_after, None);
        assert_eq!(plan.published_reads()[STATE_FILE], Some(sha256_hex(&state)));
    }

    #[test]
    fn only_files_the_state_owns_are_deleted_and_the_rest_is_unmanaged() {
        let site = hq();
        let desired: Rendered = [("altigen.cfg".to_owned(), b"<a/>".to_vec())].into();
        let kept = |bytes: &[u8]| Seen {
            sha256: Some(sha256_hex(bytes)),
            content: Content::Kept(bytes.to_vec()),
        };
        let mut observed = target(
            vec![
                ("202.cfg", kept(b"<old/>")),
                ("sip.cfg", Seen::default()),
                (".polyops-state.json", Seen::default()),
            ],
            None,
        );
        observed
            .owned
            .insert(remote("202.cfg"), Some(sha256_hex(b"<old/>")));
        observed.owned.insert(remote("203.cfg"), None);
        let plan = Plan::build(&site, "s", &desired, &observed, &Masker::default());
        let actions: Vec<(&str, Action)> = plan
            .files
            .iter()
            .map(|f| (f.name.as_str(), f.action))
            .collect();
        assert_eq!(
            actions,
            [("altigen.cfg", Action::Create), ("202.cfg", Action::Delete)]
        );
        assert_eq!(plan.unmanaged, ["sip.cfg"]);
        // Owned and gone: read as absent, and not deleted.
        assert_eq!(plan.reads["203.cfg"].sha256, None);
    }
}
