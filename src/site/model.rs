//! A checked site: every default applied, every rule of docs/site-file.md holding.
//! Rendering and planning read only this, never the raw file.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::site::file::Model;
use crate::site::mac::Mac;
use crate::site::secret::SecretRef;

#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    /// The site file, as shown in messages.
    pub file: String,
    pub target: Target,
    pub server: Server,
    pub time: Time,
    pub digitmap: String,
    pub message_waiting_beep: bool,
    pub firmware: Firmware,
    /// Site-wide parameters (`altigen.cfg`).
    pub params: Params,
    /// Parameters per model (`params-<model>.cfg`), only models with a
    /// parameter.
    pub models: BTreeMap<Model, Params>,
    /// Time of day the phones poll for new files (`HH:MM`).
    pub polling: Option<String>,
    /// Static files (`files`), published like firmware files.
    pub files: Vec<FirmwareBlob>,
    /// Extra CONFIG_FILES entries.
    pub config_files: Vec<String>,
    pub safety: Safety,
    pub extensions: Vec<Extension>,
    pub phones: Vec<Phone>,
}

impl Site {
    /// Every file published as it is: `firmware.files`, then `files`.
    pub fn blobs(&self) -> impl Iterator<Item = &FirmwareBlob> {
        self.firmware.files.iter().chain(&self.files)
    }

    /// A phone's CONFIG_FILES, leftmost wins as on the phone:
    /// `params-<mac>.cfg?, <number>.cfg, params-<model>.cfg?, altigen.cfg,
    /// config_files…, phone1.cfg, sip.cfg` (a `params-` file only when it
    /// has a parameter).
    pub fn config_files_for(&self, phone: &Phone) -> Vec<String> {
        let mut names = Vec::new();
        if !phone.params.is_empty() {
            names.push(phone_params_file(&phone.mac));
        }
        names.push(format!("{}.cfg", phone.extension));
        if self.models.get(&phone.model).is_some_and(|p| !p.is_empty()) {
            names.push(model_params_file(phone.model));
        }
        names.push(ALTIGEN_CFG.to_owned());
        names.extend(self.config_files.iter().cloned());
        names.push("phone1.cfg".to_owned());
        names.push("sip.cfg".to_owned());
        names
    }

    /// Every secret parameter of the site, wherever it is set: its field
    /// and reference.
    pub fn secret_params(&self) -> impl Iterator<Item = (&str, &SecretRef)> {
        self.models
            .values()
            .chain(std::iter::once(&self.params))
            .chain(self.extensions.iter().map(|e| &e.params))
            .chain(self.phones.iter().map(|p| &p.params))
            .flat_map(|params| params.values())
            .filter_map(|v| match v {
                CheckedValue::Secret { field, reference } => Some((field.as_str(), reference)),
                CheckedValue::Text(_) => None,
            })
    }
}

/// How much of the managed files one apply may delete or update without
/// `--allow-mass-delete` / `--allow-mass-update`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Safety {
    pub max_delete_percent: u8,
    /// `None`: no limit.
    pub max_update_percent: Option<u8>,
    /// Fewer managed files than this: no check.
    pub min_managed: usize,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_delete_percent: 30,
            max_update_percent: None,
            min_managed: 10,
        }
    }
}

/// A checked parameter value, as it goes into a file.
#[derive(Debug, Clone)]
pub enum CheckedValue {
    Text(String),
    /// A secret, resolved at render time; `field` is its path in the site
    /// file (the key of its resolved value).
    Secret {
        field: String,
        reference: SecretRef,
    },
}

/// Parameters by name.
pub type Params = BTreeMap<String, CheckedValue>;

/// `params-<model>.cfg` (`params-ip650.cfg`).
pub fn model_params_file(model: Model) -> String {
    format!("params-{}.cfg", format!("{model:?}").to_ascii_lowercase())
}

/// `params-<mac>.cfg`.
pub fn phone_params_file(mac: &Mac) -> String {
    format!("params-{mac}.cfg")
}

