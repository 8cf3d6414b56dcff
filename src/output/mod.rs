//! Interchangeable renderers of the same outcomes of a run: `text`,
//! `json`, `markdown`, `html`, one file (or folder) each, each a [`Renderer`]. A new format is
//! one new file with one more. `phones` renders the phones report the
//! same ways (`output::phones`).

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::reconcile::boot::Boot;
use crate::reconcile::outcome::SiteOutcome;
use crate::reconcile::plan::{Override, Plan, Summary};

pub mod explain;
pub mod html;
pub mod json;
pub mod markdown;
pub mod phones;
pub mod progress;
pub mod text;

pub use crate::reconcile::record::FORMAT_VERSION;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Plan,
    Drift,
    Apply,
}

impl Mode {
    /// The command's name, for progress lines.
    pub fn word(self) -> &'static str {
        match self {
            Mode::Plan => "plan",
            Mode::Drift => "drift",
            Mode::Apply => "apply",
        }
    }
}

/// What a run of `plan`, `drift` or `apply` prints, in every format: how
/// each site ended, in site order.
#[derive(Debug, Clone, Copy)]
pub struct Outcomes<'a> {
    pub mode: Mode,
    pub sites: &'a [SiteOutcome],
}

impl<'a> Outcomes<'a> {
    pub fn new(mode: Mode, sites: &'a [SiteOutcome]) -> Self {
        Self { mode, sites }
    }

    /// Why apply would refuse `plan`, as this run shows it: never in an
    /// apply report (the plan was carried out: nothing refused it).
    pub fn would_refuse(&self, plan: &Plan) -> Option<String> {
        match self.mode {
            Mode::Apply => None,
            _ => plan.apply_would_refuse(),
        }
    }

    /// How many sites have no plan, and how many there are.
    pub fn failed(&self) -> (usize, usize) {
        let failed = self.sites.iter().filter(|s| s.plan().is_none()).count();
        (failed, self.sites.len())
    }

    /// The summary over the sites that have a plan (failed ones have none).
    pub fn total(&self) -> Summary {
        let mut t = Summary::default();
        for s in self.sites.iter().filter_map(SiteOutcome::plan) {
            let s = &s.summary;
            t.create += s.create;
            t.update += s.update;
            t.delete += s.delete;
            t.unchanged += s.unchanged;
            t.drifted += s.drifted;
            t.unmanaged += s.unmanaged;
            t.overrides += s.overrides;
        }
        t
    }

    /// The last line: the total over the planned sites, and how many
    /// failed; `None` when every site failed (there is nothing to total).
    pub fn closing_line(&self) -> Option<String> {
        let (failed, all) = self.failed();
        if failed == all && all > 0 {
            return None;
        }
        let mut line = summary_line(&self.total(), self.mode);
        if failed > 0 {
            line.push_str(&format!("; {failed} of {all} sites failed"));
        }
        Some(line)
    }
}

/// One output format: writes the outcomes of a run.
pub trait Renderer {
    fn write(&self, outcomes: &Outcomes, out: &mut dyn Write) -> io::Result<()>;
}

