//! Interchangeable renderers of the same report: `text`, `json`, `markdown`.

use serde::{Deserialize, Serialize};

use crate::plan::{Override, SitePlan};

pub mod json;
pub mod markdown;
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

/// "1 to create, 2 to update, …" for a site or a whole report.
pub fn summary_line(s: &crate::plan::Summary, mode: Mode) -> String {
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

pub fn total(report: &Report) -> crate::plan::Summary {
    let mut t = crate::plan::Summary::default();
    for s in &report.sites {
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
