//! Command-line parsing, kept apart from the core: clap types here, turned
//! into a plain `Config` the rest of the code uses.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "polyops",
    version,
    about = "GitOps for Polycom IP phones on AltiGen MaxCS: validate, render, plan, apply, drift"
)]
struct Cli {
    /// Folder of site files.
    #[arg(long, global = true, default_value = "sites", value_name = "DIR")]
    sites: PathBuf,
    /// YAML mapping of secret keys for {secret: KEY} references.
    #[arg(long, global = true, env = "POLYOPS_SECRETS_FILE", value_name = "FILE")]
    secrets: Option<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long, global = true)]
    strict: bool,
    /// Parallel FTP connections per target (default: 4 when the server
    /// hashes files itself, else 2).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=32))]
    connections: Option<u16>,
    /// Also print how each target was read (connections, hashes, downloads).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Check site files against the schema and rules; touches no network.
    Validate {
        /// Site names or site file paths; none means every site.
        #[arg(value_name = "SITE")]
        names: Vec<String>,
    },
    /// Write each site's files to DIR/<site>/.
    Render {
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(value_name = "SITE")]
        names: Vec<String>,
    },
    /// Read each site's target and print what apply would do.
    Plan {
        /// Also save the plan (hashes only, no secrets) for `apply --plan`.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Exit 2 when there are changes, 0 when there are none.
        #[arg(long)]
        detailed_exitcode: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(value_name = "SITE")]
        names: Vec<String>,
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
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(value_name = "SITE")]
        names: Vec<String>,
    },
    /// Read-only: report what on each target differs from its site (exit 2).
    Drift {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(value_name = "SITE")]
        names: Vec<String>,
    },
    /// Remove an apply lock left on a target by a killed run.
    Unlock {
        #[arg(value_name = "SITE")]
        names: Vec<String>,
    },
    /// Print the JSON Schema of a site file.
    Schema,
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
    let (command, names) = match cli.command {
        CliCommand::Validate { names } => (Command::Validate, names),
        CliCommand::Render { out, names } => (Command::Render { out }, names),
        CliCommand::Plan {
            out,
            detailed_exitcode,
            format,
            names,
        } => (
            Command::Plan {
                out,
                detailed_exitcode,
                format,
            },
            names,
        ),
        CliCommand::Apply {
            plan,
            auto_approve,
            allow_mass_delete,
            format,
            names,
        } => (
            Command::Apply(ApplyOptions {
                plan,
                auto_approve,
                allow_mass_delete,
                format,
            }),
            names,
        ),
        CliCommand::Drift { format, names } => (Command::Drift { format }, names),
        CliCommand::Unlock { names } => (Command::Unlock, names),
        CliCommand::Schema => (Command::Schema, Vec::new()),
    };
    Ok(Config {
        sites_dir: cli.sites,
        secrets: cli.secrets,
        strict: cli.strict,
        connections: cli.connections.map(usize::from),
        verbose: cli.verbose,
        command,
        names,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
