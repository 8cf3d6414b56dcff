//! `man [--out DIR]`: man pages made from the clap definitions: polyops(1)
//! on standard output, or polyops.1 and one polyops-COMMAND.1 per command
//! written into DIR.

use std::io::Write;
use std::path::Path;

use super::write_out;
use crate::cli::clap_command;
use crate::error::Error;

/// The roff of one page. groff reads its input as Latin-1 unless told
/// otherwise (`man` runs preconv, a bare `groff -man` does not): every
/// character outside ASCII (the help's `§`) becomes a named glyph
/// (`\[u00A7]`), which reads the same either way.
fn page(command: clap::Command) -> Result<Vec<u8>, Error> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut roff)
        .map_err(|e| Error::Write {
            path: "the man page".into(),
            source: e,
        })?;
    Ok(ascii(&String::from_utf8_lossy(&roff)).into_bytes())
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
        write_out(out, &page(command)?)?;
        return Ok(0);
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::Write {
        path: dir.to_owned(),
        source: e,
    })?;
    let mut pages = vec![("polyops.1".to_owned(), page(command.clone())?)];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("polyops-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(name.clone())
            .display_name(name.clone())
            .bin_name(format!("polyops {}", sub.get_name()));
        pages.push((format!("{name}.1"), page(sub)?));
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
