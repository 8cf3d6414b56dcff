//! Every way a command can fail, with all message text in one place.

use std::fmt;
use std::path::PathBuf;

use crate::site::model::{Site, Target, TargetUrl};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{count} error{} in site files", if *count == 1 { "" } else { "s" })]
    Invalid { count: usize },

    #[error("{count} error{} in the secrets file", if *count == 1 { "" } else { "s" })]
    InvalidSecrets { count: usize },

    #[error("{command} needs a site")]
    NeedsSite { command: &'static str },

    #[error("--changed-since needs git: {source}")]
    NoGit { source: std::io::Error },

    #[error("--changed-since {reference}: {reason}")]
    ChangedSince { reference: String, reason: String },

    #[error("error reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(transparent)]
    Dhcp(#[from] DhcpError),

    #[error(transparent)]
    Import(#[from] ImportError),

    /// No site could be loaded at all.
    #[error(transparent)]
    Sites(#[from] crate::site::load::LoadError),

    #[error("site {site}: {field}: {detail}")]
    Secret {
        site: String,
        field: String,
        detail: crate::site::secret::SecretError,
    },

    /// The secrets file or the hash key cannot be used.
    #[error(transparent)]
    Secrets(#[from] crate::site::secret::SecretError),

    #[error("site {site}: {field}: error reading firmware file {}: {source}", path.display())]
    FirmwareRead {
        site: String,
        field: String,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("site {site}: {field}: {} has sha256 {actual}, the site file says {expected}", path.display())]
    FirmwareHash {
        site: String,
        field: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },

    #[error("error writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// `hint`: what to check, where reaching the target stopped at a step
    /// the table of [`Stop`] knows.
    #[error("site {site}: target {target}: {}", with_hint(message, hint.as_deref()))]
    Remote {
        site: String,
        target: String,
        message: String,
        hint: Option<Box<Hint>>,
    },

    #[error("site {site}: target {target} is locked {holder}; wait for it (--lock-timeout 5m), or if that apply is gone, run `polyops unlock {site}`")]
    Locked {
        site: String,
        target: String,
        holder: String,
    },

    #[error("site {site}: the saved plan is stale: {reason}; make a new plan")]
    Stale { site: String, reason: String },

    #[error("site {site}: apply refused: {reason}")]
    Refused { site: String, reason: String },

    #[error("site {site}: interrupted after {done} of {total} changes; the lock is released, run apply again to finish")]
    Interrupted {
        site: String,
        done: usize,
        total: usize,
    },

    /// `explain`'s PHONE names no phone of the site; `phones` lists some
    /// that it could name.
    #[error("site {site} ({file}): {what}; name one of the phones under its `phones:` by MAC address or extension number{phones}")]
    UnknownPhone {
        site: String,
        file: String,
        what: String,
        phones: String,
    },
    /// A plan file is made or applied without the key of its HMACs.
    #[error("{context}: set POLYOPS_HASH_KEY, or polyops-hash-key in the secrets file, to a long random value (openssl rand -hex 32)")]
    NoHashKey { context: String },

    #[error("error reading plan file {}: {problem}", path.display())]
    PlanFile {
        path: PathBuf,
        problem: PlanFileError,
    },

    /// `plan --out` with sites that could not be planned writes no file.
    #[error("no plan file written to {}: {failed} site{} could not be planned", path.display(), if *failed == 1 { "" } else { "s" })]
    NoPlanFile { path: PathBuf, failed: usize },

    /// `apply --plan` names, or selects, a site the plan file does not plan.
    #[error("site {site} is not in the saved plan")]
    NotInPlan { site: String },

    /// `apply` without `--auto-approve` where it cannot ask.
    #[error("apply needs --auto-approve when it cannot ask (no terminal on standard input)")]
    CannotAsk,

    /// `resync`: phones asked to fetch their files that did not say yes.
    #[error("site {site}: {failed} of {asked} phone{} asked did not answer the NOTIFY with 2xx (see the lines above)", if *asked == 1 { "" } else { "s" })]
    Resync {
        site: String,
        failed: usize,
        asked: usize,
    },

    /// Several independent errors, each already one line.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
}

impl Error {
    /// A site's target failed with `message` (masked and printable
    /// already): with what to check and `polyops doctor SITE` when the
    /// message says where reaching the target stopped.
    pub fn remote(site: &Site, message: String) -> Error {
        Error::Remote {
            site: site.name.clone(),
            target: site.target.display.clone(),
            hint: Stop::of(&message).map(|stop| {
                Box::new(Hint {
                    stop,
                    account: Account::of_site(&site.target),
                    doctor: Some(site.name.clone()),
                })
            }),
            message,
        }
    }

    /// The process exit code for this error (docs/commands.md: every error is 1; 2
    /// means "changes pending" and is not an error).
    pub fn code(&self) -> i32 {
        1
    }

    /// Whoever read standard output stopped reading (`polyops plan |
    /// head`): not an error to report, but the end of the run, as for a
    /// process the pipe's SIGPIPE ends.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            Error::Write { source, .. } => source.kind() == std::io::ErrorKind::BrokenPipe,
            Error::Many(errors) => errors.iter().any(Error::is_broken_pipe),
            _ => false,
        }
    }
}

/// The exit code of a run whose output pipe was closed (128 + SIGPIPE, as
/// shells report a process that signal ended).
pub const BROKEN_PIPE_EXIT: i32 = 141;

/// Why there are no DHCP options to print.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    /// One DHCP scope sends its phones to one boot server: several sites'
    /// options in one file would declare option 160 twice.
    #[error("dhcp prints the options of one site, and {selected} are selected: name one (polyops dhcp SITE)")]
    NotOneSite { selected: usize },
    #[error("site {site}: target {target} is a local folder, not a server the phones can boot from: dhcp needs an ftp:// or ftps:// target")]
    LocalFolder { site: String, target: String },
    /// `host` made printable.
    #[error("site {site}: target host {host:?} is not an IP address or DNS name a DHCP option can carry")]
    Host { site: String, host: String },
    /// `character` made printable.
    #[error("site {site}: the target's path holds {character:?}, which a boot server URL in a DHCP option cannot carry safely (letters, digits and - . _ ~ / % + only)")]
    Path { site: String, character: String },
}

/// Why `import` writes nothing (docs/import.md).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `name` made printable.
    #[error("{name:?} is not a site name: lower-case letters, digits and -, starting with a letter or digit")]
    SiteName { name: String },
    #[error("{} exists: import never overwrites a file (remove it, or choose another site name or --secrets-out)", path.display())]
    Exists { path: PathBuf },
    /// `option` (`--from`, `--target`) names no target polyops can use.
    #[error("{option} {url}: {why}")]
    Url {
        option: &'static str,
        url: String,
        why: crate::site::model::UrlError,
    },
    #[error("--from {url}: {} is not a folder", path.display())]
    NotAFolder { url: String, path: PathBuf },
    #[error("--server {0:?} is not an IPv4, IPv6 address or host name")]
    Server(String),
    #[error("--gmt-offset {0}: seconds, a multiple of 900 from -43200 to 50400")]
    GmtOffset(i32),
    #[error("error reading {file}: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: not UTF-8 text (save the spreadsheet as \"CSV UTF-8\")")]
    NotUtf8 {
        file: String,
        line: usize,
        column: usize,
    },
    /// The inventory's rows have `errors` errors, each printed already.
    #[error("{errors} error{} in {file}: nothing was written", if *errors == 1 { "" } else { "s" })]
    Rows { errors: usize, file: String },
}

