//! `explain`'s output: text for a person (one line per parameter: name,
//! value, the file that wins, the files it shadows), or the explanation
//! as JSON (its shape is in docs/explain.md). Every name and value in an
//! `Explanation` is masked and printable already.

use std::io::{self, Write};

use crate::reconcile::explain::{Explanation, Role, Source};

pub fn write_json(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, e)?;
    out.write_all(b"\n")
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

pub fn write_text(e: &Explanation, out: &mut dyn Write) -> io::Result<()> {
    let when = if e.observed {
        "as the target is now"
    } else {
        "after apply"
    };
    writeln!(
        out,
        "phone {} ({}, extension {}) of site {}, {when} ({})",
        e.phone, e.model, e.extension, e.site, e.target
    )?;
    let m = &e.master;
    match (&m.error, m.source) {
        (_, Source::Missing) => writeln!(out, "master file {}: missing", m.name)?,
        (Some(error), source) => {
            writeln!(out, "master file {} ({}): {error}", m.name, source.word())?
        }
        (None, source) => writeln!(
            out,
            "master file {} ({}): CONFIG_FILES=\"{}\"",
            m.name,
            source.word(),
            m.config_files.join(", ")
        )?,
    }
    writeln!(out, "files, leftmost wins:")?;
    let width = e
        .files
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0);
    for f in &e.files {
        let role = match f.role {
            Role::Override => "override",
            Role::Config => "config",
        };
        let what = match (&f.error, f.source) {
            (Some(error), _) => error.clone(),
            (None, Source::Missing) => String::new(),
            (None, _) => plural(f.parameters, "parameter"),
        };
        let line = format!(
            "  {:<width$}  {role:<8}  {:<8}  {what}",
            f.name,
            f.source.word()
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out, "parameters:")?;
    if e.parameters.is_empty() && e.unset.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for p in &e.parameters {
        let mut line = format!("  {} = \"{}\"  from {}", p.name, p.value, p.file);
        if !p.shadows.is_empty() {
            line.push_str(&format!(", shadows {}", p.shadows.join(", ")));
        }
        writeln!(out, "{line}")?;
    }
    for u in &e.unset {
        let detail = match (&u.release_default, u.known, &u.did_you_mean) {
            (Some(d), _, _) => format!(" (SIP 3.2.7's release files give \"{d}\")"),
            (None, true, _) => String::new(),
            (None, false, Some(near)) => {
                format!("; it is not a parameter of SIP 3.2.7: did you mean {near}?")
            }
            (None, false, None) => "; it is not a parameter of SIP 3.2.7".to_owned(),
        };
        writeln!(
            out,
            "  {} is set in no file: the firmware's default applies{detail}",
            u.name
        )?;
    }
    Ok(())
}
