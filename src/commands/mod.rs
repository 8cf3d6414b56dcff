//! The commands, one file each, and what they share: loading the sites the
//! command names, the secret store, writing to standard output. `online`
//! holds what the commands that read a target share.

mod apply;
mod checklist;
mod completions;
mod dhcp;
mod doctor;
mod drift;
mod man;
mod online;
mod plan;
mod render;
mod schema;
mod unlock;
mod validate;

use std::io::Write;

use crate::cli::{Command, Config};
use crate::error::Error;
use crate::output::Mode;
use crate::site::diagnostic::Diagnostic;
use crate::site::load::{self, Catalog};
use crate::site::secret::{OpenError, SecretStore};

/// Dispatch a command; `Ok` is the exit code (0, or 2 for pending changes).
pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    match &config.command {
        Command::Schema => schema::run(out),
        Command::Validate => validate::run(config, out),
        Command::Render { out: dir } => render::run(config, dir, out),
        Command::Plan {
            out: save,
            detailed_exitcode,
            format,
        } => plan::run(
            config,
            Mode::Plan,
            *format,
            save.as_deref(),
            *detailed_exitcode,
            out,
        ),
        Command::Drift { format } => drift::run(config, *format, out),
        Command::Apply(opts) => apply::run(config, opts, out),
        Command::Unlock => unlock::run(config, out),
        Command::Dhcp { format } => dhcp::run(config, *format, out),
        Command::Checklist { format } => checklist::run(config, *format, out),
        Command::Doctor => doctor::run(config, out),
        Command::Completions { shell } => completions::run(*shell, out),
        Command::Man { out: dir } => man::run(dir.as_deref(), out),
    }
}

/// Write to standard output (the plan, a report).
pub fn write_out(out: &mut dyn Write, bytes: &[u8]) -> Result<(), Error> {
    out.write_all(bytes).map_err(|e| Error::Write {
        path: "standard output".into(),
        source: e,
    })
}

/// Open the secrets file, if one is named; its findings are printed to
/// stderr like a site file's.
pub fn secret_store(config: &Config) -> Result<SecretStore, Error> {
    SecretStore::open(config.secrets.as_deref()).map_err(|e| match e {
        OpenError::Read(message) => Error::Load(message),
        OpenError::Invalid(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            Error::InvalidSecrets { count: diags.len() }
        }
    })
}

/// Load and check the sites a command names; print every diagnostic to
/// stderr; fail if any is an error (warnings too under `--strict`).
pub fn checked_sites(config: &Config) -> Result<Catalog, Error> {
    let mut catalog = load::load(&config.sites_dir, &config.names).map_err(Error::Load)?;
    let mut diags: Vec<Diagnostic> = std::mem::take(&mut catalog.diagnostics)
        .into_iter()
        .map(|d| if config.strict { d.into_error() } else { d })
        .collect();
    diags.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
    for d in &diags {
        eprintln!("{d}");
    }
    let count = diags.iter().filter(|d| d.is_error()).count();
    if count > 0 {
        return Err(Error::Invalid { count });
    }
    Ok(catalog)
}