/// Where reaching an FTP target stopped, as the FTP engine's message says
/// (`connecting to …`, `logging in as …`): the rows of the one table of
/// what to check, which `doctor`'s login line and every command's error
/// share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// No connection: nothing listens, a firewall, a name that does not resolve.
    Unreachable,
    /// The server refused the user or the password.
    Login,
    /// The server did not start TLS, or its certificate is not trusted.
    Tls,
    /// The URL's folder is not there for this account.
    Folder,
    /// Something answers, but not as an FTP server does.
    NotFtp,
}

impl Stop {
    /// The step a failure's message names, if it is one of the table's.
    pub fn of(message: &str) -> Option<Stop> {
        let says = |step: &str| message.contains(step);
        Some(
            if says("connecting to") || says("cannot resolve") || says(" has no address") {
                Stop::Unreachable
            } else if says("logging in as") {
                Stop::Login
            } else if says("starting TLS") {
                Stop::Tls
            } else if says("changing to folder") {
                Stop::Folder
            } else if says("greeting") || says("no complete answer") {
                Stop::NotFtp
            } else {
                return None;
            },
        )
    }
}

/// The account a target is reached with, as a hint names its parts: the
/// fields or options that set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    host: String,
    port: u16,
    path: String,
    /// The user and where it is set: `target.user (PlcmSpIp)`.
    user: String,
    /// Where the password comes from, never its value.
    password: String,
    /// What names the CA of a private certificate.
    ca_file: &'static str,
}

impl Account {
    fn at(target: &Target, user: String, password: String, ca_file: &'static str) -> Account {
        let (host, port, path) = match &target.url {
            TargetUrl::Ftp {
                host, port, path, ..
            } => (host.clone(), *port, path.clone()),
            TargetUrl::Dir(_) => (String::new(), 0, String::new()),
        };
        Account {
            host,
            port,
            path,
            user,
            password,
            ca_file,
        }
    }

    /// A site's: its `target.user` and `target.password`.
    pub fn of_site(target: &Target) -> Account {
        let source = target
            .password
            .as_ref()
            .map_or("the factory default".to_owned(), |r| r.describe());
        Account::at(
            target,
            format!("target.user ({})", target.user),
            format!("target.password (from {source})"),
            "target.ca_file",
        )
    }

