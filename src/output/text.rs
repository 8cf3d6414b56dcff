//! The report for a terminal or a CI log: one line per changed file, then
//! the diffs; colour only when asked (a terminal without NO_COLOR).

use std::io::{self, Write};

use super::{boot_heading, closing_line, override_effect, summary_line, Mode, Report};
use crate::reconcile::boot::phones_line;
use crate::reconcile::plan::{Action, FileChange};

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

pub fn write(report: &Report, out: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint { on: color };
    for site in &report.sites {
        writeln!(
            out,
            "{} {} → {} ({})",
            p.paint("1", "site"),
            p.paint("1", &site.site),
            site.target,
            site.site_file
        )?;
        if let Some(error) = &site.error {
            writeln!(out, "  {} {error}\n", p.paint("31", "error:"))?;
            continue;
        }
        if let Some(reason) = &site.apply_would_refuse {
            writeln!(
                out,
                "  {} apply refuses this plan: {reason}",
                p.paint("31", "!")
            )?;
        }
        if !site.boot.is_complete() {
            writeln!(
                out,
                "  {} boot check: {}:",
                p.paint("31", "!"),
                boot_heading(&site.boot, report.mode, "--allow-incomplete")
            )?;
            for (file, phones) in &site.boot.missing {
                writeln!(out, "      {file}: {}", phones_line(phones, str::to_owned))?;
            }
        }
        for f in site.files.iter().filter(|f| f.action != Action::Unchanged) {
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
        for o in &site.overrides {
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
        writeln!(out, "  {}", summary_line(&site.summary, report.mode))?;
        for f in &site.files {
            if let Some(diff) = &f.diff {
                writeln!(out)?;
                write_params(&p, f, out)?;
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
        }
        writeln!(out)?;
    }
    let head = match report.mode {
        Mode::Plan => "Plan",
        Mode::Drift => "Drift",
        Mode::Apply => "Applied",
    };
    match closing_line(report) {
        Some(line) => writeln!(out, "{head}: {line}."),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::plan::{Override, SitePlan, Summary};

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
            published: Default::default(),
            diff: Some(format!("--- a/{name}\n+++ b/{name}\n@@ -1 +1 @@\n-a\n+b\n")),
            params: None,
            formatting_only: false,
        }
    }

    fn report() -> Report {
        let files = vec![
            change("201.cfg", Action::Create),
            change("altigen.cfg", Action::Update),
            change("0004f2000607.cfg", Action::Delete),
        ];
        Report::new(
            Mode::Plan,
            vec![SitePlan {
                site: "hq".to_owned(),
                status: crate::reconcile::plan::Status::Ok,
                error: None,
                site_file: "sites/hq.yaml".to_owned(),
                site_file_sha256: String::new(),
                target: "dir:root".to_owned(),
                summary: Summary {
                    create: 1,
                    update: 1,
                    delete: 1,
                    ..Summary::default()
                },
                files,
                unmanaged: Vec::new(),
                overrides: vec![Override {
                    file: "0004f2000607-phone.cfg".to_owned(),
                    phone: "0004f2000607".to_owned(),
                    shadows: vec!["reg.1.label".to_owned()],
                    note: None,
                }],
                reads: Default::default(),
                secret_reads: Default::default(),
                published_reads: Default::default(),
                redacted: false,
                apply_would_refuse: Some("plan deletes 5 of 12 managed files".to_owned()),
                guards: Vec::new(),
                boot: Default::default(),
            }],
        )
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
        write(&report(), &mut out, color).expect("writes to memory");
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
