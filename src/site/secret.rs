//! Secrets: a value that prints as `********` everywhere, and the references
//! (`{env: NAME}`, `{secret: KEY}`, literal) a site file uses to name one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::site::diagnostic::Diagnostic;
use crate::site::source::{self, join_key, Plain};

/// What every secret looks like in output.
pub const MASK: &str = "********";

/// A secret value. `Debug` and `Display` print `********`; the value itself is
/// reachable only through [`Secret::expose`], which the renderer and the FTP
/// login call.
#[derive(Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The real value. Call only where it is written into a rendered file or
    /// sent to a server, never where it could be printed.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

/// Where the key of the published HMACs (docs/threat-model.md) is read: this
/// environment variable…
pub const HASH_KEY_ENV: &str = "POLYOPS_HASH_KEY";
/// …or, when it is not set, this key of the secrets file.
pub const HASH_KEY_SECRET: &str = "polyops-hash-key";
/// A shorter key could be guessed, and an HMAC under a guessed key is as
/// reversible as a plain hash.
pub const HASH_KEY_MIN_CHARS: usize = 16;

/// How a site file names a password.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SecretRef {
    /// `{env: NAME}`: the environment variable NAME.
    Env(EnvRef),
    /// `{secret: KEY}`: KEY of the secrets file (`--secrets` or `POLYOPS_SECRETS_FILE`).
    File(KeyRef),
    /// A literal password: for labs only (a warning, an error under `--strict`).
    Literal(Secret),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvRef {
    #[schemars(pattern(r"^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub env: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRef {
    #[schemars(length(min = 1))]
    pub secret: String,
}

impl SecretRef {
    pub fn is_literal(&self) -> bool {
        matches!(self, SecretRef::Literal(_))
    }

    /// Where the value comes from, for messages: never the value itself.
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Env(r) => format!("environment variable {}", r.env),
            SecretRef::File(r) => format!("secrets file key {}", r.secret),
            SecretRef::Literal(_) => "literal value".to_owned(),
        }
    }
}

/// Where `{env: …}` and `{secret: …}` references are looked up.
pub struct SecretStore {
    file: Option<(PathBuf, BTreeMap<String, Secret>)>,
}

/// Why a secrets file cannot be used.
#[derive(Debug)]
pub enum OpenError {
    /// It cannot be read.
    Read(SecretError),
    /// What it holds is not a mapping of key: string; each finding names a
    /// line and a key, never a value.
    Invalid(Vec<Diagnostic>),
}

