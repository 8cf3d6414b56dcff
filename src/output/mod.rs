//! Interchangeable renderers of the same report: `text`, `json`, `markdown`.

use serde::{Deserialize, Serialize};

use crate::reconcile::plan::{Override, SitePlan};

pub mod explain;
pub mod json;
pub mod markdown;
pub mod progress;
pub mod text;

/// Version of the JSON and plan-file format; bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Plan,
    Drift,
    Apply,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub format_version: u32,
    pub mode: Mode,
    pub sites: Vec<SitePlan>,
}

impl Report {
    pub fn new(mode: Mode, mut sites: Vec<SitePlan>) -> Self {
        if mode == Mode::Apply {
            // These plans were carried out: nothing refused them.
            for site in &mut sites {
                site.apply_would_refuse = None;
            }
        }
        Self {
            format_version: FORMAT_VERSION,
            mode,
            sites,
        }
    }
}

/// How many sites failed, and how many there are.
pub fn failed(report: &Report) -> (usize, usize) {
    let failed = report.sites.iter().filter(|s| !s.is_ok()).count();
    (failed, report.sites.len())
}

/// The report's last line: the total over the planned sites, and how many
/// failed; `None` when every site failed (there is nothing to total).
pub fn closing_line(report: &Report) -> Option<String> {
    let (failed, all) = failed(report);
    if failed == all && all > 0 {
        return None;
    }
    let mut line = summary_line(&total(report), report.mode);
    if failed > 0 {
        line.push_str(&format!("; {failed} of {all} sites failed"));
    }
    Some(line)
}

/// "1 to create, 2 to update, …" for a site or a whole report.
pub fn summary_line(s: &crate::reconcile::plan::Summary, mode: Mode) -> String {
    let verbs = match mode {
        Mode::Apply => ["created", "updated", "deleted"],
        _ => ["to create", "to update", "to delete"],
    };
    let mut line = format!(
        "{} {}, {} {}, {} {}, {} unchanged",
        s.create, verbs[0], s.update, verbs[1], s.delete, verbs[2], s.unchanged
    );
    if s.drifted > 0 {
        line.push_str(&format!(", {} drifted", s.drifted));
    }
    if s.overrides > 0 {
        let plural = if s.overrides == 1 { "" } else { "s" };
        line.push_str(&format!(", {} override{plural}", s.overrides));
    }
    line.push_str(&format!(", {} unmanaged", s.unmanaged));
    line
}

/// The summary over the sites that were planned (failed ones have none).
pub fn total(report: &Report) -> crate::reconcile::plan::Summary {
    let mut t = crate::reconcile::plan::Summary::default();
    for s in report.sites.iter().filter(|s| s.is_ok()) {
        t.create += s.summary.create;
        t.update += s.summary.update;
        t.delete += s.summary.delete;
        t.unchanged += s.summary.unchanged;
        t.drifted += s.summary.drifted;
        t.unmanaged += s.summary.unmanaged;
        t.overrides += s.summary.overrides;
    }
    t
}

/// What an override file does, for a person, to follow "phone P": the
/// declared parameters it sets to other values (names only), or why it
/// does not count.
pub fn override_effect(o: &Override, name: impl Fn(&str) -> String) -> String {
    match &o.note {
        Some(note) => format!(": {note}; not counted as drift"),
        None if o.shadows.is_empty() => " sets no declared parameter to another value".to_owned(),
        None => format!(
            " overrides {}",
            o.shadows
                .iter()
                .map(|s| name(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
