//! Read what a target holds of a site: the state file, and the bytes of
//! every file polyops wants or owns there. Files polyops does not own are
//! only listed, never read (but for a declared phone's override files).

use std::collections::{BTreeMap, BTreeSet};

use crate::inputs::sha256_hex;
use crate::state::{State, STATE_FILE};
use crate::target::{Entry, Kind, Target, TargetError};

pub struct Observed {
    /// Every file name at the root.
    pub names: BTreeSet<String>,
    /// sha256 of every wanted or owned file that exists.
    pub hashes: BTreeMap<String, String>,
    /// Bytes of those files, when read: all of them, or (when the server
    /// hashes files itself) only those that differ from what is wanted.
    pub contents: BTreeMap<String, Vec<u8>>,
    /// The state file's bytes, if there is one.
    pub state_raw: Option<Vec<u8>>,
    pub state: State,
    /// Override files written by declared phones.
    pub overrides: BTreeMap<String, Vec<u8>>,
}

/// Observe `target` for a site that wants `wanted` (name → sha256) and may
/// have written `override_names` (phones' own files, read for the drift
/// report only). A server that hashes files saves downloading the files
/// that are already as wanted.
pub fn observe(
    target: &mut dyn Target,
    site: &str,
    wanted: &BTreeMap<String, String>,
    override_names: &[String],
) -> Result<Observed, TargetError> {
    target.expect_many();
    let state_raw = match target.read(STATE_FILE) {
        Ok(b) => Some(b),
        Err(e) if e.kind == Kind::NotFound => None,
        Err(e) => return Err(e),
    };
    let state = match &state_raw {
        Some(b) => State::parse(b).map_err(|m| TargetError::new(Kind::Refused, m))?,
        None => State::new(site),
    };
    if !state.site.is_empty() && state.site != site {
        return Err(TargetError::new(
            Kind::Refused,
            format!(
                "{STATE_FILE} belongs to site {}, not {site}: two sites must not share a target",
                state.site
            ),
        ));
    }
    let candidates: Vec<String> = wanted
        .keys()
        .chain(state.owned().map(|(n, _)| n))
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // With a state file most candidates exist: each is asked for by name
    // (hashed while the folder is listed, or read), so none is missed where
    // a listing is cut short (pure-ftpd stops at 10,000 names). Without one
    // (a first apply) most do not exist: list first, ask only for those.
    let files = |entries: Vec<Entry>| -> BTreeSet<String> {
        entries
            .into_iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.name)
            .collect()
    };
    let (mut names, to_read, hashed) = if state_raw.is_some() {
        let (entries, hashed) = target.list_and_hash(&candidates)?;
        (files(entries), candidates, hashed)
    } else {
        let names = files(target.list()?);
        let to_read: Vec<String> = candidates
            .into_iter()
            .filter(|n| names.contains(n))
            .collect();
        let hashed = target.hash_many(&to_read)?;
        (names, to_read, hashed)
    };
    let mut hashes = BTreeMap::new();
    let mut contents = BTreeMap::new();
    match hashed {
        Some(hashed) => {
            let mut differ = Vec::new();
            for (name, sha) in hashed {
                // Absent (or gone since the listing).
                let Some(sha) = sha else { continue };
                if wanted.get(&name) != Some(&sha) {
                    differ.push(name.clone());
                }
                names.insert(name.clone());
                hashes.insert(name, sha);
            }
            contents.extend(target.read_many(&differ)?);
        }
        None => {
            for (name, bytes) in target.read_many(&to_read)? {
                names.insert(name.clone());
                hashes.insert(name.clone(), sha256_hex(&bytes));
                contents.insert(name, bytes);
            }
        }
    }
    let present_overrides: Vec<String> = override_names
        .iter()
        .filter(|n| names.contains(*n))
        .cloned()
        .collect();
    let overrides = target.read_many(&present_overrides)?.into_iter().collect();
    Ok(Observed {
        names,
        hashes,
        contents,
        state_raw,
        state,
        overrides,
    })
}
