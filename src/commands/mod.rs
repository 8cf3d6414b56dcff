//! Command dispatch, and the offline commands: `validate`, `render`, `schema`;
//! the online ones (`plan`, `drift`, `apply`, `unlock`) are in `online`.

pub mod online;

use std::io::Write;
use std::path::Path;

use crate::cli::{Command, Config};
use crate::error::Error;
use crate::output::Mode;
use crate::render::inputs::Inputs;
use crate::render::render;
use crate::site::diagnostic::Diagnostic;
use crate::site::load::{self, Catalog};
use crate::site::schema::site_schema_json;
use crate::site::secret::{OpenError, SecretStore};

/// Dispatch a command; `Ok` is the exit code (0, or 2 for pending changes).
pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    match &config.command {
        Command::Schema => {
            write_out(out, site_schema_json().as_bytes())?;
            Ok(0)
        }
        Command::Validate => {
            let catalog = checked_sites(config)?;
            for site in catalog.selected() {
                let line = format!(
                    "{}: ok: site {}, {} extensions, {} phones\n",
                    site.file,
                    site.name,
                    site.extensions.len(),
                    site.phones.len()
                );
                write_out(out, line.as_bytes())?;
            }
            Ok(0)
        }
        Command::Plan {
            out: save,
            detailed_exitcode,
            format,
        } => online::plan(
            config,
            Mode::Plan,
            *format,
            save.as_deref(),
            *detailed_exitcode,
            out,
        ),
        Command::Drift { format } => online::plan(config, Mode::Drift, *format, None, false, out),
        Command::Apply(opts) => online::apply(config, opts, out),
        Command::Unlock => online::unlock(config, out),
        Command::Render { out: dir } => {
            let catalog = checked_sites(config)?;
            let store = secret_store(config)?;
            let mut errors = Vec::new();
            let mut done = Vec::new();
            for site in catalog.selected() {
                match Inputs::gather(site, &store) {
                    Ok(inputs) => done.push((site, inputs)),
                    Err(e) => errors.extend(e),
                }
            }
            if !errors.is_empty() {
                return Err(Error::Many(errors));
            }
            for (site, inputs) in done {
                let files = render(site, &inputs);
                write_rendered(&dir.join(&site.name), &files)?;
                let line = format!(
                    "{}: wrote {} files to {}\n",
                    site.name,
                    files.len(),
                    dir.join(&site.name).display()
                );
                write_out(out, line.as_bytes())?;
            }
            Ok(0)
        }
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

/// Write a site's files into `dir`, creating it.
fn write_rendered(dir: &Path, files: &crate::render::Rendered) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Write {
        path: dir.to_owned(),
        source: e,
    })?;
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::Write { path, source: e })?;
    }
    Ok(())
}
