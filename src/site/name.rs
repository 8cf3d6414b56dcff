//! The one type for a file name at a target's root: what a site declares
//! must be one, and the only name a backend accepts. Every phone
//! of a site logs in with the same factory account, so anything read from a
//! target (the state file, listings, the lock's owner file) may have been
//! written by anyone on the voice network: a name taken from there becomes
//! a `RemoteName` here, or is not used at all. A command line sent to a
//! server is built from `RemoteName`s only, so no name can smuggle a second
//! command (CR, LF), cut one short (NUL) or leave the root (`/`, `..`).

use std::fmt;

use crate::printable::is_unprintable;

/// Uploads land under `<name>.polyops-tmp` first: not a `.cfg`, so no phone
/// reads it. A name a site declares may not end with it.
pub const TEMP_SUFFIX: &str = ".polyops-tmp";

/// Longest name a `RemoteName` may hold (the usual file-system limit,
/// and Polycom's for a CONFIG_FILES entry).
pub const MAX_NAME_BYTES: usize = 255;

/// A file name at a target's root: one path segment of printable
/// characters, not `.` or `..`, at most 255 bytes. The only other shape is
/// a file inside a folder at the root (`.polyops-lock/owner.json`), made
/// from two checked segments by [`RemoteName::in_folder`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RemoteName(String);

impl RemoteName {
    /// Check `name`; `Err` says why it cannot be a name on a target, in
    /// words that never repeat the name's control characters.
    pub fn new(name: &str) -> Result<Self, NameError> {
        check_segment(name)?;
        Ok(Self(name.to_owned()))
    }

    /// `folder/file`, both checked segments.
    pub fn in_folder(folder: &RemoteName, file: &RemoteName) -> Self {
        Self(format!("{}/{}", folder.0, file.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RemoteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RemoteName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a text cannot be a name on a target, in words that never repeat
/// the name's control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("an empty name")]
    Empty,
    #[error("a name that is a folder reference (. or ..)")]
    FolderReference,
    #[error("a name longer than {MAX_NAME_BYTES} bytes")]
    TooLong,
    #[error("a name with the control character U+{:04X}", u32::from(*.0))]
    Control(char),
    #[error("a name with a path separator")]
    PathSeparator,
    #[error("a name that starts or ends with a space")]
    OuterSpace,
}

fn check_segment(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name == "." || name == ".." {
        return Err(NameError::FolderReference);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong);
    }
    if let Some(c) = name.chars().find(|&c| is_unprintable(c)) {
        return Err(NameError::Control(c));
    }
    if name.contains(['/', '\\']) {
        return Err(NameError::PathSeparator);
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        // FTP servers trim arguments differently: a name with outer spaces
        // may reach another file than the one it names.
        return Err(NameError::OuterSpace);
    }
    Ok(())
}

/// Whether `line` may be written to a server as one command: no CR, LF or
/// NUL anywhere in it. Every line polyops sends passes this check in the
/// one place that writes to a control connection.
pub fn check_command_line(line: &str) -> Result<(), String> {
    if line.contains(['\r', '\n', '\0']) {
        return Err("refused to send a command line holding CR, LF or NUL".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_reach_another_command_or_file_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "x\r\nDELE 201.cfg",
            "x\nCWD ..",
            "a\0b",
            "../201.cfg",
            "sub/201.cfg",
            "a\\b",
            "\x1b[31mred",
            "\u{202e}gfc.102",
            "201\u{2028}.cfg",
            "201\u{85}.cfg",
            "\u{feff}201.cfg",
            " 201.cfg",
            "201.cfg ",
            &"a".repeat(256),
        ] {
            assert!(RemoteName::new(bad).is_err(), "{bad:?} was accepted");
        }
        for good in ["201.cfg", ".polyops-state.json", "sip.ld", "Ü ber.cfg"] {
            assert_eq!(RemoteName::new(good).expect("valid").as_str(), good);
        }
    }

    #[test]
    fn command_lines_with_line_breaks_or_nul_are_refused() {
        assert!(check_command_line("RETR 201.cfg").is_ok());
        assert!(check_command_line("RETR x\r\nDELE y").is_err());
        assert!(check_command_line("RETR x\ny").is_err());
        assert!(check_command_line("RETR x\0").is_err());
    }
}
