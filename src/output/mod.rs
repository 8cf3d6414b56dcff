//! Interchangeable renderers of the same report: `text`, `json`, `markdown`;
//! `phones` renders the phones report the same three ways.

use serde::{Deserialize, Serialize};

use crate::reconcile::boot::Boot;
use crate::reconcile::plan::{Override, SitePlan};

pub mod explain;
pub mod json;
pub mod markdown;
pub mod phones;
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
    use crate::reconcile::plan::{param_changes, Action, FileChange, Status, Summary};

    /// A plan of one update of `201.cfg` from `before` to `after`, with
    /// its line and parameter diffs as `SitePlan::build` makes them.
    fn update(before: &str, after: &str, masker: &Masker) -> Report {
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
            published: Default::default(),
        };
        Report::new(
            Mode::Plan,
            vec![SitePlan {
                site: "hq".to_owned(),
                status: Status::Ok,
                error: None,
                site_file: "sites/hq.yaml".to_owned(),
                site_file_sha256: String::new(),
                target: "dir:root".to_owned(),
                summary: Summary {
                    update: 1,
                    ..Summary::default()
                },
                files: vec![file],
                unmanaged: Vec::new(),
                overrides: Vec::new(),
                reads: Default::default(),
                secret_reads: Default::default(),
                published_reads: Default::default(),
                redacted: false,
                apply_would_refuse: None,
                guards: Vec::new(),
                boot: Default::default(),
            }],
        )
    }

    /// The report in each format: text, markdown, JSON.
    fn formats(report: &Report) -> [String; 3] {
        let mut text = Vec::new();
        text::write(report, &mut text, false).expect("writes to memory");
        let mut json = Vec::new();
        json::write(report, &mut json).expect("writes to memory");
        [
            String::from_utf8(text).expect("UTF-8"),
            markdown::render(report, markdown::LIMIT),
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
        let report = update(
            r#"<reg reg.1.auth.password="old-one" gone.password="was-here" reg.1.label="201"/>"#,
            r#"<reg reg.1.auth.password="new-secret" new.Password="new-secret" reg.1.label="Lobby"/>"#,
            &masker,
        );
        let [text, md, json] = formats(&report);
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
