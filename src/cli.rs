//! Command-line parsing, kept apart from the core: clap types here, turned
//! into a plain `Config` the rest of the code uses.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::site::load::Shard;

/// The options several commands share may come before the command
/// (`polyops --sites DIR plan`) or after it (`polyops plan --sites DIR`).
/// Before it they are accepted for every command and used where they mean
/// something; after it only a command that uses one takes it, so each
/// command's `--help` lists exactly its own.
#[derive(Debug, Parser)]
#[command(
    name = "polyops",
    version,
    about = "GitOps for Polycom IP phones on AltiGen MaxCS: validate, render, plan, apply, drift, explain, import, doctor",
    after_help = "Options given before the command apply to every command that takes them; \
                  `polyops COMMAND --help` lists the options of one command."
)]
struct Cli {
    /// Folder of site files [default: sites].
    #[arg(long, value_name = "DIR")]
    sites: Option<PathBuf>,
    /// YAML mapping of secret keys for {secret: KEY} references.
    #[arg(long, env = SECRETS_ENV, value_name = "FILE")]
    secrets: Option<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Only every N-th site of the sorted list, starting at the K-th (1 <= K <= N).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Only sites whose site file, _defaults.yaml, firmware or files changed
    /// between the git REF and the work tree.
    #[arg(long, value_name = "REF")]
    changed_since: Option<String>,
    /// Parallel FTP connections per target (default: 2 to download, 4 to
    /// hash or upload; 16 where a round trip takes 2 ms or more).
    #[arg(long, value_name = "N", value_parser = connections_range())]
    connections: Option<u16>,
    /// Also print how each target was read and written (connections,
    /// hashes, downloads, uploads, retries).
    #[arg(long, short)]
    verbose: bool,
    /// Sites planned, applied or drifted at a time [default: 8].
    #[arg(long, value_name = "N", value_parser = parallel_range())]
    parallel: Option<u16>,
    /// Stop at the first site that fails: no site starts after it.
    #[arg(long)]
    fail_fast: bool,
    #[command(subcommand)]
    command: CliCommand,
}

fn parallel_range() -> clap::builder::RangedI64ValueParser<u16> {
    clap::value_parser!(u16).range(1..=64)
}

/// How many sites at once, and whether one failure stops the rest: the
/// commands that read targets.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sites")]
struct FleetOptions {
    /// Sites planned, applied or drifted at a time [default: 8].
    #[arg(long, value_name = "N", value_parser = parallel_range())]
    parallel: Option<u16>,
    /// Stop at the first site that fails: no site starts after it.
    #[arg(long)]
    fail_fast: bool,
}

/// Where `--secrets` comes from when it is not given. Read by the
/// top-level option only: after the command an explicit `--secrets` must
/// win over an explicit one before it, and only then over the environment.
const SECRETS_ENV: &str = "POLYOPS_SECRETS_FILE";

/// Sites at a time when `--parallel` is not given.
pub const DEFAULT_PARALLEL: u16 = 8;

fn connections_range() -> clap::builder::RangedI64ValueParser<u16> {
    clap::value_parser!(u16).range(1..=32)
}

/// Which sites, and how strictly they are checked: every command that
/// reads site files.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sites")]
struct SiteOptions {
    /// Folder of site files [default: sites].
    #[arg(long, value_name = "DIR")]
    sites: Option<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
    /// Only every N-th site of the sorted list, starting at the K-th (1 <= K <= N).
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    shard: Option<Shard>,
    /// Only sites whose site file, _defaults.yaml, firmware or files changed
    /// between the git REF and the work tree.
    #[arg(long, value_name = "REF")]
    changed_since: Option<String>,
    /// Site names or site file paths; none means every site under --sites.
    #[arg(value_name = "SITE", help_heading = "Arguments")]
    names: Vec<String>,
}

/// Where site files are and how strictly they are checked, for a command
/// that names its one site among its own arguments (`explain SITE PHONE`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Sites")]
struct SiteDirOptions {
    /// Folder of site files [default: sites].
    #[arg(long, value_name = "DIR")]
    sites: Option<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    strict: bool,
}

/// Where `{secret: KEY}` references are read: every command that renders.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sites")]
struct SecretOptions {
    /// YAML mapping of secret keys for {secret: KEY} references
    /// [env: POLYOPS_SECRETS_FILE].
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
}

