//! A phone's own settings files (`<mac>-phone.cfg`, `<mac>-web.cfg`),
//! written by its handset or web page, and the declared parameters they
//! set to another value: what makes them drift.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::polycom;
use crate::reconcile::observe::Observed;
use crate::render::Rendered;
use crate::site::model::{Site, ALTIGEN_CFG};

/// A phone's own settings file that overrides declared parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Override files of declared phones and the declared parameters they set
/// to another value. Files are read as the phone reads them (XML, every
/// attribute a parameter), so neither the XML declaration nor a parameter
/// set to the value the site renders counts.
pub(super) fn overrides(site: &Site, desired: &Rendered, observed: &Observed) -> Vec<Override> {
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
            let Some(bytes) = observed.bytes(&file) else {
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
