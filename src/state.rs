//! `.polyops-state.json`: what polyops owns on a target, with each file's
//! sha256 as last written. Only files named here can ever be deleted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::is_phone_written;

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

    /// The files polyops may change or delete. Names that could escape the
    /// root, polyops's own files and the phones' own files are never owned,
    /// whatever a hand-edited state says.
    pub fn owned(&self) -> impl Iterator<Item = (&String, &Option<String>)> {
        self.files.iter().filter(|(name, _)| is_ownable(name))
    }
}

/// Whether polyops may ever own a file of this name.
pub fn is_ownable(name: &str) -> bool {
    !name.is_empty()
        && !name.contains(['/', '\\'])
        && name != "."
        && name != ".."
        && !name.starts_with(".polyops")
        && !name.ends_with(crate::apply::TEMP_SUFFIX)
        && !is_phone_written(name)
}
