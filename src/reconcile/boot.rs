//! The boot check: every file a declared phone's master file (`<mac>.cfg`)
//! names in its APPLICATION element must be on the target once the plan is
//! applied. A phone that asks for a file the server does not have goes
//! without it: without `sip.ld` it has no application to load (or keeps
//! the one in its flash), without `sip.cfg` / `phone1.cfg` it lacks the
//! defaults the site's files only add to ("make sure that the sip.cfg and
//! phone1.cfg files are in the FTP root directory", guide §5). The names
//! come from the rendered master files, not from a list of their own, so
//! whatever a site adds to CONFIG_FILES is checked the same way.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::mask::Masker;
use crate::polycom;
use crate::render::Rendered;
use crate::site::model::Site;

/// How many phones a line of text, markdown or an error names per file
/// before it only counts the rest (JSON names every one).
pub const PHONES_SHOWN: usize = 10;

/// The result of the boot check for one site.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boot {
    /// Each file that will not be on the target after apply → the phones
    /// (MACs, sorted) whose master file names it. Empty: every phone finds
    /// every file it asks for.
    pub missing: BTreeMap<String, Vec<String>>,
}

/// The files each declared phone's master file names (APP_FILE_PATH and
/// every CONFIG_FILES entry; the SPIP300/SPIP500 children are for those
/// older models only) → the phones that name it.
pub fn needed(site: &Site, desired: &Rendered) -> BTreeMap<String, BTreeSet<String>> {
    let mut needed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for phone in &site.phones {
        let mac = phone.mac.to_string();
        // polyops renders every declared phone's master file with an
        // APPLICATION element (the render tests pin it): one it could not
        // read names nothing to check.
        let Some(app) = desired
            .get(&format!("{mac}.cfg"))
            .and_then(|bytes| polycom::reader::application(bytes).ok())
        else {
            continue;
        };
        for file in app.app_file_path.into_iter().chain(app.config_files) {
            needed.entry(file).or_default().insert(mac.clone());
        }
    }
    needed
}

impl Boot {
    /// Check the files the phones need against those on the target after
    /// apply: `after(name)` says whether `name` will be there (uploaded by
    /// the plan, or there now and not deleted). Names are compared exactly,
    /// as the FTP servers polyops targets (case-sensitive file systems)
    /// compare them. The names are polyops's own, but pass the site's
    /// masker like every printed name.
    pub fn check(
        site: &Site,
        desired: &Rendered,
        after: impl Fn(&str) -> bool,
        masker: &Masker,
    ) -> Boot {
        let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (file, phones) in needed(site, desired) {
            if !after(&file) {
                let entry = missing.entry(masker.clean(&file)).or_default();
                entry.extend(phones);
                entry.sort();
                entry.dedup();
            }
        }
        Boot { missing }
    }

    /// Whether every phone finds every file it asks for.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// "sip.cfg (phones 0004f2000607, 0004f214ab37), sip.ld (phone …)":
    /// the missing files and who needs them, on one line.
    fn describe(&self) -> String {
        self.missing
            .iter()
            .map(|(file, phones)| format!("{file} ({})", phones_line(phones, str::to_owned)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "phone1.cfg, sip.cfg": the missing files, for a one-line warning.
    pub fn files(&self) -> String {
        self.missing.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    /// What apply says when it refuses an incomplete boot: every missing
    /// file, the phones that need it, and what to do.
    pub fn why_incomplete(&self) -> String {
        let n = self.missing.len();
        format!(
            "{n} file{} the phones' master files name would not be on the target: {}; \
             put {} on the target (the firmware package's sip.ld, sip.cfg and phone1.cfg: \
             guide §5) or in firmware.files, or rerun with --allow-incomplete",
            if n == 1 { "" } else { "s" },
            self.describe(),
            if n == 1 { "it" } else { "them" },
        )
    }
}

/// "phone 0004f2000607" or "phones A, B, … and 5 more": at most
/// [`PHONES_SHOWN`] MACs, each through `show`.
pub fn phones_line(phones: &[String], show: impl Fn(&str) -> String) -> String {
    let shown: Vec<String> = phones.iter().take(PHONES_SHOWN).map(|p| show(p)).collect();
    let mut line = format!(
        "phone{} {}",
        if phones.len() == 1 { "" } else { "s" },
        shown.join(", ")
    );
    if phones.len() > PHONES_SHOWN {
        line.push_str(&format!(" and {} more", phones.len() - PHONES_SHOWN));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(missing: &[(&str, &[&str])]) -> Boot {
        Boot {
            missing: missing
                .iter()
                .map(|(f, p)| ((*f).to_owned(), p.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn the_refusal_names_every_missing_file_and_its_phones() {
        let reason = boot(&[
            ("sip.cfg", &["0004f2000607", "0004f214ab37"]),
            ("sip.ld", &["0004f2000607"]),
        ])
        .why_incomplete();
        assert!(
            reason.starts_with(
                "2 files the phones' master files name would not be on the target: \
                 sip.cfg (phones 0004f2000607, 0004f214ab37), sip.ld (phone 0004f2000607); put them"
            ),
            "{reason}"
        );
        assert!(reason.ends_with("--allow-incomplete"), "{reason}");
    }

    #[test]
    fn a_long_list_of_phones_is_counted_past_the_first_ten() {
        let phones: Vec<String> = (0..12).map(|i| format!("0004f2{i:06x}")).collect();
        let line = phones_line(&phones, str::to_owned);
        assert!(line.starts_with("phones 0004f2000000, "), "{line}");
        assert!(line.ends_with("0004f2000009 and 2 more"), "{line}");
    }
}
