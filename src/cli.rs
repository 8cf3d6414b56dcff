//! Command-line parsing, kept apart from the core: clap types here, turned
//! into a plain `Config` the rest of the code uses.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The options several commands share may come before the command
/// (`polyops --sites DIR plan`) or after it (`polyops plan --sites DIR`).
/// Before it they are accepted for every command and used where they mean
/// something; after it only a command that uses one takes it, so each
/// command's `--help` lists exactly its own.
#[derive(Debug, Parser)]
#[command(
    name = "polyops",
    version,
    about = "GitOps for Polycom IP phones on AltiGen MaxCS: validate, render, plan, apply, drift",
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
    /// Parallel FTP connections per target (default: 2 to download, 4 to
    /// hash or upload; 16 where a round trip takes 2 ms or more).
    #[arg(long, value_name = "N", value_parser = connections_range())]
    connections: Option<u16>,
    /// Also print how each target was read and written (connections,
    /// hashes, downloads, uploads, retries).
    #[arg(long, short)]
    verbose: bool,
    #[command(subcommand)]
    command: CliCommand,
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
    /// Site names or site file paths; none means every site under --sites.
    #[arg(value_name = "SITE", help_heading = "Arguments")]
    names: Vec<String>,
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
        /// Allow deleting more than 30% of the managed files.
        #[arg(long)]
        allow_mass_delete: bool,
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
    Schema,
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
    names: Vec<String>,
    secrets: Option<PathBuf>,
    connections: Option<u16>,
    verbose: bool,
}

impl Shared {
    fn online(o: OnlineOptions) -> Self {
        Self::new(
            o.sites,
            Some(o.secrets),
            Some(o.connections),
            Some(o.verbose),
        )
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
            names: sites.names,
            secrets: secrets.and_then(|s| s.secrets),
            connections: connections.and_then(|c| c.connections),
            verbose: verbose.is_some_and(|v| v.verbose),
        }
    }
}

/// What to do, in plain types.
#[derive(Debug, Clone)]
pub struct Config {
    pub sites_dir: PathBuf,
    pub secrets: Option<PathBuf>,
    pub strict: bool,
    pub connections: Option<usize>,
    pub verbose: bool,
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
    Unlock,
    Schema,
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

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub plan: Option<PathBuf>,
    pub auto_approve: bool,
    pub allow_mass_delete: bool,
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
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
            format,
            online,
        } => (
            Command::Apply(ApplyOptions {
                plan,
                auto_approve,
                allow_mass_delete,
                format,
            }),
            Shared::online(online),
        ),
        CliCommand::Drift { format, online } => (Command::Drift { format }, Shared::online(online)),
        CliCommand::Unlock {
            sites,
            secrets,
            connections,
        } => (
            Command::Unlock,
            Shared::new(sites, Some(secrets), Some(connections), None),
        ),
        CliCommand::Schema => (Command::Schema, Shared::default()),
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
        connections: shared.connections.or(cli.connections).map(usize::from),
        verbose: cli.verbose || shared.verbose,
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
        assert_eq!(listed_options(&["polyops", "schema", "--help"]), ["--help"]);
        assert_eq!(
            listed_options(&["polyops", "validate", "--help"]),
            ["--help", "--sites", "--strict"]
        );
        assert_eq!(
            listed_options(&["polyops", "render", "--help"]),
            ["--help", "--out", "--secrets", "--sites", "--strict"]
        );
        assert_eq!(
            listed_options(&["polyops", "unlock", "--help"]),
            [
                "--connections",
                "--help",
                "--secrets",
                "--sites",
                "--strict"
            ]
        );
        for (command, own) in [
            ("plan", &["--detailed-exitcode", "--format", "--out"][..]),
            (
                "apply",
                &[
                    "--allow-mass-delete",
                    "--auto-approve",
                    "--format",
                    "--plan",
                ][..],
            ),
            ("drift", &["--format"][..]),
        ] {
            let mut expected: Vec<&str> = [
                "--connections",
                "--help",
                "--secrets",
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
    fn an_option_after_a_command_that_does_not_take_it_is_an_error() {
        let (e, benign) =
            parse(["polyops", "schema", "--sites", "d"]).expect_err("schema takes no --sites");
        assert!(!benign && e.contains("--sites"), "{e}");
        let (e, _) =
            parse(["polyops", "validate", "--connections", "2"]).expect_err("no --connections");
        assert!(e.contains("--connections"), "{e}");
    }
}