impl SecretStore {
    /// A store backed by the process environment and, if given, a YAML
    /// mapping file of key → string. The file is read with the site files'
    /// parser, so a duplicate key is an error at its line as it is there,
    /// and values keep their spelling (`007` is not 7).
    pub fn open(file: Option<&Path>) -> Result<Self, OpenError> {
        let Some(path) = file else {
            return Ok(Self { file: None });
        };
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| {
            OpenError::Read(SecretError::FileRead {
                path: path.to_owned(),
                source,
            })
        })?;
        let doc = source::parse_with(&text, Plain::Text).map_err(|e| {
            // A scanner message may quote the character it stopped at,
            // which can be part of a secret.
            let message = match e.message.split_once(": `") {
                Some((head, _)) => head.to_owned(),
                None => e.message,
            };
            OpenError::Invalid(vec![Diagnostic::error(&shown, e.pos, "", message)])
        })?;
        let Some(doc) = doc else {
            return Ok(Self {
                file: Some((path.to_owned(), BTreeMap::new())),
            });
        };
        let Value::Object(map) = doc.value else {
            return Err(OpenError::Invalid(vec![Diagnostic::error(
                &shown,
                doc.positions.value(""),
                "",
                "a secrets file must be a YAML mapping of key: string",
            )]));
        };
        let mut secrets = BTreeMap::new();
        let mut errors = Vec::new();
        for (key, value) in map {
            match value {
                Value::String(s) => {
                    secrets.insert(key, Secret::new(s));
                }
                _ => {
                    let at = join_key("", &key);
                    errors.push(Diagnostic::error(
                        &shown,
                        doc.positions.value(&at),
                        &at,
                        "secret values must be strings",
                    ));
                }
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|d| d.pos);
            return Err(OpenError::Invalid(errors));
        }
        Ok(Self {
            file: Some((path.to_owned(), secrets)),
        })
    }

    /// Resolve a reference; the error names the variable or key, never a value.
    /// A value no phone can use is an error too: an empty one (a CI
    /// secret store hands an undefined secret over as an empty string,
    /// and `password=""` stops the phone registering), or one that no
    /// configuration file could carry (a NUL, an escape character…).
    pub fn resolve(&self, r: &SecretRef) -> Result<Secret, SecretError> {
        self.fetch(r)
    }

    /// The error [`SecretStore::resolve`] gives for a secret that is there
    /// but unfit (empty, unprintable): what `validate` checks, which does
    /// not need every secret to be there. `Ok` when it is fit or missing.
    pub fn check_set(&self, r: &SecretRef) -> Result<(), SecretError> {
        match self.fetch(r) {
            Err(e) if e.is_unfit() => Err(e),
            _ => Ok(()),
        }
    }

    fn fetch(&self, r: &SecretRef) -> Result<Secret, SecretError> {
        let secret = self.lookup(r)?;
        if secret.expose().is_empty() {
            Err(match (r, &self.file) {
                (SecretRef::Literal(_), _) => SecretError::EmptyLiteral,
                (SecretRef::File(k), Some((path, _))) => SecretError::EmptyInFile {
                    key: k.secret.clone(),
                    path: path.clone(),
                },
                _ => SecretError::Empty {
                    reference: r.describe(),
                },
            })
        } else if !crate::polycom::xml::can_carry(secret.expose()) {
            Err(SecretError::ControlCharacter {
                reference: r.describe(),
            })
        } else {
            Ok(secret)
        }
    }

    /// The key under which the hashes of files that carry a secret are
    /// published: `POLYOPS_HASH_KEY`, else `polyops-hash-key` of the
    /// secrets file (the environment wins: a CI job sets it from its
    /// secret store, whatever a secrets file holds). An empty value is no key:
    /// a CI secret store hands an undefined secret over as an empty string.
    /// The error names where the key came from, never its value.
    pub fn hash_key(&self) -> Result<Option<Secret>, SecretError> {
        let (key, source) = match std::env::var(HASH_KEY_ENV) {
            Ok(v) if !v.is_empty() => (
                Secret::new(v),
                format!("environment variable {HASH_KEY_ENV}"),
            ),
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(SecretError::NotUnicode {
                    variable: HASH_KEY_ENV.to_owned(),
                })
            }
            _ => match &self.file {
                Some((path, map)) => match map.get(HASH_KEY_SECRET) {
                    Some(k) if !k.expose().is_empty() => (
                        k.clone(),
                        format!("secrets file key {HASH_KEY_SECRET} of {}", path.display()),
                    ),
                    _ => return Ok(None),
                },
                None => return Ok(None),
            },
        };
        if key.expose().chars().count() < HASH_KEY_MIN_CHARS {
            return Err(SecretError::ShortHashKey { origin: source });
        }
        Ok(Some(key))
    }

    fn lookup(&self, r: &SecretRef) -> Result<Secret, SecretError> {
        match r {
            SecretRef::Literal(s) => Ok(s.clone()),
            SecretRef::Env(e) => match std::env::var(&e.env) {
                Ok(v) => Ok(Secret::new(v)),
                Err(std::env::VarError::NotPresent) => Err(SecretError::NotSet {
                    variable: e.env.clone(),
                }),
                Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
                    variable: e.env.clone(),
                }),
            },
            SecretRef::File(k) => match &self.file {
                None => Err(SecretError::NoFile {
                    key: k.secret.clone(),
                }),
                Some((path, map)) => {
                    map.get(&k.secret)
                        .cloned()
                        .ok_or_else(|| SecretError::NotInFile {
                            key: k.secret.clone(),
                            path: path.clone(),
                        })
                }
            },
        }
    }
}

/// Why a secret cannot be had, or cannot be used: each names the variable,
/// key or file, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable {variable} is not set")]
    NotSet { variable: String },
    #[error("secret {key} needs a secrets file (--secrets FILE or POLYOPS_SECRETS_FILE)")]
    NoFile { key: String },
    #[error("secret {key} is not in {}", path.display())]
    NotInFile { key: String, path: PathBuf },
    #[error("environment variable {variable} is not valid UTF-8")]
    NotUnicode { variable: String },
    #[error("the literal value is empty")]
    EmptyLiteral,
    #[error("secrets file key {key} of {} is set but empty", path.display())]
    EmptyInFile { key: String, path: PathBuf },
    #[error("{reference} is set but empty")]
    Empty { reference: String },
    #[error("the {reference} holds a control character that a configuration file cannot carry")]
    ControlCharacter { reference: String },
    #[error("the hash key ({origin}) is shorter than {HASH_KEY_MIN_CHARS} characters, short enough to guess; use a long random value (openssl rand -hex 32)")]
    ShortHashKey { origin: String },
    #[error("error reading secrets file {}: {source}", path.display())]
    FileRead {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SecretError {
    /// Whether the secret is there but no phone can use it (as opposed
    /// to not found at all).
    fn is_unfit(&self) -> bool {
        !matches!(
            self,
            SecretError::NotSet { .. } | SecretError::NoFile { .. } | SecretError::NotInFile { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "******** ********");
        let r = SecretRef::Literal(s);
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    #[test]
    fn an_empty_secret_is_unfit_and_a_missing_one_is_only_missing() {
        let store = SecretStore::open(None).expect("no file");
        let empty = SecretRef::Literal(Secret::new(""));
        assert_eq!(
            store.resolve(&empty).expect_err("empty").to_string(),
            "the literal value is empty"
        );
        assert!(store.check_set(&empty).is_err());
        let missing = SecretRef::File(KeyRef {
            secret: "k".to_owned(),
        });
        assert!(store.resolve(&missing).is_err());
        assert!(store.check_set(&missing).is_ok());
        let fit = SecretRef::Literal(Secret::new("x"));
        assert_eq!(
            store.resolve(&fit).map(|s| s.expose().to_owned()).ok(),
            Some("x".to_owned())
        );
        assert!(store.check_set(&fit).is_ok());
    }
}
