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

/// Why the state file on a target is not one this polyops reads.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{STATE_FILE} is not a polyops state file: {0}")]
    Shape(serde_json::Error),
    #[error("{STATE_FILE} has version {0}, this polyops reads version {VERSION}")]
    Version(u32),
}

impl State {
    pub fn new(site: &str) -> Self {
        Self {
            version: VERSION,
            site: site.to_owned(),
            files: BTreeMap::new(),
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<State, StateError> {
        let state: State = serde_json::from_slice(bytes).map_err(StateError::Shape)?;
        if state.version != VERSION {
            return Err(StateError::Version(state.version));
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
    /// never deleted. A state that claims more undeclared files than
    /// [`max_undeclared`] allows is forged or oversized: none of those is
    /// claimed, so none is read or deleted (docs/threat-model.md).
    pub fn claims(&self, declared: &BTreeSet<String>) -> Claims {
        let mut claims = Claims::default();
        let mut ignored = 0;
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
                (why, _) => {
                    ignored += 1;
                    if ignored <= SHOWN_IGNORED {
                        claims.ignored.push(format!(
                            "{STATE_FILE} claims \"{}\" ({}): ignored, never deleted",
                            crate::mask::printable(name)
                                .chars()
                                .take(80)
                                .collect::<String>(),
                            why.unwrap_or_default()
                        ));
                    }
                }
            }
        }
        if ignored > SHOWN_IGNORED {
            claims.ignored.push(format!(
                "{STATE_FILE} claims {} more files it may not claim: ignored, never deleted",
                ignored - SHOWN_IGNORED
            ));
        }
        claims.bound_to(declared);
        claims
    }
}

/// The ignored entries of a state named one by one; the rest are counted.
const SHOWN_IGNORED: usize = 10;

/// The fewest files a state may claim that the site does not declare.
pub const MIN_UNDECLARED: usize = 1_000;

/// How many files a state may claim that a site declaring `declared`
/// files does not declare: a site that dropped phones still owns their
/// files until apply deletes them, as many as the site declares, and at
/// least [`MIN_UNDECLARED`]. What a plan reads on a target is so bounded by
/// what the site declares: the declared files, and at most this many more.
pub fn max_undeclared(declared: usize) -> usize {
    declared.max(MIN_UNDECLARED)
}

/// What a state file may claim: the files polyops owns, and a warning for
/// each entry it ignored.
#[derive(Debug, Clone, Default)]
pub struct Claims {
    pub owned: BTreeMap<RemoteName, Option<String>>,
    pub ignored: Vec<String>,
}

impl Claims {
    /// Drop every undeclared claim when there are more than
    /// [`max_undeclared`] of them: such a state was forged (anyone with the
    /// phones' account can write it) or has grown past any site's, and
    /// reading each file it names would multiply the work of every plan.
    fn bound_to(&mut self, declared: &BTreeSet<String>) {
        let undeclared = self
            .owned
            .keys()
            .filter(|n| !declared.contains(n.as_str()))
            .count();
        let most = max_undeclared(declared.len());
        if undeclared <= most {
            return;
        }
        self.owned.retain(|n, _| declared.contains(n.as_str()));
        self.ignored.push(format!(
            "{STATE_FILE} claims {undeclared} files this site does not declare, more than the {most} a state of this site may hold: a forged or oversized state; none of them is read or deleted, and apply records only what the site declares"
        ));
    }
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

    #[test]
    fn a_state_claiming_more_undeclared_files_than_a_site_may_own_claims_none_of_them() {
        let declared: BTreeSet<String> = ["201.cfg".to_owned()].into();
        let state = |undeclared: usize| {
            let mut state = State::new("hq");
            state.files.insert("201.cfg".to_owned(), None);
            for i in 0..undeclared {
                state.files.insert(format!("0004f3{i:06x}.cfg"), None);
            }
            state
        };
        let most = state(MIN_UNDECLARED).claims(&declared);
        assert_eq!(most.owned.len(), MIN_UNDECLARED + 1);
        assert!(most.ignored.is_empty(), "{:?}", most.ignored);
        let forged = state(MIN_UNDECLARED + 1).claims(&declared);
        let owned: Vec<&str> = forged.owned.keys().map(RemoteName::as_str).collect();
        assert_eq!(owned, ["201.cfg"]);
        assert_eq!(forged.ignored.len(), 1, "{:?}", forged.ignored);
        assert!(forged.ignored[0].contains("a forged or oversized state"));
        // A larger site may own as many undeclared files as it declares.
        let large: BTreeSet<String> = (0..2 * MIN_UNDECLARED)
            .map(|i| format!("{i}.cfg"))
            .collect();
        let mut grown = state(2 * MIN_UNDECLARED);
        grown.files.extend(large.iter().map(|n| (n.clone(), None)));
        assert_eq!(grown.claims(&large).owned.len(), 4 * MIN_UNDECLARED);
    }

    #[test]
    fn a_state_full_of_names_it_may_not_claim_costs_a_few_warning_lines() {
        let mut state = State::new("hq");
        for i in 0..5_000 {
            state.files.insert(format!("x{i}.txt"), None);
        }
        let claims = state.claims(&BTreeSet::new());
        assert!(claims.owned.is_empty());
        assert_eq!(claims.ignored.len(), SHOWN_IGNORED + 1);
        assert!(
            claims.ignored[SHOWN_IGNORED].contains("4990 more"),
            "{:?}",
            claims.ignored
        );
    }
}
