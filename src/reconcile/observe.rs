//! Read what a target holds of a site: the state file, and the bytes of
//! every file polyops wants or owns there. Files polyops does not own are
//! only listed, never read (but for a declared phone's override files).
//! Everything read here may have been written by anyone with the phones'
//! account: names become `RemoteName`s or are dropped, the state's claims
//! are checked (`State::claims`), and no read is larger than polyops's caps.

use std::collections::{BTreeMap, BTreeSet};

use crate::reconcile::state::{State, STATE_FILE};
use crate::remote::{Cause, Fetched, Found, Reader, RemoteError, RemoteName, MAX_STATE_BYTES};

/// What a target holds of a site.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Every file at the root (listed, or found by name), and what was
    /// seen of it. A name that is not here is absent.
    pub files: BTreeMap<RemoteName, Seen>,
    /// The state file's bytes, if there is one.
    pub state_raw: Option<Vec<u8>>,
    /// What the state may claim (see `State::claims`): name → sha256.
    pub owned: BTreeMap<RemoteName, Option<String>>,
    /// What the caller should hear: state entries ignored, names in the
    /// listing that could not be used. Printable already.
    pub warnings: Vec<String>,
}

/// What was seen of one file at the root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// Its sha256, for a file polyops wants or owns; `None` for any
    /// other file, which is only listed (a phone's override file read).
    pub sha256: Option<String>,
    pub content: Content,
}

/// What polyops has of a file's bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Content {
    /// Not read: only listed, or hashed by the server and as wanted.
    #[default]
    Unread,
    /// Its bytes: a wanted or owned file read (all of them, or when the
    /// server hashes files only those that differ from what is wanted),
    /// or a phone's override file. Never more than `remote::KEEP_BYTES`.
    Kept(Vec<u8>),
    /// Read for its sha256, but too large to keep: its size.
    TooLarge(u64),
}

impl Observed {
    /// What was seen of `name`; `None`: absent (or a name no target can
    /// hold).
    pub fn seen(&self, name: &str) -> Option<&Seen> {
        RemoteName::new(name).ok().and_then(|n| self.files.get(&n))
    }

    /// Whether `name` is at the root.
    pub fn has(&self, name: &str) -> bool {
        self.seen(name).is_some()
    }

    /// The sha256 of a wanted or owned file that is there.
    pub fn sha256(&self, name: &str) -> Option<&String> {
        self.seen(name).and_then(|s| s.sha256.as_ref())
    }

    /// The bytes of `name`, when they were read and kept.
    pub fn bytes(&self, name: &str) -> Option<&Vec<u8>> {
        match self.seen(name).map(|s| &s.content) {
            Some(Content::Kept(bytes)) => Some(bytes),
            _ => None,
        }
    }

    /// The size of a file read whose bytes were too large to keep.
    pub fn too_large(&self, name: &str) -> Option<u64> {
        match self.seen(name).map(|s| &s.content) {
            Some(Content::TooLarge(size)) => Some(*size),
            _ => None,
        }
    }

    /// What the state claims of `name`, when it claims it: its sha256 as
    /// polyops wrote it (`None`: unknown).
    pub fn owned(&self, name: &str) -> Option<&Option<String>> {
        RemoteName::new(name).ok().and_then(|n| self.owned.get(&n))
    }

    /// How many files were hashed (wanted or owned, and there).
    pub fn hashed(&self) -> usize {
        self.files.values().filter(|s| s.sha256.is_some()).count()
    }

    /// Record `name` as there, a wanted or owned file with this sha256.
    fn hashed_as(&mut self, name: RemoteName, sha256: String) {
        self.files.entry(name).or_default().sha256 = Some(sha256);
    }

    /// Keep what was read of `name`.
    fn keep(&mut self, name: RemoteName, fetched: Fetched) {
        self.files.entry(name).or_default().content = match fetched.bytes {
            Some(bytes) => Content::Kept(bytes),
            None => Content::TooLarge(fetched.size),
        };
    }
}

fn name(n: &str) -> Result<RemoteName, RemoteError> {
    RemoteName::new(n)
        .map_err(|why| RemoteError::new(Cause::Refused, format!("cannot use the name {n}: {why}")))
}

/// Observe `target` for a site that wants `wanted` (name → sha256) and may
/// have written `override_names` (phones' own files, read for the drift
/// report only). A server that hashes files saves downloading the files
/// that are already as wanted. The state file, the listing, the wanted
/// files and the override files the listing shows are asked for at once
/// (`Reader::survey`); what only the state file names comes after.
pub fn observe(
    target: &mut dyn Reader,
    site: &str,
    wanted: &BTreeMap<String, String>,
    override_names: &[String],
) -> Result<Observed, RemoteError> {
    let wanted_names: Vec<RemoteName> = wanted.keys().map(|n| name(n)).collect::<Result<_, _>>()?;
    let override_names: Vec<RemoteName> = override_names
        .iter()
        .map(|n| name(n))
        .collect::<Result<_, _>>()?;
    let survey = target.survey(
        &name(STATE_FILE)?,
        MAX_STATE_BYTES,
        &wanted_names,
        &override_names,
    )?;
    let state = match &survey.state {
        Some(b) => State::parse(b).map_err(|e| RemoteError::new(Cause::Refused, e.to_string()))?,
        None => State::new(site),
    };
    if !state.site.is_empty() && state.site != site {
        return Err(RemoteError::new(
            Cause::Refused,
            format!(
                "{STATE_FILE} belongs to site {}, not {site}: two sites must not share a target",
                crate::mask::printable(&state.site)
            ),
        ));
    }
    let declared: BTreeSet<String> = wanted.keys().cloned().collect();
    let claims = state.claims(&declared);
    let mut observed = Observed {
        files: survey
            .entries
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| (e.name, Seen::default()))
            .collect(),
        state_raw: survey.state,
        owned: claims.owned,
        warnings: claims.ignored,
    };
    let mut found = vec![survey.wanted];
    let listing_complete = target.stats().listing_cut.is_none();
    found.extend(fetch_owned_only(
        target,
        &observed,
        wanted,
        listing_complete,
    )?);
    for found in found {
        take_found(target, &mut observed, found, wanted)?;
    }
    read_overrides(target, &mut observed, survey.listed, override_names)?;
    let refused = target.stats().refused_names;
    if !refused.is_empty() {
        observed.warnings.push(refused_names(&refused));
    }
    Ok(observed)
}

