//! What was typed: the clap types of the command line, and how they turn
//! into the plain [`Config`] the core uses ([`Cli::into_config`]).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueHint};

use super::config::{
    ApplyOptions, ChecklistFormat, Command, Config, DhcpFormat, ExplainFormat, ExplainOptions,
    Format, ImportOptions, ImportSource, PhonesOptions, ResyncOptions, Shell, DEFAULT_PARALLEL,
};
use crate::site::file::{Model, Zone};
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
    about = "GitOps for Polycom IP phones on AltiGen MaxCS: validate, render, plan, apply, drift, phones, resync, explain, import, doctor",
    after_help = "Options given before the command apply to every command that takes them; \
                  `polyops COMMAND --help` lists the options of one command."
)]
pub(super) struct Cli {
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
    #[arg(value_name = "SITE", help_heading = "Arguments", value_hint = ValueHint::FilePath)]
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

impl SiteDirOptions {
    /// The site options of a command about this one site.
    fn naming(self, site: String) -> SiteOptions {
        SiteOptions {
            sites: self.sites,
            strict: self.strict,
            shard: None,
            changed_since: None,
            names: vec![site],
        }
    }
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

/// Every option of the commands that reconcile sites with their targets:
/// plan, apply and drift.
#[derive(Debug, Args)]
struct ReconcileOptions {
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
    Plan(PlanArgs),
    /// Plan (or load a saved plan) and carry it out.
    Apply(ApplyArgs),
    /// Read-only: report what on each target differs from its site (exit 2).
    Drift {
        /// Output format (text is coloured on a terminal unless NO_COLOR is set).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[command(flatten)]
        reconcile: ReconcileOptions,
    },
    /// Read-only: did each phone take what was applied (exit 2 when any
    /// phone is not current)?
    ///
    /// Per declared phone: its last boot and last heard (its logs' times on
    /// the server), the newest change to a file it reads, its override
    /// files, its newest error lines, and its status: current, pending,
    /// silent, never or error.
    Phones {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// A phone with no log newer than this before now is silent.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "3d")]
        silent_after: std::time::Duration,
        #[command(flatten)]
        reconcile: ReconcileOptions,
    },
    /// Ask a site's phones to fetch their files now: a SIP NOTIFY
    /// (check-sync) to each phone's address (exit 1 unless every phone
    /// asked answers 2xx).
    ///
    /// Sent over UDP to phones[].address at server.sip_port, repeated
    /// until the phone answers or 4 s pass; phones without an address
    /// are skipped. Nothing is sent anywhere else.
    Resync(ResyncArgs),
    /// Read-only: the parameters one phone runs, and the file each comes from.
    ///
    /// As apply would leave the target, or with --observed as it is now: the
    /// phone's override files first, then its CONFIG_FILES; the leftmost
    /// file that sets a parameter wins.
    Explain(ExplainArgs),
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
    Import(ImportArgs),
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

/// `plan`'s own options.
#[derive(Debug, Args)]
struct PlanArgs {
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
    reconcile: ReconcileOptions,
}

/// `apply`'s own options.
#[derive(Debug, Args)]
struct ApplyArgs {
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
    /// After a successful apply, ask the phones whose files changed to
    /// fetch them now (see `polyops resync`).
    #[arg(long)]
    resync: bool,
    #[command(flatten)]
    reconcile: ReconcileOptions,
}

/// `resync`'s arguments and options.
#[derive(Debug, Args)]
struct ResyncArgs {
    /// Site name or site file path.
    #[arg(value_name = "SITE", value_hint = ValueHint::FilePath)]
    site: String,
    /// Only these phones: a MAC address in any spelling or an
    /// extension number (default: every phone of the site).
    #[arg(value_name = "PHONE")]
    phones: Vec<String>,
    /// Only the phones `polyops phones` calls pending.
    #[arg(long)]
    pending: bool,
    #[command(flatten)]
    sites: SiteDirOptions,
    #[command(flatten)]
    secrets: SecretOptions,
    #[command(flatten)]
    connections: ConnectionOptions,
}

/// `explain`'s arguments and options.
#[derive(Debug, Args)]
struct ExplainArgs {
    /// Site name or site file path.
    #[arg(value_name = "SITE", value_hint = ValueHint::FilePath)]
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
}

/// `import`'s arguments and options.
#[derive(Debug, Args)]
struct ImportArgs {
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
    #[arg(long, value_name = "MODEL", value_parser = str::parse::<Model>)]
    model: Option<Model>,
    /// PEM file of the CA that signed an ftps:// server's certificate
    /// (also written into the site file).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Seconds to wait for a connect or a reply [default: 30] (also
    /// written into the site file as target.timeout_seconds).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout_seconds: Option<u64>,
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
    #[arg(long, value_name = "ZONE", value_parser = str::parse::<Zone>, requires = "csv")]
    zone: Option<Zone>,
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
}

/// The shared options one command was given after its name (`None`: the
/// command does not take that option), which beat the same options given
/// before it.
#[derive(Default)]
struct AfterCommand {
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

impl AfterCommand {
    fn reconcile(o: ReconcileOptions) -> Self {
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

impl Cli {
    /// The plain config: an option given after the command beats the same
    /// option before it; before it beats the environment (which only the
    /// top-level `--secrets` reads).
    pub(super) fn into_config(self) -> Config {
        let (command, after) = self.command.split();
        Config {
            sites_dir: after
                .sites
                .or(self.sites)
                .unwrap_or_else(|| PathBuf::from("sites")),
            secrets: after.secrets.or(self.secrets),
            strict: self.strict || after.strict,
            shard: after.shard.or(self.shard),
            changed_since: after.changed_since.or(self.changed_since),
            connections: after.connections.or(self.connections).map(usize::from),
            verbose: self.verbose || after.verbose,
            parallel: usize::from(after.parallel.or(self.parallel).unwrap_or(DEFAULT_PARALLEL)),
            fail_fast: self.fail_fast || after.fail_fast,
            command,
            names: after.names,
        }
    }
}

impl CliCommand {
    /// What to do, and the shared options given after the command.
    fn split(self) -> (Command, AfterCommand) {
        match self {
            CliCommand::Validate { sites } => (
                Command::Validate,
                AfterCommand::new(sites, None, None, None),
            ),
            CliCommand::Render {
                out,
                sites,
                secrets,
            } => (
                Command::Render { out },
                AfterCommand::new(sites, Some(secrets), None, None),
            ),
            CliCommand::Plan(a) => (
                Command::Plan {
                    out: a.out,
                    detailed_exitcode: a.detailed_exitcode,
                    format: a.format,
                },
                AfterCommand::reconcile(a.reconcile),
            ),
            CliCommand::Apply(a) => a.split(),
            CliCommand::Drift { format, reconcile } => (
                Command::Drift { format },
                AfterCommand::reconcile(reconcile),
            ),
            CliCommand::Phones {
                format,
                silent_after,
                reconcile,
            } => (
                Command::Phones(PhonesOptions {
                    format,
                    silent_after,
                }),
                AfterCommand::reconcile(reconcile),
            ),
            CliCommand::Resync(a) => a.split(),
            CliCommand::Explain(a) => a.split(),
            CliCommand::Unlock {
                sites,
                secrets,
                connections,
            } => (
                Command::Unlock,
                AfterCommand::new(sites, Some(secrets), Some(connections), None),
            ),
            CliCommand::Schema { defaults } => {
                (Command::Schema { defaults }, AfterCommand::default())
            }
            CliCommand::Import(a) => a.split(),
            CliCommand::Dhcp { format, sites } => (
                Command::Dhcp { format },
                AfterCommand::new(sites, None, None, None),
            ),
            CliCommand::Checklist { format, sites } => (
                Command::Checklist { format },
                AfterCommand::new(sites, None, None, None),
            ),
            CliCommand::Doctor { sites, secrets } => (
                Command::Doctor,
                AfterCommand::new(sites, Some(secrets), None, None),
            ),
            CliCommand::Completions { shell } => {
                (Command::Completions { shell }, AfterCommand::default())
            }
            CliCommand::Man { out } => (Command::Man { out }, AfterCommand::default()),
        }
    }
}

impl ApplyArgs {
    fn split(self) -> (Command, AfterCommand) {
        let options = ApplyOptions {
            plan: self.plan,
            auto_approve: self.auto_approve,
            allow_mass_delete: self.allow_mass_delete,
            allow_mass_update: self.allow_mass_update,
            lock_timeout: self.lock_timeout,
            allow_incomplete: self.allow_incomplete,
            format: self.format,
            resync: self.resync,
        };
        (
            Command::Apply(options),
            AfterCommand::reconcile(self.reconcile),
        )
    }
}

impl ResyncArgs {
    fn split(self) -> (Command, AfterCommand) {
        let options = ResyncOptions {
            phones: self.phones,
            pending: self.pending,
        };
        let sites = self.sites.naming(self.site);
        let after = AfterCommand::new(sites, Some(self.secrets), Some(self.connections), None);
        (Command::Resync(options), after)
    }
}

impl ExplainArgs {
    fn split(self) -> (Command, AfterCommand) {
        let options = ExplainOptions {
            phone: self.phone,
            params: self.params,
            observed: self.observed,
            format: self.format,
        };
        let sites = self.sites.naming(self.site);
        let after = AfterCommand::new(sites, Some(self.secrets), Some(self.connections), None);
        (Command::Explain(options), after)
    }
}

impl ImportArgs {
    fn split(self) -> (Command, AfterCommand) {
        let source = match (self.csv, self.from) {
            (Some(file), _) => ImportSource::Csv {
                file,
                target: self.target.unwrap_or_default(),
                server: self.server.unwrap_or_default(),
                gmt_offset: self
                    .gmt_offset
                    .or(self.zone.map(|z| z.gmt_offset()))
                    .unwrap_or_default(),
            },
            (None, from) => ImportSource::Root {
                url: from.unwrap_or_default(),
            },
        };
        let options = ImportOptions {
            site: self.site,
            source,
            user: self.user,
            model: self.model,
            ca_file: self.ca_file,
            timeout_seconds: self.timeout_seconds,
            secrets_out: self.secrets_out,
        };
        let after = AfterCommand {
            sites: self.sites,
            connections: self.connections.connections,
            ..AfterCommand::default()
        };
        (Command::Import(options), after)
    }
}
