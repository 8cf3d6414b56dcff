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
/// set to the value the site renders counts. A phone's declared files are
/// parsed only when the target holds an override file of it, and each file
/// once (`altigen.cfg` is every phone's).
pub(super) fn overrides(site: &Site, desired: &Rendered, observed: &Observed) -> Vec<Override> {
    let mut parsed: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut out = Vec::new();
    for phone in &site.phones {
        let present: Vec<(String, &[u8])> = OVERRIDE_SUFFIXES
            .iter()
            .map(|suffix| format!("{}{suffix}", phone.mac))
            .filter_map(|file| observed.bytes(&file).map(|b| (file, b.as_slice())))
            .collect();
        if present.is_empty() {
            continue;
        }
        let declared = declared(
            &format!("{}.cfg", phone.mac),
            phone.extension.as_str(),
            desired,
            &mut parsed,
        );
        for (file, bytes) in present {
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

/// The values a phone runs from the site's files, by parameter: leftmost
/// in the master file's CONFIG_FILES wins, and the master file's own
/// attributes come last. `parsed` keeps each file's parameters for the
/// next phone.
fn declared(
    master: &str,
    extension: &str,
    desired: &Rendered,
    parsed: &mut BTreeMap<String, Vec<(String, String)>>,
) -> BTreeMap<String, String> {
    let mut params = |name: &str| -> Vec<(String, String)> {
        parsed
            .entry(name.to_owned())
            .or_insert_with(|| {
                desired
                    .get(name)
                    .and_then(|bytes| polycom::reader::parameters(bytes).ok())
                    .unwrap_or_default()
            })
            .clone()
    };
    let master_params = params(master);
    let config_files: Vec<String> = master_params
        .iter()
        .find(|(n, _)| n == "CONFIG_FILES")
        .map(|(_, v)| {
            v.split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_else(|| vec![format!("{extension}.cfg"), ALTIGEN_CFG.to_owned()]);
    let mut declared: BTreeMap<String, String> = BTreeMap::new();
    for file in &config_files {
        for (name, value) in params(file) {
            declared.entry(name).or_insert(value);
        }
    }
    for (name, value) in master_params {
        declared.entry(name).or_insert(value);
    }
    declared
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