/// Files the state owns that the site no longer wants: only a state file
/// names them, so they are asked for once it is read, and only those the
/// listing shows (a name the state lists that is in no complete listing is
/// not on the target, and asking for it would let a forged state multiply
/// the work of a plan). Past a listing cut short they are asked for by
/// name: `State::claims` bounds how many there are. `None`: there are none.
fn fetch_owned_only(
    target: &mut dyn Reader,
    observed: &Observed,
    wanted: &BTreeMap<String, String>,
    listing_complete: bool,
) -> Result<Option<Found>, RemoteError> {
    let extra: Vec<RemoteName> = observed
        .owned
        .keys()
        .filter(|n| !wanted.contains_key(n.as_str()))
        .filter(|n| !listing_complete || observed.files.contains_key(*n))
        .cloned()
        .collect();
    if extra.is_empty() {
        return Ok(None);
    }
    Ok(Some(match target.hash_many(&extra)? {
        Some(hashes) => Found::Hashed(hashes),
        None => Found::Read(target.read_many(&extra)?),
    }))
}

/// Record the wanted or owned files found: a file the server hashed is
/// downloaded only when it differs from what is wanted.
fn take_found(
    target: &mut dyn Reader,
    observed: &mut Observed,
    found: Found,
    wanted: &BTreeMap<String, String>,
) -> Result<(), RemoteError> {
    match found {
        Found::Hashed(hashed) => {
            let mut differ = Vec::new();
            for (n, sha) in hashed {
                // Absent (or gone since the listing).
                let Some(sha) = sha else { continue };
                if wanted.get(n.as_str()) != Some(&sha) {
                    differ.push(n.clone());
                }
                observed.hashed_as(n, sha);
            }
            for (n, f) in target.read_many(&differ)? {
                observed.keep(n, f);
            }
        }
        Found::Read(read) => {
            for (n, f) in read {
                observed.hashed_as(n.clone(), f.sha256.clone());
                observed.keep(n, f);
            }
        }
    }
    Ok(())
}

/// Keep the phones' override files: those the survey read, and those
/// past a listing cut short that were found by name anyway, read now.
/// One too large to keep is a warning, not read.
fn read_overrides(
    target: &mut dyn Reader,
    observed: &mut Observed,
    listed: Vec<(RemoteName, Fetched)>,
    override_names: Vec<RemoteName>,
) -> Result<(), RemoteError> {
    let mut read = listed;
    let late: Vec<RemoteName> = override_names
        .into_iter()
        .filter(|n| observed.files.contains_key(n))
        .filter(|n| !read.iter().any(|(r, _)| r == n))
        .collect();
    read.extend(target.read_many(&late)?);
    read.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (n, f) in read {
        match f.bytes {
            Some(b) => {
                let seen = observed.files.entry(n).or_default();
                if seen.content == Content::Unread {
                    seen.content = Content::Kept(b);
                }
            }
            None => observed.warnings.push(format!(
                "{n} is {} bytes, too large to check for overrides; not read",
                f.size
            )),
        }
    }
    Ok(())
}

/// The warning for the names in a listing that cannot be a `RemoteName`.
fn refused_names(refused: &[String]) -> String {
    let shown: Vec<String> = refused
        .iter()
        .take(5)
        .map(|n| format!("\"{}\"", n.chars().take(80).collect::<String>()))
        .collect();
    format!(
        "the listing holds {} name{} polyops cannot use (control characters, path separators, . / .. or symbolic links), left out: {}{}",
        refused.len(),
        if refused.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if refused.len() > 5 { ", …" } else { "" }
    )
}

/// Ask by name for `names` that the listing did not show, and record
/// those that exist: a server may cut a listing short (pure-ftpd stops at
/// 10,000 names, over TLS without saying so), and a file must not be
/// called missing that is there. A name that cannot be a remote name
/// cannot be on the target either. Nothing is asked when the listing shows
/// them all.
pub fn look_up_unlisted(
    target: &mut dyn Reader,
    observed: &mut Observed,
    names: impl IntoIterator<Item = String>,
) -> Result<(), RemoteError> {
    let unlisted: Vec<RemoteName> = names
        .into_iter()
        .filter_map(|n| RemoteName::new(&n).ok())
        .filter(|n| !observed.files.contains_key(n))
        .collect();
    if unlisted.is_empty() {
        return Ok(());
    }
    let found: Vec<RemoteName> = match target.hash_many(&unlisted)? {
        Some(hashes) => hashes
            .into_iter()
            .filter(|(_, sha)| sha.is_some())
            .map(|(n, _)| n)
            .collect(),
        None => target
            .read_many(&unlisted)?
            .into_iter()
            .map(|(n, _)| n)
            .collect(),
    };
    for n in found {
        observed.files.entry(n).or_default();
    }
    Ok(())
}
