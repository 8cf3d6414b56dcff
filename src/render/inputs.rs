//! What rendering needs from outside the site file: resolved passwords and
//! firmware bytes checked against their sha256. All I/O of rendering is here.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::site::model::Site;
use crate::site::secret::{Secret, SecretStore};

pub struct Inputs {
    /// Extension number → SIP registration password.
    pub passwords: BTreeMap<String, Secret>,
    /// Secret parameters: field path in the site file → value.
    pub params: BTreeMap<String, Secret>,
    /// File name at the target root → bytes.
    pub firmware: BTreeMap<String, Vec<u8>>,
}

/// Resolve every secret of the site: the extensions' passwords by number,
/// and an error for each that cannot be (the FTP password's too, so that
/// one run names every missing secret).
fn secrets(site: &Site, store: &SecretStore) -> (Resolved, Vec<Error>) {
    let mut errors = Vec::new();
    let mut passwords = BTreeMap::new();
    for (i, ext) in site.extensions.iter().enumerate() {
        match store.resolve(&ext.password) {
            Ok(s) => {
                passwords.insert(ext.number.clone(), s);
            }
            Err(detail) => errors.push(Error::Secret {
                site: site.name.clone(),
                field: format!("extensions[{i}].password"),
                detail,
            }),
        }
    }
    let mut params = BTreeMap::new();
    for (field, reference) in site.secret_params() {
        match store.resolve(reference) {
            Ok(s) => {
                params.insert(field.to_owned(), s);
            }
            Err(detail) => errors.push(Error::Secret {
                site: site.name.clone(),
                field: field.to_owned(),
                detail,
            }),
        }
    }
    if let Some(r) = &site.target.password {
        if let Err(detail) = store.resolve(r) {
            errors.push(Error::Secret {
                site: site.name.clone(),
                field: "target.password".to_owned(),
                detail,
            });
        }
    }
    ((passwords, params), errors)
}

/// Extension passwords by number, secret parameters by field.
type Resolved = (BTreeMap<String, Secret>, BTreeMap<String, Secret>);

/// Every secret of the site that cannot be resolved (nothing is read but
/// the secrets).
pub fn missing_secrets(site: &Site, store: &SecretStore) -> Vec<Error> {
    secrets(site, store).1
}

/// Every secret of the site that is there but no phone can use (set but
/// empty, or holding a control character): what `validate` checks, which
/// runs where the secrets need not be set (docs/site-file.md).
pub fn unfit_secrets(site: &Site, store: &SecretStore) -> Vec<Error> {
    let passwords = site
        .extensions
        .iter()
        .enumerate()
        .map(|(i, ext)| (format!("extensions[{i}].password"), &ext.password));
    let params = site
        .secret_params()
        .map(|(field, reference)| (field.to_owned(), reference));
    let ftp = site
        .target
        .password
        .iter()
        .map(|r| ("target.password".to_owned(), r));
    passwords
        .chain(params)
        .chain(ftp)
        .filter_map(|(field, reference)| {
            store
                .check_set(reference)
                .err()
                .map(|detail| Error::Secret {
                    site: site.name.clone(),
                    field,
                    detail,
                })
        })
        .collect()
}

impl Inputs {
    /// Resolve every password of the site and read every firmware file. All
    /// problems are reported, each naming the site, field and variable or
    /// key, never a value.
    pub fn gather(site: &Site, store: &SecretStore) -> Result<Inputs, Vec<Error>> {
        let ((passwords, params), mut errors) = secrets(site, store);
        let mut firmware = BTreeMap::new();
        for blob in site.blobs() {
            match std::fs::read(&blob.source) {
                Err(e) => errors.push(Error::FirmwareRead {
                    site: site.name.clone(),
                    field: blob.field.clone(),
                    path: blob.source.clone(),
                    source: e,
                }),
                Ok(bytes) => {
                    let actual = sha256_hex(&bytes);
                    if actual == blob.sha256 {
                        firmware.insert(blob.name.clone(), bytes);
                    } else {
                        errors.push(Error::FirmwareHash {
                            site: site.name.clone(),
                            field: blob.field.clone(),
                            path: blob.source.clone(),
                            expected: blob.sha256.clone(),
                            actual,
                        });
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(Inputs {
                passwords,
                params,
                firmware,
            })
        } else {
            Err(errors)
        }
    }

    /// Every secret value these inputs hold, for masking output.
    pub fn secret_values(&self) -> Vec<String> {
        self.passwords
            .values()
            .chain(self.params.values())
            .map(|s| s.expose().to_owned())
            .collect()
    }
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
