//! `.polyops-state.json`: what polyops owns on a target, with each file's
//! sha256 as last written. Only files named here can ever be deleted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use std::collections::BTreeSet;

use crate::remote::{RemoteName, TEMP_SUFFIX};
use crate::site::model::{is_master_config, is_phone_written};

pub const STATE_FILE: &str = ".polyops-state.json";
const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub site: String,
    /// File name → sha256 as polyops last wrote it; `null` while a write
    /// of that file is in flight (an interrupted apply leaves it so).
    pub files: BTreeMap<String, Option<String>>,
}

impl State {
    pub fn new(site: &str) -> Self {
        Self {
            version: VERSION,
            site: site.to_owned(),
            files: BTreeMap::new(),
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<State, String> {
        let state: State = serde_json::from_slice(bytes)
            .map_err(|e| format!("{STATE_FILE} is not a polyops state file: {e}"))?;
        if state.version != VERSION {
            return Err(format!(
                "{STATE_FILE} has version {}, this polyops reads version {VERSION}",
                state.version
            ));
        }
        Ok(state)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).expect("state always serialises");
        b.push(b'\n');
        b
    }

    /// What this state may claim for a site that declares `declared`:
    /// the state file sits where every phone's account can write it, so
    /// it is read like any other untrusted input. An entry is owned only
    /// when its name is one polyops could have written for this site: a
    /// declared file, or one of the shapes polyops renders (`altigen.cfg`,
    /// `<number>.cfg`, `<mac>.cfg`). Every other entry (a phone's own file,
    /// polyops's own names, the firmware package's `sip.cfg`, a name that
    /// could reach another command or folder) is ignored with a warning,
    /// never deleted.
    pub fn claims(&self, declared: &BTreeSet<String>) -> Claims {
        let mut claims = Claims::default();
        for (name, sha) in &self.files {
            let why_not = match RemoteName::new(name) {
                Err(why) => Some(why.to_string()),
                Ok(_) if declared.contains(name) => None,
                Ok(_) if !is_ownable(name) => Some("a name polyops never owns".to_owned()),
                Ok(_) if !is_rendered_shape(name) => {
                    Some("a file this site does not declare and polyops does not render".to_owned())
                }
                Ok(_) => None,
            };
            match (why_not, RemoteName::new(name)) {
                (None, Ok(n)) => {
                    // A hash that is not one is no record of what was written.
                    let sha = sha.clone().filter(|s| is_sha256(s));
                    claims.owned.insert(n, sha);
                }
                (why, _) => claims.ignored.push(format!(
                    "{STATE_FILE} claims \"{}\" ({}): ignored, never deleted",
                    crate::mask::printable(name)
                        .chars()
                        .take(80)
                        .collect::<String>(),
                    why.unwrap_or_default()
                )),
            }
        }
        claims
    }
}

/// What a state file may claim: the files polyops owns, and a warning for
/// each entry it ignored.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub owned: BTreeMap<RemoteName, Option<String>>,
    pub ignored: Vec<String>,
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether polyops renders files of this name for some site: `altigen.cfg`,
/// `<number>.cfg`, `<mac>.cfg` (but not `000000000000.cfg`, the firmware
/// package's default master file), `params-<mac>.cfg`, `params-<model>.cfg`.
pub fn is_rendered_shape(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".cfg") else {
        return false;
    };
    stem == "altigen"
        || crate::site::model::is_params_file(name)
        || (!stem.is_empty() && stem.len() <= 10 && stem.bytes().all(|b| b.is_ascii_digit()))
        || (is_master_config(name) && stem != "000000000000")
}

/// Whether polyops may ever own a file of this name.
pub fn is_ownable(name: &str) -> bool {
    RemoteName::new(name).is_ok()
        && !name.starts_with(".polyops")
        && !name.ends_with(TEMP_SUFFIX)
        && !is_phone_written(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_claims_only_what_polyops_could_have_written_for_the_site() {
        let mut state = State::new("hq");
        for name in [
            "201.cfg",
            "0004f2000607.cfg",
            "altigen.cfg",
            "sip.ld",
            "sip.cfg",
            "000000000000.cfg",
            "0004f2000607-phone.cfg",
            ".polyops-state.json",
            "201.cfg.polyops-tmp",
            "x\r\nCWD ..\r\nDELE 201.cfg",
            "../other/201.cfg",
        ] {
            state.files.insert(name.to_owned(), Some("f".repeat(64)));
        }
        state
            .files
            .insert("202.cfg".to_owned(), Some("not a hash".to_owned()));
        let declared: BTreeSet<String> = ["sip.ld".to_owned()].into();
        let claims = state.claims(&declared);
        let owned: Vec<&str> = claims.owned.keys().map(RemoteName::as_str).collect();
        assert_eq!(
            owned,
            [
                "0004f2000607.cfg",
                "201.cfg",
                "202.cfg",
                "altigen.cfg",
                "sip.ld"
            ]
        );
        assert_eq!(claims.owned.values().filter(|v| v.is_none()).count(), 1);
        assert_eq!(claims.ignored.len(), 7, "{:#?}", claims.ignored);
        assert!(claims
            .ignored
            .iter()
            .all(|w| !w.contains('\r') && !w.contains('\n')));
    }
}