/// Whether a name has the shape of a `params-` file polyops renders, for
/// any site: `params-<12 hex digits>.cfg` or `params-ip<digits>.cfg`.
pub fn is_params_file(name: &str) -> bool {
    let Some(stem) = name
        .strip_prefix("params-")
        .and_then(|n| n.strip_suffix(".cfg"))
    else {
        return false;
    };
    (stem.len() == 12 && stem.bytes().all(|b| b.is_ascii_hexdigit()))
        || stem
            .strip_prefix("ip")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Debug, Clone)]
pub struct Target {
    pub url: TargetUrl,
    /// The URL as written, for messages.
    pub display: String,
    pub user: String,
    /// `None`: the Polycom factory default password.
    pub password: Option<SecretRef>,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetUrl {
    Dir(PathBuf),
    Ftp {
        tls: bool,
        host: String,
        port: u16,
        /// Folder below the login directory; empty for the login directory.
        path: String,
    },
}

/// Why a text is not a target URL polyops can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("dir: needs a path, e.g. dir:out/provisioning")]
    NoPath,
    #[error("expected ftp://, ftps:// or dir:")]
    Scheme,
    #[error("put the user in target.user and the password in target.password, not in the URL")]
    Credentials,
    #[error("the path must not contain ..")]
    ParentFolder,
    #[error("unclosed [ in an IPv6 address")]
    UnclosedBracket,
    #[error("missing host")]
    NoHost,
    #[error("invalid port {0:?}")]
    Port(String),
}

impl TargetUrl {
    /// Parse `dir:<path>`, `ftp://host[:port]/path`, `ftps://host[:port]/path`.
    pub fn parse(url: &str) -> Result<TargetUrl, UrlError> {
        if let Some(path) = url.strip_prefix("dir:") {
            if path.is_empty() {
                return Err(UrlError::NoPath);
            }
            return Ok(TargetUrl::Dir(PathBuf::from(path)));
        }
        let (tls, rest) = if let Some(r) = url.strip_prefix("ftps://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("ftp://") {
            (false, r)
        } else {
            return Err(UrlError::Scheme);
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        if authority.contains('@') {
            return Err(UrlError::Credentials);
        }
        let (host, port) = split_host_port(authority)?;
        let path = path.trim_end_matches('/');
        if path.split('/').any(|seg| seg == "..") {
            return Err(UrlError::ParentFolder);
        }
        Ok(TargetUrl::Ftp {
            tls,
            host,
            port,
            path: path.to_owned(),
        })
    }

    /// A key under which two URLs naming the same folder compare equal.
    pub fn identity(&self) -> String {
        match self {
            TargetUrl::Dir(p) => {
                let abs = std::env::current_dir()
                    .map(|cwd| cwd.join(p))
                    .unwrap_or_else(|_| p.clone());
                let mut parts: Vec<String> = Vec::new();
                for c in abs.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            parts.pop();
                        }
                        std::path::Component::CurDir => {}
                        other => parts.push(other.as_os_str().to_string_lossy().into_owned()),
                    }
                }
                format!("dir:{}", parts.join("/"))
            }
            TargetUrl::Ftp {
                host, port, path, ..
            } => format!(
                "ftp://{}:{port}/{}",
                host.to_ascii_lowercase(),
                path.trim_matches('/')
            ),
        }
    }
}

fn split_host_port(authority: &str) -> Result<(String, u16), UrlError> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or(UrlError::UnclosedBracket)?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    let port = match port {
        None => 21,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| UrlError::Port(p.to_owned()))?,
    };
    Ok((host.to_owned(), port))
}

#[derive(Debug, Clone)]
pub struct Server {
    pub address: String,
    pub sip_port: u16,
    pub registration_expires: u32,
}

impl Server {
    /// The address as it goes after `@` in a SIP URI (IPv6 in brackets).
    pub fn uri_host(&self) -> String {
        if self.address.contains(':') {
            format!("[{}]", self.address)
        } else {
            self.address.clone()
        }
    }
}

#[derive(Debug, Clone)]
pub struct Time {
    pub sntp_server: String,
    pub gmt_offset: i32,
    pub daylight_saving: bool,
}

#[derive(Debug, Clone)]
pub struct Firmware {
    pub bootrom: String,
    pub sip: String,
    pub files: Vec<FirmwareBlob>,
}

/// A firmware file to publish as is.
#[derive(Debug, Clone)]
pub struct FirmwareBlob {
    /// Where to read it (relative to the current directory).
    pub source: PathBuf,
    /// Its name at the target root.
    pub name: String,
    /// Expected lowercase hex SHA-256.
    pub sha256: String,
    /// Field path, for messages.
    pub field: String,
}