/// "1 to create, 2 to update, …" for a site or a whole run.
pub fn summary_line(s: &Summary, mode: Mode) -> String {
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

/// What the boot check found, for a person, in the words of the report's
/// mode; `flag` is `--allow-incomplete` as the format shows code.
pub fn boot_heading(boot: &Boot, mode: Mode, flag: &str) -> String {
    let n = boot.missing.len();
    let (files, are) = if n == 1 {
        ("file", "is")
    } else {
        ("files", "are")
    };
    let what = format!("{n} {files} the phones' master files name");
    match mode {
        Mode::Plan => format!(
            "{what} will not be on the target after apply; apply refuses this plan without {flag}"
        ),
        Mode::Drift => format!("{what} {are} not on the target"),
        Mode::Apply => format!("{what} {are} not on the target (applied with {flag})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Masker;
    use crate::reconcile::plan::{param_changes, Action, FileChange};

    /// A plan of one update of `201.cfg` from `before` to `after`, with
    /// its line and parameter diffs as `Plan::build` makes them.
    fn update(before: &str, after: &str, masker: &Masker) -> Vec<SiteOutcome> {
        let params = param_changes("201.cfg", before.as_bytes(), after.as_bytes(), masker);
        let file = FileChange {
            name: "201.cfg".to_owned(),
            action: Action::Update,
            drifted: false,
            removed: false,
            adopted: true,
            sha256_before: None,
            sha256_after: None,
            diff: Some(crate::reconcile::plan::unified(
                "201.cfg",
                Some(before.as_bytes()),
                Some(after.as_bytes()),
                masker,
            )),
            formatting_only: params.as_ref().is_some_and(|p| p.is_empty()),
            params,
            carries_secret: true,
        };
        vec![SiteOutcome::done(Plan::example(vec![file]))]
    }

    /// The outcomes in each format: text, markdown, JSON.
    fn formats(sites: &[SiteOutcome]) -> [String; 3] {
        let outcomes = Outcomes::new(Mode::Plan, sites);
        let mut text = Vec::new();
        text::Text { color: false }
            .write(&outcomes, &mut text)
            .expect("writes to memory");
        let mut json = Vec::new();
        json::Json
            .write(&outcomes, &mut json)
            .expect("writes to memory");
        [
            String::from_utf8(text).expect("UTF-8"),
            markdown::render(&outcomes, markdown::LIMIT),
            String::from_utf8(json).expect("UTF-8"),
        ]
    }

    #[test]
    fn parameter_changes_are_shown_by_name_above_the_diff_in_every_format() {
        let [text, md, json] = formats(&update(
            r#"<x b.b="1" c.c="x|&lt;y>"/>"#,
            "<x\n  a.a=\"*9x\"\n  b.b=\"2\"/>\n",
            &Masker::default(),
        ));
        assert!(
            text.contains(
                "\n201.cfg parameters: 1 changed, 1 added, 1 removed\n  + a.a=\"*9x\"\n  ~ b.b=\"1\" → \"2\"\n  - c.c=\"x|<y>\"\n--- a/201.cfg\n"
            ),
            "{text}"
        );
        let table = "Parameters of <code>201.cfg</code> (hq): 1 changed, 1 added, 1 removed\n\n| parameter | before | after |\n|---|---|---|\n| <code>a.a</code> | — | <code>&#42;9x</code> |\n| <code>b.b</code> | <code>1</code> | <code>2</code> |\n| <code>c.c</code> | <code>x&#124;&lt;y&gt;</code> | — |\n\n<details>";
        assert!(md.contains(table), "{md}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let f = &v["sites"][0]["files"][0];
        assert_eq!(
            f["params"],
            serde_json::json!({
                "added": {"a.a": "*9x"},
                "removed": {"c.c": "x|<y>"},
                "changed": {"b.b": ["1", "2"]},
            }),
            "{json}"
        );
        assert_eq!(f["formatting_only"], false, "{json}");
    }

    #[test]
    fn a_file_whose_parameters_do_not_change_is_formatting_only_in_every_format() {
        let [text, md, json] = formats(&update(
            "\u{feff}<a>\r\n\t<b x.y='1'/>\r\n</a>\r\n",
            "<x x.y=\"1\"/>\n",
            &Masker::default(),
        ));
        assert!(
            text.contains("  ~ update    201.cfg  (not written by polyops before: apply takes it over; formatting only)\n"),
            "{text}"
        );
        assert!(
            text.contains("\n201.cfg: formatting only, no parameter changes\n--- a/201.cfg\n"),
            "{text}"
        );
        assert!(
            md.contains("| update | <code>201.cfg</code> | taken over (not written by polyops before); formatting only |"),
            "{md}"
        );
        assert!(
            md.contains("<code>201.cfg</code> (hq): formatting only, no parameter changes.\n\n<details><summary>update <code>201.cfg</code> (hq): formatting only</summary>"),
            "{md}"
        );
        assert!(!md.contains("| parameter |"), "{md}");
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let f = &v["sites"][0]["files"][0];
        assert_eq!(f["formatting_only"], true, "{json}");
        assert_eq!(
            f["params"],
            serde_json::json!({"added": {}, "removed": {}, "changed": {}}),
            "{json}"
        );
    }

    #[test]
    fn a_password_parameter_never_shows_its_value_in_any_format() {
        let masker = Masker::new(["new-secret".to_owned()]);
        let sites = update(
            r#"<reg reg.1.auth.password="old-one" gone.password="was-here" reg.1.label="201"/>"#,
            r#"<reg reg.1.auth.password="new-secret" new.Password="new-secret" reg.1.label="Lobby"/>"#,
            &masker,
        );
        let [text, md, json] = formats(&sites);
        for out in [&text, &md, &json] {
            for value in ["old-one", "was-here", "new-secret"] {
                assert!(!out.contains(value), "{value} in\n{out}");
            }
        }
        assert!(
            text.contains("  ~ reg.1.auth.password=\"********\" → \"******** (changed)\"\n"),
            "{text}"
        );
        assert!(
            md.contains("| <code>reg.1.auth.password</code> | <code>&#42;&#42;&#42;&#42;&#42;&#42;&#42;&#42;</code> | <code>&#42;&#42;&#42;&#42;&#42;&#42;&#42;&#42; (changed)</code> |"),
            "{md}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let p = &v["sites"][0]["files"][0]["params"];
        assert_eq!(
            p["changed"]["reg.1.auth.password"],
            serde_json::json!(["********", "******** (changed)"]),
            "{json}"
        );
        assert_eq!(p["added"]["new.Password"], "********", "{json}");
        assert_eq!(p["removed"]["gone.password"], "********", "{json}");
    }
}
