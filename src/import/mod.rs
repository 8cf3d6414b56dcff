//! Adopting what exists (docs/import.md): a hand-made provisioning root (`root`)
//! or an inventory spreadsheet (`csv`) → a [`Draft`] of a site file, its
//! secrets and a report of what could not be carried over as it was.
//! `yaml` writes the draft as a site file a person would have written;
//! `verify` reads that text back through the loader, renders it and names
//! every parameter whose rendered value differs from the hand-made one.
//!
//! Nothing here writes to a target: a root is read through a [`Reader`],
//! which has no method that writes.
//!
//! [`Reader`]: crate::remote::Reader

pub mod csv;
pub mod logs;
mod map;
pub mod notes;
pub mod root;
mod typos;
pub mod verify;
pub mod yaml;

use std::collections::BTreeMap;

use crate::site::file::Model;
use crate::site::mac::Mac;
use crate::site::secret::Secret;

pub use notes::{ImportNote, ImportNotes, NoteKind};

/// A value that import could not find, written so that the site file
/// fails validation at that line until someone fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Value(T),
    /// What to fill in, and why import could not: the line's comment.
    FillIn(String),
}

impl<T> Field<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            Field::FillIn(_) => None,
        }
    }
}

/// A parameter's value in the draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftValue {
    Text(String),
    Integer(i64),
    /// `{secret: KEY}`.
    Secret(String),
}

impl DraftValue {
    /// A value read from a file: an integer when it is written like one
    /// (`2`, `-1`, never `007`: YAML would not give that back), else text.
    pub fn from_text(text: &str) -> DraftValue {
        let canonical = text.parse::<i64>().ok().filter(|n| n.to_string() == text);
        match canonical {
            Some(n) => DraftValue::Integer(n),
            None => DraftValue::Text(text.to_owned()),
        }
    }
}

/// Parameters by name.
pub type Params = BTreeMap<String, DraftValue>;

/// The target as the site file will name it.
#[derive(Debug, Clone, Default)]
pub struct DraftTarget {
    pub url: String,
    /// `None`: the factory default `PlcmSpIp`.
    pub user: Option<String>,
    /// Read the FTP password from `POLYOPS_FTP_PASSWORD`.
    pub password_env: bool,
    pub ca_file: Option<String>,
    /// `None`: the default of `target.timeout_seconds`.
    pub timeout_seconds: Option<u64>,
}

/// A site file before it is text: only what differs from the defaults is
/// set, so the written file is as short as a hand-written one.
#[derive(Debug, Clone)]
pub struct Draft {
    pub site: String,
    /// Where it came from, for the file's first comment.
    pub source: String,
    pub target: DraftTarget,
    pub address: Field<String>,
    pub sip_port: Option<u16>,
    pub registration_expires: Option<u32>,
    pub sntp_server: Option<String>,
    /// Offset from GMT in seconds (written as `zone` when it is one of
    /// the guide's four).
    pub gmt_offset: Field<i32>,
    pub gmt_note: Option<String>,
    pub daylight_saving: Option<bool>,
    pub dialplan: Dialplan,
    pub message_waiting_beep: bool,
    pub polling: Option<String>,
    pub params: Params,
    pub config_files: Vec<String>,
    pub extensions: Vec<Extension>,
    pub phones: Vec<Phone>,
}

impl Draft {
    pub fn new(site: &str, source: &str, target: DraftTarget) -> Self {
        Self {
            site: site.to_owned(),
            source: source.to_owned(),
            target,
            address: Field::FillIn("the MaxCS server's address".to_owned()),
            sip_port: None,
            registration_expires: None,
            sntp_server: None,
            gmt_offset: Field::FillIn(String::new()),
            gmt_note: None,
            daylight_saving: None,
            dialplan: Dialplan::default(),
            message_waiting_beep: false,
            polling: None,
            params: Params::new(),
            config_files: Vec::new(),
            extensions: Vec::new(),
            phones: Vec::new(),
        }
    }

    /// Parameters kept at any level.
    pub fn param_count(&self) -> usize {
        self.params.len()
            + self
                .extensions
                .iter()
                .map(|e| e.params.len())
                .sum::<usize>()
    }
}

/// `dialplan:`; `None` fields are left to their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dialplan {
    pub extension_digits: Option<u8>,
    pub first_digits: Option<(u8, u8)>,
    pub local_digits: Option<u8>,
    pub digitmap: Option<String>,
    /// Why the fields are what they are, for the comment above them.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub number: String,
    pub name: Option<String>,
    pub label: Option<String>,
    /// The key of its password in the secrets file.
    pub password: String,
    pub params: Params,
}

#[derive(Debug, Clone)]
pub struct Phone {
    pub mac: Mac,
    pub model: Field<Model>,
    /// Where the model came from, for the line's comment.
    pub model_note: Option<String>,
    pub extension: String,
}

/// The secrets file: values by key, and the keys the site file refers
/// to that no value was found for.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub values: BTreeMap<String, Secret>,
    pub missing: Vec<String>,
}

impl Secrets {
    /// Every value, for the masker of whatever is printed.
    pub fn exposed(&self) -> Vec<String> {
        self.values
            .values()
            .map(|s| s.expose().to_owned())
            .collect()
    }
}

/// The key of an extension's password: `hq/201`.
pub fn extension_key(site: &str, number: &str) -> String {
    format!("{site}/{number}")
}

/// The key of a secret parameter: `hq/dir.corp.password` for the site,
/// `hq/201/reg.2.auth.password` for an extension.
pub fn param_key(site: &str, extension: Option<&str>, name: &str) -> String {
    match extension {
        Some(n) => format!("{site}/{n}/{name}"),
        None => format!("{site}/{name}"),
    }
}

/// What an import hands on: the draft, its secrets, its report, and the
/// hand-made files it read, for [`verify`]: rendered name → (name on the
/// target, bytes).
pub struct Imported {
    pub draft: Draft,
    pub secrets: Secrets,
    pub notes: ImportNotes,
    pub originals: BTreeMap<String, (String, Vec<u8>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_read_back_as_the_same_integer_are_integers() {
        assert_eq!(DraftValue::from_text("2"), DraftValue::Integer(2));
        assert_eq!(DraftValue::from_text("-28800"), DraftValue::Integer(-28800));
        for text in ["007", "+1", "1.5", "", " 1", "99999999999999999999"] {
            assert_eq!(
                DraftValue::from_text(text),
                DraftValue::Text(text.to_owned()),
                "{text}"
            );
        }
    }
}
