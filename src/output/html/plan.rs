//! `plan`, `drift` and `apply` as the morning report's page: a table of
//! every site first, then each site's changes, refusals, boot check and
//! override files, and each changed file's parameters and diff, collapsed.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{anchor, code, diff_block, esc, page};
use crate::output::{boot_heading, override_effect, summary_line, Mode, Outcomes, Renderer};
use crate::reconcile::boot::phones_line;
use crate::reconcile::outcome::SiteOutcome;
use crate::reconcile::plan::{Action, FileChange, Plan};

/// The page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl Renderer for Html {
    fn write(&self, outcomes: &Outcomes, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(outcomes).as_bytes())
    }
}

/// The whole page.
pub fn render(outcomes: &Outcomes) -> String {
    let title = format!("polyops {}", outcomes.mode.word());
    let mut body = format!("<h1>{}</h1>\n", esc(&title));
    let closing = outcomes
        .closing_line()
        .unwrap_or_else(|| "every site failed".to_owned());
    let _ = writeln!(body, "<p>{}</p>", esc(&closing));
    body.push_str(&sites_table(outcomes));
    for site in outcomes.sites {
        body.push_str(&site_section(outcomes, site));
    }
    page(&title, &body)
}

/// Every site in one row, linked to its section: status, counts, drift,
/// files the phones miss.
fn sites_table(outcomes: &Outcomes) -> String {
    let mut t = String::from(
        "<table class=\"sites\">\n<thead><tr><th>site</th><th>status</th><th>create</th><th>update</th>\
         <th>delete</th><th>unchanged</th><th>drifted</th><th>overrides</th><th>unmanaged</th>\
         <th>missing for the phones</th></tr></thead>\n<tbody>\n",
    );
    for site in outcomes.sites {
        let name = format!(
            "<a href=\"#{}\">{}</a>",
            anchor(&site.site.name),
            esc(&site.site.name)
        );
        let Some(plan) = site.plan() else {
            let _ = writeln!(
                t,
                "<tr><td>{name}</td><td class=\"err\">error</td><td colspan=\"8\">{}</td></tr>",
                esc(&site.error_line().unwrap_or_default())
            );
            continue;
        };
        let s = &plan.summary;
        let _ = writeln!(
            t,
            "<tr><td>{name}</td><td>{}</td>{}<td class=\"n\">{}</td></tr>",
            status(outcomes, plan),
            [
                s.create,
                s.update,
                s.delete,
                s.unchanged,
                s.drifted,
                s.overrides,
                s.unmanaged
            ]
            .iter()
            .map(|n| format!("<td class=\"n\">{n}</td>"))
            .collect::<String>(),
            plan.boot.missing.len()
        );
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// A site's status in the table, with its colour.
fn status(outcomes: &Outcomes, plan: &Plan) -> String {
    if outcomes.would_refuse(plan).is_some() {
        "<span class=\"err\">apply would refuse</span>".to_owned()
    } else if !plan.boot.is_complete() {
        "<span class=\"warn\">files missing</span>".to_owned()
    } else if plan.summary.drifted > 0 || plan.changes().next().is_some() {
        let word = match outcomes.mode {
            Mode::Drift => "drift",
            Mode::Plan => "changes",
            Mode::Apply => "applied",
        };
        format!("<span class=\"warn\">{word}</span>")
    } else {
        "<span class=\"ok\">in sync</span>".to_owned()
    }
}

/// One site's section: its error, or its plan.
fn site_section(outcomes: &Outcomes, site: &SiteOutcome) -> String {
    let mut s = format!(
        "<section id=\"{}\">\n<h2>{} → {}</h2>\n<p>site file {}</p>\n",
        anchor(&site.site.name),
        esc(&site.site.name),
        code(&site.site.target),
        code(&site.site.file)
    );
    match site.plan() {
        None => {
            let _ = writeln!(
                s,
                "<p class=\"refuse\"><span class=\"err\">error:</span> {}</p>",
                esc(&site.error_line().unwrap_or_default())
            );
        }
        Some(plan) => s.push_str(&plan_body(outcomes, plan)),
    }
    s.push_str("</section>\n");
    s
}

/// A planned site: its summary, why apply would refuse it, the boot
/// check, a table of its changes (deletes first), its override files,
/// then each changed file collapsed.
fn plan_body(outcomes: &Outcomes, plan: &Plan) -> String {
    let mut s = format!(
        "<p>{}</p>\n",
        esc(&summary_line(&plan.summary, outcomes.mode))
    );
    if let Some(reason) = outcomes.would_refuse(plan) {
        let _ = writeln!(
            s,
            "<p class=\"refuse\">apply refuses this plan: {}</p>",
            esc(&reason)
        );
    }
    if !plan.boot.is_complete() {
        let heading = boot_heading(&plan.boot, outcomes.mode, "--allow-incomplete");
        let _ = writeln!(
            s,
            "<div class=\"note\"><p>boot check: {}:</p><ul>",
            esc(&heading)
        );
        for (file, phones) in &plan.boot.missing {
            let _ = writeln!(s, "<li>{}: {}</li>", code(file), phones_line(phones, code));
        }
        s.push_str("</ul></div>\n");
    }
    s.push_str(&changes_table(plan));
    if !plan.overrides.is_empty() {
        s.push_str("<ul class=\"overrides\">\n");
        for o in &plan.overrides {
            // A note may quote what the file holds: escaped like the rest.
            let effect = match &o.note {
                Some(note) => format!(": {}; not counted as drift", esc(note)),
                None => override_effect(o, code),
            };
            let _ = writeln!(
                s,
                "<li>{} of phone {}{effect}</li>",
                code(&o.file),
                code(&o.phone)
            );
        }
        s.push_str("</ul>\n");
    }
    for f in plan.files.iter().filter(|f| f.diff.is_some()) {
        s.push_str(&file_details(f));
    }
    s
}

/// Every change of a plan in a table, deletes first (nothing when
/// nothing changes).
fn changes_table(plan: &Plan) -> String {
    let mut changed: Vec<&FileChange> = plan.changes().collect();
    if changed.is_empty() {
        return String::new();
    }
    changed.sort_by_key(|f| (f.action != Action::Delete, f.name.clone()));
    let mut t = String::from(
        "<table class=\"changes\">\n<thead><tr><th>action</th><th>file</th><th>note</th></tr></thead>\n<tbody>\n",
    );
    for f in changed {
        let action = match f.action {
            Action::Delete => "<strong class=\"err\">delete</strong>".to_owned(),
            other => esc(other.word()),
        };
        let _ = writeln!(
            t,
            "<tr><td>{action}</td><td>{}</td><td>{}</td></tr>",
            code(&f.name),
            esc(&notes(f).join("; "))
        );
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// What a reviewer should know of a change besides its action.
fn notes(f: &FileChange) -> Vec<&'static str> {
    let mut notes = match (f.drift_note(), f.adopted) {
        (Some(note), _) => vec![note],
        (None, true) => vec!["taken over (not written by polyops before)"],
        _ => Vec::new(),
    };
    if f.formatting_only {
        notes.push("formatting only");
    }
    notes
}

/// One changed file, collapsed: its parameter table, then its diff.
fn file_details(f: &FileChange) -> String {
    let mut s = format!(
        "<details class=\"file\"><summary>{} {}{}</summary>\n",
        esc(f.action.word()),
        code(&f.name),
        if f.formatting_only {
            ": formatting only"
        } else {
            ""
        }
    );
    s.push_str(&params_table(f));
    if let Some(diff) = &f.diff {
        s.push_str(&diff_block(diff));
    }
    s.push_str("</details>\n");
    s
}

/// The parameters an update changes (nothing when the plan has no
/// parameter diff for the file).
fn params_table(f: &FileChange) -> String {
    let Some(params) = &f.params else {
        return String::new();
    };
    if params.is_empty() {
        return "<p>formatting only, no parameter changes</p>\n".to_owned();
    }
    let mut t = format!(
        "<p>parameters: {}</p>\n<table class=\"params\">\n<thead><tr><th>parameter</th><th>before</th><th>after</th></tr></thead>\n<tbody>\n",
        esc(&params.counts())
    );
    let cell = |v: Option<&str>| v.map_or_else(|| "—".to_owned(), code);
    for (name, before, after) in params.rows() {
        let _ = writeln!(
            t,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            code(name),
            cell(before),
            cell(after)
        );
    }
    t.push_str("</tbody>\n</table>\n");
    t
}
