//! What an import tells the person who reviews it: one line per thing it
//! left out, changed or could not know, each naming the file on the target
//! and the parameters concerned, then a summary. Names and values come
//! from the target and are untrusted: every line passes the masker (which
//! drops control characters and masks every secret) when it is written.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;

use crate::mask::Masker;

/// What happened to something the target holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NoteKind {
    /// Not in the site file: the phones will not get it from polyops.
    LeftOut,
    /// In the site file, but what polyops writes differs from the file.
    Changed,
    /// In the site file as it was, worth a look (a value the guide fixes
    /// otherwise, a file kept by name).
    Kept,
    /// The site file needs a value import could not find.
    FillIn,
    /// Nothing changes, but the reviewer should know.
    Note,
}

impl fmt::Display for NoteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoteKind::LeftOut => "left out",
            NoteKind::Changed => "changed",
            NoteKind::Kept => "kept",
            NoteKind::FillIn => "fill in",
            NoteKind::Note => "note",
        })
    }
}

/// One line: `FILE: KIND: TEXT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportNote {
    /// The file it is about, as named on the target (or the CSV file).
    pub file: String,
    pub kind: NoteKind,
    pub text: String,
    /// The parameters of `file` whose rendered value this line accounts
    /// for (`verify` names any other difference on a line of its own).
    pub covers: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ImportNotes {
    pub lines: Vec<ImportNote>,
    /// Files that were not read or not understood.
    pub not_understood: BTreeSet<String>,
}

impl ImportNotes {
    pub fn add(&mut self, file: &str, kind: NoteKind, text: impl Into<String>) -> &mut ImportNote {
        self.lines.push(ImportNote {
            file: file.to_owned(),
            kind,
            text: text.into(),
            covers: Vec::new(),
        });
        self.lines.last_mut().expect("a line was just pushed")
    }

    /// A line that accounts for the named parameters of `file`.
    pub fn about(&mut self, file: &str, kind: NoteKind, params: &[&str], text: impl Into<String>) {
        let line = self.add(file, kind, text);
        line.covers = params.iter().map(|p| (*p).to_owned()).collect();
    }

    /// A file import could not use at all.
    pub fn unusable(&mut self, file: &str, text: impl Into<String>) {
        self.not_understood.insert(file.to_owned());
        self.add(file, NoteKind::LeftOut, text);
    }

    /// Whether some line accounts for parameter `param` of `file`.
    pub fn covers(&self, file: &str, param: &str) -> bool {
        self.lines
            .iter()
            .any(|l| l.file == file && l.covers.iter().any(|c| c == param))
    }

    /// Every line, masked and printable, in the order they were found.
    pub fn write(&self, masker: &Masker, out: &mut dyn Write) -> std::io::Result<()> {
        for l in &self.lines {
            writeln!(
                out,
                "{}: {}: {}",
                masker.clean(&l.file),
                l.kind,
                masker.clean(&l.text)
            )?;
        }
        Ok(())
    }
}

/// `n thing` / `n things`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_masked_and_lose_control_characters() {
        let mut r = ImportNotes::default();
        r.about(
            "201.cfg\x1b[2J",
            NoteKind::Changed,
            &["reg.1.label"],
            "value s3cret\r\nDELE x",
        );
        let mut out = Vec::new();
        r.write(&Masker::new(["s3cret".to_owned()]), &mut out)
            .expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "201.cfg[2J: changed: value ********DELE x\n"
        );
        assert!(r.covers("201.cfg\x1b[2J", "reg.1.label"));
        assert!(!r.covers("201.cfg", "reg.1.label"));
    }
}
