//! Every way a command can fail, with all message text in one place.

use std::path::PathBuf;

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

    #[error("site {site}: target {target}: {message}")]
    Remote {
        site: String,
        target: String,
        message: String,
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
        problem: crate::reconcile::planfile::PlanFileError,
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