    /// `import --from`'s: `--user`, and the password of `password_env`.
    pub fn of_import(
        target: &Target,
        user_given: bool,
        password_env: &str,
        env_set: bool,
    ) -> Account {
        let user = if user_given {
            format!("--user ({})", target.user)
        } else {
            format!("--user (not given: the factory default {})", target.user)
        };
        let password = if env_set {
            format!("the password in {password_env}")
        } else {
            format!("{password_env} (not set: the factory default password)")
        };
        Account::at(target, user, password, "--ca-file")
    }
}

/// What to check where reaching a target stopped, and, for a site, the
/// command that checks the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub stop: Stop,
    pub account: Account,
    /// The site `polyops doctor` is to check, if there is a site file.
    pub doctor: Option<String>,
}

impl Hint {
    /// The table: what to check for each step reaching a target can stop at.
    pub fn what_to_check(&self) -> String {
        let Account {
            host,
            port,
            path,
            user,
            password,
            ca_file,
        } = &self.account;
        match self.stop {
            Stop::Unreachable => format!(
                "check that the FTP server runs and listens on {host} port {port}, and that no firewall is in between"
            ),
            Stop::Login => format!("check {user} and {password} against the server's account"),
            Stop::Tls => format!(
                "ftps:// needs a server that offers explicit TLS (AUTH TLS) with a certificate this machine trusts ({ca_file} names the CA of a private one)"
            ),
            Stop::Folder => {
                format!("the URL's path ({path}) must be a folder below the account's login folder")
            }
            Stop::NotFtp => format!("{host} port {port} answers, but not as an FTP server does"),
        }
    }
}

/// A message and the hint after it; a server's reply that ends its
/// sentence (`530 Login incorrect.`) loses the full stop the hint follows.
fn with_hint(message: &str, hint: Option<&Hint>) -> String {
    match hint {
        Some(hint) => format!("{}{hint}", message.strip_suffix('.').unwrap_or(message)),
        None => message.to_owned(),
    }
}

/// `; WHAT TO CHECK; run `polyops doctor SITE``, after the error's message.
impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "; {}", self.what_to_check())?;
        if let Some(site) = &self.doctor {
            write!(f, "; run `polyops doctor {site}`")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_reaching_a_target_stopped_at_is_read_from_the_message() {
        for (message, stop) in [
            (
                "connecting to 127.0.0.1:1: Connection refused (os error 111)",
                Some(Stop::Unreachable),
            ),
            (
                "cannot resolve ftp.invalid: failed to lookup",
                Some(Stop::Unreachable),
            ),
            (
                "logging in as PlcmSpIp: 530 Login incorrect.",
                Some(Stop::Login),
            ),
            (
                "starting TLS: invalid peer certificate: UnknownIssuer",
                Some(Stop::Tls),
            ),
            (
                "changing to folder /prov: 550 No such file",
                Some(Stop::Folder),
            ),
            (
                "waiting for the greeting: no complete answer from the server within 10 s",
                Some(Stop::NotFtp),
            ),
            (
                "uploading 201.cfg.polyops-tmp: 553 Could not create file",
                None,
            ),
        ] {
            assert_eq!(Stop::of(message), stop, "{message}");
        }
    }

    #[test]
    fn a_hint_follows_the_message_without_its_full_stop() {
        assert_eq!(
            with_hint("530 Login incorrect.", None),
            "530 Login incorrect."
        );
        let target = Target {
            url: TargetUrl::parse("ftp://192.0.2.7:2121/prov").expect("a URL"),
            display: "ftp://192.0.2.7:2121/prov".to_owned(),
            user: "PlcmSpIp".to_owned(),
            password: None,
            ca_file: None,
            timeout: std::time::Duration::from_secs(30),
        };
        let hint = Hint {
            stop: Stop::Folder,
            account: Account::of_site(&target),
            doctor: Some("hq".to_owned()),
        };
        assert_eq!(
            with_hint("changing to folder /prov: 550 Failed.", Some(&hint)),
            "changing to folder /prov: 550 Failed; the URL's path (prov) must be a folder below the account's login folder; run `polyops doctor hq`"
        );
    }
}

/// Why a saved plan file cannot be applied; one line each.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("{0}")]
    Read(std::io::Error),
    #[error("{0}")]
    Json(serde_json::Error),
    #[error("it has no format_version: not a polyops plan file")]
    NoVersion,
    #[error("it has format version {found}, and this polyops reads version {reads} only; make the plan again with this polyops")]
    OtherVersion { found: u64, reads: u64 },
    #[error("not a plan")]
    NotAPlan,
    #[error("it plans no site")]
    NoSite,
    #[error("site {0} failed to plan")]
    Failed(String),
    #[error("it plans site {0} twice")]
    Twice(String),
}
