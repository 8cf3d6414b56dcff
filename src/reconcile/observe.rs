//! Read what a target holds of a site: the state file, and the bytes of
//! every file polyops wants or owns there. Files polyops does not own are
//! only listed, never read (but for a declared phone's override files).
//! Everything read here may have been written by anyone with the phones'
//! account: names become `RemoteName`s or are dropped, the state's claims
//! are checked (`State::claims`), and no read is larger than polyops's caps.

use std::collections::{BTreeMap, BTreeSet};

use crate::reconcile::state::{State, STATE_FILE};
use crate::remote::{Cause, Fetched, Found, Reader, RemoteError, RemoteName, MAX_STATE_BYTES};

pub struct Observed {
    /// Every file name at the root.
    pub names: BTreeSet<String>,
    /// sha256 of every wanted or owned file that exists.
    pub hashes: BTreeMap<String, String>,
    /// Bytes of those files, when read: all of them, or (when the server
    /// hashes files itself) only those that differ from what is wanted;
    /// never a file larger than `remote::KEEP_BYTES`.
    pub contents: BTreeMap<String, Vec<u8>>,
    /// Files read whose bytes were too large to keep: their sizes.
    pub too_large: BTreeMap<String, u64>,
    /// The state file's bytes, if there is one.
    pub state_raw: Option<Vec<u8>>,
    pub state: State,
    /// What the state may claim (see `State::claims`): name → sha256.
    pub owned: BTreeMap<String, Option<String>>,
    /// Override files written by declared phones (no larger than
    /// `remote::KEEP_BYTES`).
    pub overrides: BTreeMap<String, Vec<u8>>,
    /// What the caller should hear: state entries ignored, names in the
    /// listing that could not be used. Printable already.
    pub warnings: Vec<String>,
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
    let state_raw = survey.state;
    let state = match &state_raw {
        Some(b) => State::parse(b).map_err(|m| RemoteError::new(Cause::Refused, m))?,
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
    let mut warnings = claims.ignored;
    let mut names: BTreeSet<String> = survey
        .entries
        .into_iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.name.as_str().to_owned())
        .collect();
    // Files the state owns that the site no longer wants: only a state
    // file names them, so they are asked for (by name, as every file where
    // there is a state file) once it is read.
    let extra: Vec<RemoteName> = claims
        .owned
        .keys()
        .filter(|n| !wanted.contains_key(n.as_str()))
        .cloned()
        .collect();
    let mut found = vec![survey.wanted];
    if !extra.is_empty() {
        found.push(match target.hash_many(&extra)? {
            Some(hashes) => Found::Hashed(hashes),
            None => Found::Read(target.read_many(&extra)?),
        });
    }
    let mut hashes = BTreeMap::new();
    let mut contents = BTreeMap::new();
    let mut too_large = BTreeMap::new();
    let mut keep = |n: RemoteName, f: Fetched| match f.bytes {
        Some(b) => {
            contents.insert(n.as_str().to_owned(), b);
        }
        None => {
            too_large.insert(n.as_str().to_owned(), f.size);
        }
    };
    for found in found {
        match found {
            Found::Hashed(hashed) => {
                let mut differ = Vec::new();
                for (n, sha) in hashed {
                    // Absent (or gone since the listing).
                    let Some(sha) = sha else { continue };
                    if wanted.get(n.as_str()) != Some(&sha) {
                        differ.push(n.clone());
                    }
                    names.insert(n.as_str().to_owned());
                    hashes.insert(n.as_str().to_owned(), sha);
                }
                for (n, f) in target.read_many(&differ)? {
                    keep(n, f);
                }
            }
            Found::Read(read) => {
                for (n, f) in read {
                    names.insert(n.as_str().to_owned());
                    hashes.insert(n.as_str().to_owned(), f.sha256.clone());
                    keep(n, f);
                }
            }
        }
    }
    // Override files past a listing cut short that were found by name
    // anyway are read now; the others came with the survey.
    let mut read_overrides = survey.listed;
    let late: Vec<RemoteName> = override_names
        .into_iter()
        .filter(|n| names.contains(n.as_str()))
        .filter(|n| !read_overrides.iter().any(|(r, _)| r == n))
        .collect();
    read_overrides.extend(target.read_many(&late)?);
    read_overrides.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mut overrides = BTreeMap::new();
    for (n, f) in read_overrides {
        match f.bytes {
            Some(b) => {
                overrides.insert(n.as_str().to_owned(), b);
            }
            None => warnings.push(format!(
                "{n} is {} bytes, too large to check for overrides; not read",
                f.size
            )),
        }
    }
    let refused = target.stats().refused_names;
    if !refused.is_empty() {
        let shown: Vec<String> = refused
            .iter()
            .take(5)
            .map(|n| format!("\"{}\"", n.chars().take(80).collect::<String>()))
            .collect();
        warnings.push(format!(
            "the listing holds {} name{} polyops cannot use (control characters, path separators, . / .. or symbolic links), left out: {}{}",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" },
            shown.join(", "),
            if refused.len() > 5 { ", …" } else { "" }
        ));
    }
    Ok(Observed {
        names,
        hashes,
        contents,
        too_large,
        state_raw,
        state,
        owned: claims
            .owned
            .into_iter()
            .map(|(n, s)| (n.as_str().to_owned(), s))
            .collect(),
        overrides,
        warnings,
    })
}