#[derive(Debug, Clone)]
pub struct Extension {
    pub number: String,
    pub name: String,
    pub label: String,
    pub password: SecretRef,
    pub params: Params,
}

#[derive(Debug, Clone)]
pub struct Phone {
    pub mac: Mac,
    pub model: Model,
    pub extension: String,
    pub params: Params,
    /// Where `resync` may send the phone a NOTIFY (docs/phones.md): a
    /// checked host, unique within the site; `None`: nowhere.
    pub address: Option<String>,
}

/// The files a phone writes itself, never touched by polyops.
pub fn is_phone_written(name: &str) -> bool {
    let Some((mac, rest)) = name.split_at_checked(12) else {
        return false;
    };
    mac.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(
            rest.to_ascii_lowercase().as_str(),
            "-phone.cfg" | "-web.cfg" | "-boot.log" | "-app.log" | "-directory.xml" | "-calls.xml"
        )
}

/// The site-wide file of the guide's §6.1 parameters.
pub const ALTIGEN_CFG: &str = "altigen.cfg";

/// The guide's digit map for a dial plan (§6.1): operator, voice mail,
/// feature codes, park, extensions, local, long distance, and send-on-dial.
pub fn digitmap(extension_digits: u8, first_lo: u8, first_hi: u8, local_digits: u8) -> String {
    let first = if first_lo == first_hi {
        first_lo.to_string()
    } else {
        format!("[{first_lo}-{first_hi}]")
    };
    let ext = "x".repeat(usize::from(extension_digits.saturating_sub(1)));
    let local = "x".repeat(usize::from(local_digits.saturating_sub(1)));
    format!("0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|{first}{ext}|9[2-9]{local}|91xxxxxxxxxx|xxx.T")
}

/// A phone's master configuration file (`<mac>.cfg`), which names the others.
pub fn is_master_config(name: &str) -> bool {
    name.len() == 16 && name.ends_with(".cfg") && name[..12].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digitmap_default_is_the_guides() {
        assert_eq!(
            digitmap(3, 1, 7, 7),
            "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|[1-7]xx|9[2-9]xxxxxx|91xxxxxxxxxx|xxx.T"
        );
        assert_eq!(
            digitmap(4, 2, 2, 10),
            "0|##|#[1-3]x|#[5-9]x|#41xx|#4[2-9]|2xxx|9[2-9]xxxxxxxxx|91xxxxxxxxxx|xxx.T"
        );
    }

    #[test]
    fn target_urls_parse_with_defaults() {
        assert_eq!(
            TargetUrl::parse("ftp://192.0.2.10/").expect("ok"),
            TargetUrl::Ftp {
                tls: false,
                host: "192.0.2.10".into(),
                port: 21,
                path: String::new()
            }
        );
        assert_eq!(
            TargetUrl::parse("ftps://[::1]:2121/prov/").expect("ok"),
            TargetUrl::Ftp {
                tls: true,
                host: "::1".into(),
                port: 2121,
                path: "prov".into()
            }
        );
        assert!(TargetUrl::parse("ftp://u:p@h/").is_err());
        assert!(TargetUrl::parse("ftp://h/../x").is_err());
        assert!(TargetUrl::parse("sftp://h/").is_err());
    }

    #[test]
    fn same_folder_same_identity() {
        let a = TargetUrl::parse("ftp://Host:21/x/").expect("ok");
        let b = TargetUrl::parse("ftps://host/x").expect("ok");
        assert_eq!(a.identity(), b.identity());
        let c = TargetUrl::parse("dir:a/../b").expect("ok");
        let d = TargetUrl::parse("dir:./b").expect("ok");
        assert_eq!(c.identity(), d.identity());
    }

    #[test]
    fn phone_written_files_are_recognised() {
        assert!(is_phone_written("0004f2000607-phone.cfg"));
        assert!(is_phone_written("0004f2000607-calls.xml"));
        assert!(!is_phone_written("0004f2000607.cfg"));
        assert!(is_master_config("0004f2000607.cfg"));
        assert!(!is_master_config("201.cfg"));
    }
}
