//! The report for a terminal or a CI log: one line per changed file, then
//! the diffs; colour only when asked (a terminal without NO_COLOR).

use std::io::{self, Write};

use super::{boot_heading, override_effect, summary_line, Mode, Outcomes, Renderer};
use crate::reconcile::boot::phones_line;
use crate::reconcile::outcome::SiteOutcome;
use crate::reconcile::plan::{Action, FileChange, Plan};

/// Text, coloured when `color` (a terminal without NO_COLOR).
#[derive(Debug, Clone, Copy)]
pub struct Text {
    pub color: bool,
}

struct Paint {
    on: bool,
}

impl Paint {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
}

fn marker(f: &FileChange) -> (&'static str, &'static str) {
    match f.action {
        Action::Create => ("+", "32"),
        Action::Update => ("~", "33"),
        Action::Delete => ("-", "31"),
        Action::Unchanged => (" ", "0"),
    }
}

/// The parameters an update changes, one a line by name, above its diff:
/// `~ reg.1.label="201" → "Lobby"`, `+ a.b="1"`, `- c.d="0"` (values as
/// the plan holds them: masked, on one line).
fn write_params(p: &Paint, f: &FileChange, out: &mut dyn Write) -> io::Result<()> {
    let Some(params) = &f.params else {
        return Ok(());
    };
    if params.is_empty() {
        return writeln!(
            out,
            "{}: formatting only, no parameter changes",
            p.paint("1", &f.name)
        );
    }
    writeln!(
        out,
        "{} parameters: {}",
        p.paint("1", &f.name),
        params.counts()
    )?;
    for (name, before, after) in params.rows() {
        let line = match (before, after) {
            (Some(a), Some(b)) => format!("{} {name}=\"{a}\" → \"{b}\"", p.paint("33", "~")),
            (None, Some(b)) => format!("{} {name}=\"{b}\"", p.paint("32", "+")),
            (Some(a), None) => format!("{} {name}=\"{a}\"", p.paint("31", "-")),
            (None, None) => continue,
        };
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

impl Renderer for Text {
    fn write(&self, outcomes: &Outcomes, out: &mut dyn Write) -> io::Result<()> {
        let p = Paint { on: self.color };
        for site in outcomes.sites {
            write_site(&p, outcomes, site, out)?;
        }
        let head = match outcomes.mode {
            Mode::Plan => "Plan",
            Mode::Drift => "Drift",
            Mode::Apply => "Applied",
        };
        match outcomes.closing_line() {
            Some(line) => writeln!(out, "{head}: {line}."),
            None => Ok(()),
        }
    }
}

/// One site: its heading, then its error, or its plan.
fn write_site(
    p: &Paint,
    outcomes: &Outcomes,
    site: &SiteOutcome,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "{} {} → {} ({})",
        p.paint("1", "site"),
        p.paint("1", &site.site.name),
        site.site.target,
        site.site.file
    )?;
    let plan = match (site.plan(), site.error_line()) {
        (Some(plan), _) => plan,
        (None, error) => {
            let error = error.unwrap_or_default();
            return writeln!(out, "  {} {error}\n", p.paint("31", "error:"));
        }
    };
    if let Some(reason) = outcomes.would_refuse(plan) {
        writeln!(
            out,
            "  {} apply refuses this plan: {reason}",
            p.paint("31", "!")
        )?;
    }
    if !plan.boot.is_complete() {
        writeln!(
            out,
            "  {} boot check: {}:",
            p.paint("31", "!"),
            boot_heading(&plan.boot, outcomes.mode, "--allow-incomplete")
        )?;
        for (file, phones) in &plan.boot.missing {
            writeln!(out, "      {file}: {}", phones_line(phones, str::to_owned))?;
        }
    }
    write_changes(p, plan, out)?;
    writeln!(out, "  {}", summary_line(&plan.summary, outcomes.mode))?;
    write_diffs(p, plan, out)?;
    writeln!(out)
}

/// A line per changed file, then a line per override file.
fn write_changes(p: &Paint, plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    for f in plan.changes() {
        let (m, code) = marker(f);
        let mut notes = Vec::new();
        if let Some(note) = f.drift_note() {
            notes.push(format!("drifted: {note}"));
        }
        if f.adopted {
            notes.push("not written by polyops before: apply takes it over".to_owned());
        }
        if f.formatting_only {
            notes.push("formatting only".to_owned());
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join("; "))
        };
        writeln!(
            out,
            "  {} {} {}{}",
            p.paint(code, m),
            // Pad, then paint: the escape codes have no width.
            p.paint(code, &format!("{:<9}", f.action.word())),
            f.name,
            notes
        )?;
    }
    for o in &plan.overrides {
        let mark = if o.is_drift() || o.note.is_some() {
            p.paint("35", "!")
        } else {
            " ".to_owned()
        };
        writeln!(
            out,
            "  {mark} override  {} (phone {}{})",
            o.file,
            o.phone,
            override_effect(o, str::to_owned)
        )?;
    }
    Ok(())
}

/// Each changed file's parameters and diff, coloured by line.
fn write_diffs(p: &Paint, plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    for f in &plan.files {
        let Some(diff) = &f.diff else { continue };
        writeln!(out)?;
        write_params(p, f, out)?;
        for line in diff.lines() {
            let code = if line.starts_with("+++") || line.starts_with("---") {
                "1"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with("@@") {
                "36"
            } else {
                "0"
            };
            writeln!(out, "{}", p.paint(code, line))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::plan::{Guard, GuardKind, Override};

    fn change(name: &str, action: Action) -> FileChange {
        FileChange {
            name: name.to_owned(),
            action,
            drifted: false,
            removed: false,
            adopted: false,
            sha256_before: None,
            sha256_after: None,
            carries_secret: false,
            diff: Some(format!("--- a/{name}\n+++ b/{name}\n@@ -1 +1 @@\n-a\n+b\n")),
            params: None,
            formatting_only: false,
        }
    }

    fn sites() -> Vec<SiteOutcome> {
        let mut plan = Plan::example(vec![
            change("201.cfg", Action::Create),
            change("altigen.cfg", Action::Update),
            change("0004f2000607.cfg", Action::Delete),
        ]);
        plan.overrides = vec![Override {
            file: "0004f2000607-phone.cfg".to_owned(),
            phone: "0004f2000607".to_owned(),
            shadows: vec!["reg.1.label".to_owned()],
            note: None,
        }];
        plan.guards = vec![Guard {
            kind: GuardKind::MassDelete,
            reason: "plan deletes 5 of 12 managed files".to_owned(),
        }];
        vec![SiteOutcome::done(plan)]
    }

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find("\x1b[") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            rest = after.find('m').map_or("", |m| &after[m + 1..]);
        }
        out.push_str(rest);
        out
    }

    fn render(color: bool) -> String {
        let mut out = Vec::new();
        Text { color }
            .write(&Outcomes::new(Mode::Plan, &sites()), &mut out)
            .expect("writes to memory");
        String::from_utf8(out).expect("text is UTF-8")
    }

    #[test]
    fn colour_changes_nothing_but_the_colour() {
        let plain = render(false);
        let coloured = render(true);
        assert_ne!(plain, coloured, "colour was asked for");
        assert_eq!(strip_ansi(&coloured), plain);
        assert!(plain.contains("  + create    201.cfg\n"), "{plain}");
    }
}
