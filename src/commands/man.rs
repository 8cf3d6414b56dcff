//! `man [--out DIR]`: man pages made from the clap definitions: polyops(1)
//! on standard output, or polyops.1 and one polyops-COMMAND.1 per command
//! written into DIR.

use std::io::Write;
use std::path::Path;

use super::examples::{examples, Example};
use super::write_out;
use crate::cli::clap_command;
use crate::error::Error;

/// The roff of one page: clap_mangen's sections, then EXAMPLES (before
/// VERSION, where man pages put it). groff reads its input as Latin-1
/// unless told otherwise (`man` runs preconv, a bare `groff -man` does
/// not): every character outside ASCII (the help's `§`) becomes a named
/// glyph (`\[u00A7]`), which reads the same either way.
fn page(command: clap::Command, examples: &[Example]) -> Result<Vec<u8>, Error> {
    let has_options = command.get_arguments().any(|a| !a.is_hide_set());
    let has_commands = command.has_subcommands();
    let has_extra = command.get_after_long_help().is_some() || command.get_after_help().is_some();
    let has_version = command
        .get_version()
        .or(command.get_long_version())
        .is_some();
    let man = clap_mangen::Man::new(command);
    let mut roff = Vec::new();
    let failed = |e| Error::Write {
        path: "the man page".into(),
        source: e,
    };
    man.render_title(&mut roff).map_err(failed)?;
    man.render_name_section(&mut roff).map_err(failed)?;
    man.render_synopsis_section(&mut roff).map_err(failed)?;
    man.render_description_section(&mut roff).map_err(failed)?;
    if has_options {
        man.render_options_section(&mut roff).map_err(failed)?;
    }
    if has_commands {
        man.render_subcommands_section(&mut roff).map_err(failed)?;
    }
    if has_extra {
        man.render_extra_section(&mut roff).map_err(failed)?;
    }
    roff.extend(examples_section(examples).into_bytes());
    if has_version {
        man.render_version_section(&mut roff).map_err(failed)?;
    }
    Ok(ascii(&String::from_utf8_lossy(&roff)).into_bytes())
}

/// `.SH EXAMPLES`: each example's words, then its command line indented
/// and unfilled, as man pages show what to type.
fn examples_section(examples: &[Example]) -> String {
    if examples.is_empty() {
        return String::new();
    }
    let mut out = String::from(".SH EXAMPLES\n");
    for (what, line) in examples {
        out.push_str(&format!(
            ".PP\n{}\n.PP\n.RS 4\n.nf\n{}\n.fi\n.RE\n",
            escape(what),
            escape(line)
        ));
    }
    out
}

/// Text as roff reads it literally: a backslash is `\e`, a hyphen a
/// minus sign (`\-`, what a command line types), and a line does not
/// start with a control character.
fn escape(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn ascii(roff: &str) -> String {
    let mut out = String::with_capacity(roff.len());
    for c in roff.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out
}

pub fn run(dir: Option<&Path>, out: &mut dyn Write) -> Result<i32, Error> {
    let mut command = clap_command();
    command.build();
    let Some(dir) = dir else {
        write_out(out, &page(command, examples(None))?)?;
        return Ok(0);
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::Write {
        path: dir.to_owned(),
        source: e,
    })?;
    let mut pages = vec![(
        "polyops.1".to_owned(),
        page(command.clone(), examples(None))?,
    )];
    for sub in command
        .get_subcommands()
        .filter(|s| s.get_name() != "help" && !s.is_hide_set())
    {
        let name = format!("polyops-{}", sub.get_name());
        let page_of = sub
            .clone()
            .name(name.clone())
            .display_name(name.clone())
            .bin_name(format!("polyops {}", sub.get_name()));
        let own = examples(Some(sub.get_name()));
        pages.push((format!("{name}.1"), page(page_of, own)?));
    }
    for (file, roff) in &pages {
        let path = dir.join(file);
        std::fs::write(&path, roff).map_err(|e| Error::Write { path, source: e })?;
    }
    let line = format!("wrote {} man pages to {}\n", pages.len(), dir.display());
    write_out(out, line.as_bytes())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_beyond_ascii_become_groff_glyphs() {
        assert_eq!(ascii("guide §7.2 – ok"), "guide \\[u00A7]7.2 \\[u2013] ok");
        assert_eq!(ascii("plain"), "plain");
    }
}
