//! What the core needs from the command line, in plain types: the
//! [`Config`] of one run.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::site::file::Model;
use crate::site::load::Shard;

/// Sites at a time when `--parallel` is not given.
pub const DEFAULT_PARALLEL: u16 = 8;

/// What to do, in plain types.
#[derive(Debug, Clone)]
pub struct Config {
    pub sites_dir: PathBuf,
    pub secrets: Option<PathBuf>,
    pub strict: bool,
    /// `--shard K/N`.
    pub shard: Option<Shard>,
    /// `--changed-since REF`.
    pub changed_since: Option<String>,
    pub connections: Option<usize>,
    pub verbose: bool,
    /// Sites at a time (`--parallel`, default 8).
    pub parallel: usize,
    /// `--fail-fast`.
    pub fail_fast: bool,
    pub command: Command,
    pub names: Vec<String>,
}

impl Config {
    /// The run of `polyops __complete-sites -- WORDS…`, which the
    /// completion scripts call (no option of its own).
    pub fn completing(words: Vec<String>) -> Config {
        Config {
            sites_dir: PathBuf::from("sites"),
            secrets: None,
            strict: false,
            shard: None,
            changed_since: None,
            connections: None,
            verbose: false,
            parallel: usize::from(DEFAULT_PARALLEL),
            fail_fast: false,
            command: Command::CompleteSites { words },
            names: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Command {
    Validate,
    Render {
        out: PathBuf,
    },
    Plan {
        out: Option<PathBuf>,
        detailed_exitcode: bool,
        format: Format,
    },
    Apply(ApplyOptions),
    Drift {
        format: Format,
    },
    Phones(PhonesOptions),
    Resync(ResyncOptions),
    Explain(ExplainOptions),
    Unlock,
    Schema {
        defaults: bool,
    },
    Import(ImportOptions),
    Dhcp {
        format: DhcpFormat,
    },
    Checklist {
        format: ChecklistFormat,
    },
    Doctor,
    Completions {
        shell: Shell,
    },
    Man {
        out: Option<PathBuf>,
    },
    /// The command line up to the cursor, the word being typed last.
    CompleteSites {
        words: Vec<String>,
    },
}

/// `phones`'s own options.
#[derive(Debug, Clone)]
pub struct PhonesOptions {
    pub format: Format,
    /// `--silent-after`: how long a phone may go unheard.
    pub silent_after: std::time::Duration,
}

/// `resync`'s own options; its site is `Config::names[0]`.
#[derive(Debug, Clone)]
pub struct ResyncOptions {
    /// The phones named (MAC or extension); empty: every phone.
    pub phones: Vec<String>,
    /// `--pending`: only the phones `phones` calls pending.
    pub pending: bool,
}

/// `explain`'s own options; its site is `Config::names[0]`.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    pub phone: String,
    pub params: Vec<String>,
    pub observed: bool,
    pub format: ExplainFormat,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub site: String,
    pub source: ImportSource,
    pub user: Option<String>,
    pub model: Option<Model>,
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait for a connect or a reply (`target.timeout_seconds`).
    pub timeout_seconds: Option<u64>,
    pub secrets_out: Option<PathBuf>,
}

/// What `import` reads.
#[derive(Debug, Clone)]
pub enum ImportSource {
    /// A provisioning root.
    Root { url: String },
    /// An inventory, and what it cannot say about the site.
    Csv {
        file: PathBuf,
        target: String,
        server: String,
        gmt_offset: i32,
    },
}

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub plan: Option<PathBuf>,
    pub auto_approve: bool,
    pub allow_mass_delete: bool,
    pub allow_mass_update: bool,
    /// `--lock-timeout`: how long to wait for a held lock.
    pub lock_timeout: Option<std::time::Duration>,
    /// Apply although the boot check finds files missing.
    pub allow_incomplete: bool,
    pub format: Format,
    /// `--resync`: NOTIFY the phones whose files changed, after apply.
    pub resync: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// One self-contained page (docs/outputs.md "HTML").
    Html,
}

/// `explain` prints text or JSON (there is no markdown of one phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Text,
    Json,
}

/// A DHCP server's configuration language (`polyops dhcp --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DhcpFormat {
    /// ISC dhcpd (dhcpd.conf).
    Isc,
    /// Kea DHCPv4 (JSON).
    Kea,
    /// dnsmasq (dnsmasq.conf).
    Dnsmasq,
    /// Windows DHCP Server (PowerShell).
    Windows,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecklistFormat {
    Markdown,
    Text,
}

/// The shells `polyops completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}