/// How targets are reached: every command that opens one.
#[derive(Debug, Args)]
#[command(next_help_heading = "Target")]
struct ConnectionOptions {
    /// Parallel FTP connections per target (default: 2 to download, 4 to
    /// hash or upload; 16 where a round trip takes 2 ms or more).
    #[arg(long, value_name = "N", value_parser = connections_range())]
    connections: Option<u16>,
}

/// How much to say about reading and writing targets: the commands that
/// observe a whole target.
#[derive(Debug, Args)]
#[command(next_help_heading = "Target")]
struct VerboseOption {
    /// Also print how each target was read and written (connections,
    /// hashes, downloads, uploads, retries).
    #[arg(long, short)]
    verbose: bool,
}

/// Every option of the commands that read a target's files: plan, apply
/// and drift.
#[derive(Debug, Args)]
struct OnlineOptions {
    #[command(flatten)]
    sites: SiteOptions,
    #[command(flatten)]
    secrets: SecretOptions,
    #[command(flatten)]
    connections: ConnectionOptions,
    #[command(flatten)]
    verbose: VerboseOption,
    #[command(flatten)]
    fleet: FleetOptions,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Check site files against the schema and rules; touches no network.
    Validate {
        #[command(flatten)]
        sites: SiteOptions,
    },
    /// Write each site's files to DIR/<site>/.
    Render {
        /// Folder to write into (one subfolder per site).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        sites: SiteOptions,
        #[command(flatten)]
        secrets: SecretOptions,
    },
    /// Read each site's target and print what apply would do.
    Plan {
        /// Also save the plan (hashes only, no secrets) for `apply --plan`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 2 when there are changes, 0 when there are none.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Output format (text is coloured on a terminal unless NO_COLOR is set).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        online: OnlineOptions,
    },
    /// Plan (or load a saved plan) and carry it out.
    Apply {
        /// Execute exactly this saved plan; refused if it is stale.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation (required without a terminal).
        #[arg(long)]
        auto_approve: bool,
        /// Allow deleting more of the managed files than safety.max_delete_percent (30%).
        #[arg(long)]
        allow_mass_delete: bool,
        /// Allow updating more of the managed files than safety.max_update_percent.
        #[arg(long)]
        allow_mass_update: bool,
        /// Wait this long for a lock another apply holds (30s, 5m) instead
        /// of failing at once.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        lock_timeout: Option<std::time::Duration>,
        /// Apply even when a file the phones' master files name (sip.ld,
        /// sip.cfg, phone1.cfg, …) would not be on the target.
        #[arg(long)]
        allow_incomplete: bool,
        /// Output format of the report (text prints the plan first).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        online: OnlineOptions,
    },
    /// Read-only: report what on each target differs from its site (exit 2).
    Drift {
        /// Output format (text is coloured on a terminal unless NO_COLOR is set).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        online: OnlineOptions,
    },
    /// Read-only: the parameters one phone runs, and the file each comes from.
    ///
    /// As apply would leave the target, or with --observed as it is now: the
    /// phone's override files first, then its CONFIG_FILES; the leftmost
    /// file that sets a parameter wins.
    Explain {
        /// Site name or site file path.
        #[arg(value_name = "SITE")]
        site: String,
        /// The phone: its MAC address in any spelling (0004f2000607,
        /// 00:04:F2:00:06:07) or its extension number.
        #[arg(value_name = "PHONE")]
        phone: String,
        /// Show only this parameter (its exact name, ASCII case ignored);
        /// may be given several times.
        #[arg(long = "param", value_name = "NAME")]
        params: Vec<String>,
        /// Explain the files on the target as they are now, not as apply
        /// would leave them.
        #[arg(long)]
        observed: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
        format: ExplainFormat,
        #[command(flatten)]
        sites: SiteDirOptions,
        #[command(flatten)]
        secrets: SecretOptions,
        #[command(flatten)]
        connections: ConnectionOptions,
    },
    /// Remove an apply lock left on a target by a killed run.
    Unlock {
        #[command(flatten)]
        sites: SiteOptions,
        #[command(flatten)]
        secrets: SecretOptions,
        #[command(flatten)]
        connections: ConnectionOptions,
    },
    /// Print the JSON Schema of a site file.
    Schema {
        /// The schema of sites/_defaults.yaml instead.
        #[arg(long)]
        defaults: bool,
    },
    /// Write a new site file and its secrets file from an existing
    /// provisioning root (read only, never written) or an inventory CSV.
    #[command(group(clap::ArgGroup::new("time_zone").args(["zone", "gmt_offset"])))]
    Import {
        /// Name of the new site; writes <sites>/SITE.yaml.
        #[arg(value_name = "SITE")]
        site: String,
        /// The provisioning root to read: ftp://, ftps:// or dir:<path>.
        #[arg(
            long,
            value_name = "URL",
            required_unless_present = "csv",
            conflicts_with = "csv"
        )]
        from: Option<String>,
        /// FTP user [default: PlcmSpIp]; the password comes from
        /// POLYOPS_FTP_PASSWORD (default: the factory PlcmSpIp).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Model of every phone whose boot or app log does not name one
        /// (IP321, IP331, IP335, IP560, IP650, IP6000, IP7000).
        #[arg(long, value_name = "MODEL", value_parser = str::parse::<crate::site::file::Model>)]
        model: Option<crate::site::file::Model>,
        /// PEM file of the CA that signed an ftps:// server's certificate
        /// (also written into the site file).
        #[arg(long, value_name = "FILE")]
        ca_file: Option<PathBuf>,
        /// Where to write the secrets [default: SITE.secrets.yaml].
        #[arg(long, value_name = "FILE")]
        secrets_out: Option<PathBuf>,
        /// Import an inventory instead of a root: header mac,model,extension
        /// and any of name,label,password.
        #[arg(long, value_name = "FILE", requires_all = ["target", "server", "time_zone"])]
        csv: Option<PathBuf>,
        /// With --csv: the new site's target (ftp://, ftps:// or dir:<path>).
        #[arg(long, value_name = "URL", requires = "csv")]
        target: Option<String>,
        /// With --csv: the MaxCS server's address.
        #[arg(long, value_name = "ADDRESS", requires = "csv")]
        server: Option<String>,
        /// With --csv: eastern, central, mountain or pacific.
        #[arg(long, value_name = "ZONE", value_parser = str::parse::<crate::site::file::Zone>, requires = "csv")]
        zone: Option<crate::site::file::Zone>,
        /// With --csv: the offset from GMT in seconds, instead of --zone.
        #[arg(
            long,
            value_name = "SECONDS",
            allow_hyphen_values = true,
            requires = "csv"
        )]
        gmt_offset: Option<i32>,
        /// Folder of site files [default: sites].
        #[arg(long, value_name = "DIR", help_heading = "Sites")]
        sites: Option<PathBuf>,
        #[command(flatten)]
        connections: ConnectionOptions,
    },
    /// Print the DHCP options that send a site's phones to its boot server
    /// (guide §7.2-7.3).
    Dhcp {
        /// The DHCP server's configuration language.
        #[arg(long, value_enum, default_value_t = DhcpFormat::Isc)]
        format: DhcpFormat,
        #[command(flatten)]
        sites: SiteOptions,
    },
    /// Print the MaxCS steps for each site's extensions and system (guide §3,
    /// §8, §10); touches no network.
    Checklist {
        /// Output format (markdown: checkboxes to paste into a ticket).
        #[arg(long, value_enum, default_value_t = ChecklistFormat::Markdown)]
        format: ChecklistFormat,
        #[command(flatten)]
        sites: SiteOptions,
    },
    /// Check each site's FTP target the way apply and the phones use it
    /// (exit 1 on any failed check).
    Doctor {
        #[command(flatten)]
        sites: SiteOptions,
        #[command(flatten)]
        secrets: SecretOptions,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print the man page (roff), or write one page per command into DIR.
    Man {
        /// Write polyops.1 and polyops-COMMAND.1 into this folder instead.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// The shared options one command was given after its name (`None`: the
/// command does not take that option).
#[derive(Default)]
struct Shared {
    sites: Option<PathBuf>,
    strict: bool,
    shard: Option<Shard>,
    changed_since: Option<String>,
    names: Vec<String>,
    secrets: Option<PathBuf>,
    connections: Option<u16>,
    verbose: bool,
    parallel: Option<u16>,
    fail_fast: bool,
}

impl Shared {
    fn online(o: OnlineOptions) -> Self {
        let mut shared = Self::new(
            o.sites,
            Some(o.secrets),
            Some(o.connections),
            Some(o.verbose),
        );
        shared.parallel = o.fleet.parallel;
        shared.fail_fast = o.fleet.fail_fast;
        shared
    }

    fn new(
        sites: SiteOptions,
        secrets: Option<SecretOptions>,
        connections: Option<ConnectionOptions>,
        verbose: Option<VerboseOption>,
    ) -> Self {
        Self {
            sites: sites.sites,
            strict: sites.strict,
            shard: sites.shard,
            changed_since: sites.changed_since,
            names: sites.names,
            secrets: secrets.and_then(|s| s.secrets),
            connections: connections.and_then(|c| c.connections),
            verbose: verbose.is_some_and(|v| v.verbose),
            parallel: None,
            fail_fast: false,
        }
    }
}

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
    pub model: Option<crate::site::file::Model>,
    pub ca_file: Option<PathBuf>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
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

/// The clap definition of the command line, for completions and man pages.
pub fn clap_command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command()
}

/// Parse arguments. `Err` carries clap's message and whether it is help or
/// version output (exit 0) rather than a usage error (exit 1).
pub fn parse<I, T>(args: I) -> Result<Config, (String, bool)>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| {
        let benign = matches!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
        );
        (e.render().to_string(), benign)
    })?;
    let (command, shared) = match cli.command {
        CliCommand::Validate { sites } => (Command::Validate, Shared::new(sites, None, None, None)),
        CliCommand::Render {
            out,
            sites,
            secrets,
        } => (
            Command::Render { out },
            Shared::new(sites, Some(secrets), None, None),
        ),
        CliCommand::Plan {
            out,
            detailed_exitcode,
            format,
            online,
        } => (
            Command::Plan {
                out,
                detailed_exitcode,
                format,
            },
            Shared::online(online),
        ),
        CliCommand::Apply {
            plan,
            auto_approve,
            allow_mass_delete,
            allow_mass_update,
            lock_timeout,
            allow_incomplete,
            format,
            online,
        } => (
            Command::Apply(ApplyOptions {
                plan,
                auto_approve,
                allow_mass_delete,
                allow_mass_update,
                lock_timeout,
                allow_incomplete,
                format,
            }),
            Shared::online(online),
        ),
        CliCommand::Drift { format, online } => (Command::Drift { format }, Shared::online(online)),
        CliCommand::Explain {
            site,
            phone,
            params,
            observed,
            format,
            sites,
            secrets,
            connections,
        } => (
            Command::Explain(ExplainOptions {
                phone,
                params,
                observed,
                format,
            }),
            Shared::new(
                SiteOptions {
                    sites: sites.sites,
                    strict: sites.strict,
                    shard: None,
                    changed_since: None,
                    names: vec![site],
                },
                Some(secrets),
                Some(connections),
                None,
            ),
        ),
        CliCommand::Unlock {
            sites,
            secrets,
            connections,
        } => (
            Command::Unlock,
            Shared::new(sites, Some(secrets), Some(connections), None),
        ),
        CliCommand::Schema { defaults } => (Command::Schema { defaults }, Shared::default()),
        CliCommand::Import {
            site,
            from,
            user,
            model,
            ca_file,
            secrets_out,
            csv,
            target,
            server,
            zone,
            gmt_offset,
            sites,
            connections,
        } => {
            let source = match (csv, from) {
                (Some(file), _) => ImportSource::Csv {
                    file,
                    target: target.unwrap_or_default(),
                    server: server.unwrap_or_default(),
                    gmt_offset: gmt_offset
                        .or(zone.map(|z| z.gmt_offset()))
                        .unwrap_or_default(),
                },
                (None, from) => ImportSource::Root {
                    url: from.unwrap_or_default(),
                },
            };
            (
                Command::Import(ImportOptions {
                    site,
                    source,
                    user,
                    model,
                    ca_file,
                    secrets_out,
                }),
                Shared {
                    sites,
                    connections: connections.connections,
                    ..Shared::default()
                },
            )
        }
        CliCommand::Dhcp { format, sites } => (
            Command::Dhcp { format },
            Shared::new(sites, None, None, None),
        ),
        CliCommand::Checklist { format, sites } => (
            Command::Checklist { format },
            Shared::new(sites, None, None, None),
        ),
        CliCommand::Doctor { sites, secrets } => (
            Command::Doctor,
            Shared::new(sites, Some(secrets), None, None),
        ),
        CliCommand::Completions { shell } => (Command::Completions { shell }, Shared::default()),
        CliCommand::Man { out } => (Command::Man { out }, Shared::default()),
    };
    // After the command beats before it; before it beats the environment
    // (which only the top-level `--secrets` reads).
    Ok(Config {
        sites_dir: shared
            .sites
            .or(cli.sites)
            .unwrap_or_else(|| PathBuf::from("sites")),
        secrets: shared.secrets.or(cli.secrets),
        strict: cli.strict || shared.strict,
        shard: shared.shard.or(cli.shard),
        changed_since: shared.changed_since.or(cli.changed_since),
        connections: shared.connections.or(cli.connections).map(usize::from),
        verbose: cli.verbose || shared.verbose,
        parallel: usize::from(shared.parallel.or(cli.parallel).unwrap_or(DEFAULT_PARALLEL)),
        fail_fast: cli.fail_fast || shared.fail_fast,
        command,
        names: shared.names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// The long options a `--help` text lists.
    fn listed_options(args: &[&str]) -> Vec<String> {
        let (help, benign) = parse(args).expect_err("--help stops parsing");
        assert!(benign, "{help}");
        let mut options: Vec<String> = help
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('-'))
            .filter_map(|l| {
                l.split([' ', ','])
                    .find(|w| w.starts_with("--"))
                    .map(str::to_owned)
            })
            .collect();
        options.sort();
        options
    }

    #[test]
    fn each_help_lists_only_the_options_its_command_takes() {
        assert_eq!(
            listed_options(&["polyops", "schema", "--help"]),
            ["--defaults", "--help"]
        );
        assert_eq!(
            listed_options(&["polyops", "validate", "--help"]),
            [
                "--changed-since",
                "--help",
                "--shard",
                "--sites",
                "--strict"
            ]
        );
        assert_eq!(
            listed_options(&["polyops", "render", "--help"]),
            [
                "--changed-since",
                "--help",
                "--out",
                "--secrets",
                "--shard",
                "--sites",
                "--strict"
            ]
        );
        assert_eq!(
            listed_options(&["polyops", "explain", "--help"]),
            [
                "--connections",
                "--format",
                "--help",
                "--observed",
                "--param",
                "--secrets",
                "--sites",
                "--strict"
            ]
        );
        assert_eq!(
            listed_options(&["polyops", "unlock", "--help"]),
            [
                "--changed-since",
                "--connections",
                "--help",
                "--secrets",
                "--shard",
                "--sites",
                "--strict"
            ]
        );
        for (command, own) in [
            ("plan", &["--detailed-exitcode", "--format", "--out"][..]),
            (
                "apply",
                &[
                    "--allow-incomplete",
                    "--allow-mass-delete",
                    "--allow-mass-update",
                    "--auto-approve",
                    "--format",
                    "--lock-timeout",
                    "--plan",
                ][..],
            ),
            ("drift", &["--format"][..]),
        ] {
            let mut expected: Vec<&str> = [
                "--changed-since",
                "--connections",
                "--fail-fast",
                "--help",
                "--parallel",
                "--secrets",
                "--shard",
                "--sites",
                "--strict",
                "--verbose",
            ]
            .into_iter()
            .chain(own.iter().copied())
            .collect();
            expected.sort();
            assert_eq!(listed_options(&["polyops", command, "--help"]), expected);
        }
    }

    #[test]
    fn import_takes_a_root_or_an_inventory() {
        assert_eq!(
            listed_options(&["polyops", "import", "--help"]),
            [
                "--ca-file",
                "--connections",
                "--csv",
                "--from",
                "--gmt-offset",
                "--help",
                "--model",
                "--secrets-out",
                "--server",
                "--sites",
                "--target",
                "--user",
                "--zone",
            ]
        );
        let c = config(&[
            "polyops", "import", "hq", "--from", "dir:root", "--model", "ip 650",
        ]);
        let Command::Import(o) = c.command else {
            panic!("not import")
        };
        assert!(matches!(o.source, ImportSource::Root { ref url } if url == "dir:root"));
        assert_eq!(o.model, Some(crate::site::file::Model::IP650));
        let c = config(&[
            "polyops",
            "import",
            "hq",
            "--csv",
            "i.csv",
            "--target",
            "dir:r",
            "--server",
            "pbx",
            "--gmt-offset",
            "-12600",
        ]);
        let Command::Import(o) = c.command else {
            panic!("not import")
        };
        assert!(matches!(
            o.source,
            ImportSource::Csv {
                gmt_offset: -12600,
                ..
            }
        ));
        for bad in [
            &["polyops", "import", "hq"][..],
            &[
                "polyops", "import", "hq", "--from", "dir:r", "--csv", "i.csv",
            ],
            &[
                "polyops", "import", "hq", "--csv", "i.csv", "--target", "dir:r", "--server", "p",
            ],
            &[
                "polyops", "import", "hq", "--from", "dir:r", "--zone", "eastern",
            ],
            &[
                "polyops", "import", "hq", "--from", "dir:r", "--model", "IP600",
            ],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_help_describes_its_site_arguments() {
        for command in ["validate", "render", "plan", "apply", "drift", "unlock"] {
            let (help, _) = parse(["polyops", command, "--help"]).expect_err("help");
            assert!(
                help.contains("[SITE]...") && help.contains("none means every site"),
                "{command}: {help}"
            );
        }
    }

    fn config(args: &[&str]) -> Config {
        parse(args).unwrap_or_else(|(e, _)| panic!("{args:?}: {e}"))
    }

    #[test]
    fn shared_options_work_before_and_after_the_command() {
        for args in [
            &[
                "polyops",
                "--sites",
                "d",
                "--secrets",
                "s.yaml",
                "--strict",
                "-v",
                "--connections",
                "3",
                "plan",
            ][..],
            &[
                "polyops",
                "plan",
                "--sites",
                "d",
                "--secrets",
                "s.yaml",
                "--strict",
                "-v",
                "--connections",
                "3",
            ][..],
            &[
                "polyops",
                "--sites",
                "d",
                "-v",
                "plan",
                "--secrets",
                "s.yaml",
                "--strict",
                "--connections",
                "3",
            ][..],
        ] {
            let c = config(args);
            assert_eq!(c.sites_dir, PathBuf::from("d"), "{args:?}");
            assert_eq!(c.secrets, Some(PathBuf::from("s.yaml")), "{args:?}");
            assert!(c.strict && c.verbose, "{args:?}");
            assert_eq!(c.connections, Some(3), "{args:?}");
        }
        let c = config(&["polyops", "validate", "--strict"]);
        assert!(c.strict);
        assert_eq!(c.sites_dir, PathBuf::from("sites"));
        // After the command, the command's own value wins.
        let c = config(&["polyops", "--sites", "a", "drift", "--sites", "b"]);
        assert_eq!(c.sites_dir, PathBuf::from("b"));
        // Before the command, any shared option is still taken.
        let c = config(&[
            "polyops",
            "--secrets",
            "s.yaml",
            "--connections",
            "2",
            "validate",
        ]);
        assert!(matches!(c.command, Command::Validate));
    }

    #[test]
    fn explain_takes_one_site_one_phone_and_repeated_params() {
        let c = config(&[
            "polyops",
            "explain",
            "hq",
            "00:04:F2:00:06:07",
            "--param",
            "a.b",
            "--param",
            "c.d",
            "--observed",
            "--format",
            "json",
            "--sites",
            "d",
        ]);
        assert_eq!(c.names, ["hq"]);
        assert_eq!(c.sites_dir, PathBuf::from("d"));
        let Command::Explain(e) = c.command else {
            panic!("not explain: {:?}", c.command)
        };
        assert_eq!(e.phone, "00:04:F2:00:06:07");
        assert_eq!(e.params, ["a.b", "c.d"]);
        assert!(e.observed);
        assert_eq!(e.format, ExplainFormat::Json);
        let (err, benign) = parse(["polyops", "explain", "hq"]).expect_err("no PHONE");
        assert!(!benign && err.contains("<PHONE>"), "{err}");
        let (err, _) = parse(["polyops", "explain", "hq", "201", "--format", "markdown"])
            .expect_err("no markdown");
        assert!(err.contains("markdown"), "{err}");
    }

    #[test]
    fn an_option_after_a_command_that_does_not_take_it_is_an_error() {
        let (e, benign) =
            parse(["polyops", "schema", "--sites", "d"]).expect_err("schema takes no --sites");
        assert!(!benign && e.contains("--sites"), "{e}");
        let (e, _) =
            parse(["polyops", "validate", "--connections", "2"]).expect_err("no --connections");
        assert!(e.contains("--connections"), "{e}");
    }
}
