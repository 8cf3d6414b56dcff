//! The commands, one file each, and what they share: loading the sites the
//! command names, the secret store, writing to standard output. `prepare`
//! renders a site and observes and plans its target for the commands that
//! read one; `print` says what they print besides their output.

mod apply;
mod checklist;
mod completions;
mod dhcp;
mod doctor;
mod drift;
mod examples;
mod explain;
mod fleet;
mod import;
mod man;
mod phones;
mod plan;
mod prepare;
mod print;
mod render;
mod resync;
mod schema;
mod unlock;
mod validate;

use std::io::Write;

use crate::cli::{Command, Config};
use crate::error::Error;
use crate::output::Mode;
use crate::reconcile::published::HashKey;
use crate::site::diagnostic::Diagnostic;
use crate::site::load::{self, Catalog};
use crate::site::secret::{OpenError, SecretStore};

/// Dispatch a command; `Ok` is the exit code (0, or 2 for pending changes).
pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    match &config.command {
        Command::Schema { defaults } => schema::run(*defaults, out),
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
        Command::Phones(opts) => phones::run(config, opts, out),
        Command::Resync(opts) => resync::run(config, opts, out),
        Command::Apply(opts) => apply::run(config, opts, out),
        Command::Explain(opts) => explain::run(config, opts, out),
        Command::Unlock => unlock::run(config, out),
        Command::Import(opts) => import::run(config, opts, out),
        Command::Dhcp { format } => dhcp::run(config, *format, out),
        Command::Checklist { format } => checklist::run(config, *format, out),
        Command::Doctor => doctor::run(config, out),
        Command::Completions { shell } => completions::run(*shell, out),
        Command::Man { out: dir } => man::run(dir.as_deref(), out),
        Command::CompleteSites { words } => completions::sites(words, out),
    }
}

/// How this run takes its sites: `--parallel`, `--fail-fast`.
fn fleet(config: &Config) -> fleet::Fleet {
    fleet::Fleet {
        parallel: config.parallel,
        fail_fast: config.fail_fast,
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
        OpenError::Read(e) => Error::Secrets(e),
        OpenError::Invalid(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            Error::InvalidSecrets { count: diags.len() }
        }
    })
}

/// The key of the published HMACs, if one is set; a key that is there but
/// unfit (too short to resist guessing) is an error, not a missing key.
pub fn hash_key(store: &SecretStore) -> Result<Option<HashKey>, Error> {
    store
        .hash_key()
        .map(|key| key.map(HashKey::new))
        .map_err(Error::Secrets)
}

/// Load and check the sites a command names; print every diagnostic to
/// stderr; fail if any is an error (warnings too under `--strict`).
pub fn checked_sites(config: &Config) -> Result<Catalog, Error> {
    let selection = load::Selection {
        changed: match &config.changed_since {
            Some(reference) => Some(changed_since(reference)?),
            None => None,
        },
        shard: config.shard,
    };
    let mut catalog = load::load_selected(&config.sites_dir, &config.names, &selection)?;
    let mut diags: Vec<Diagnostic> = std::mem::take(&mut catalog.diagnostics)
        .into_iter()
        .map(|d| if config.strict { d.into_error() } else { d })
        .collect();
    diags.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
    // A finding in `_defaults.yaml` is found once per site that uses it.
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert(d.to_string()));
    for d in &diags {
        eprintln!("{d}");
    }
    let count = diags.iter().filter(|d| d.is_error()).count();
    if count > 0 {
        return Err(Error::Invalid { count });
    }
    Ok(catalog)
}

/// Every file that differs between the git reference and the work tree,
/// untracked files included, as `load::comparable` paths.
fn changed_since(reference: &str) -> Result<std::collections::BTreeSet<std::path::PathBuf>, Error> {
    let git = |args: &[&str]| -> Result<Vec<u8>, Error> {
        let out = std::process::Command::new("git")
            .args(args)
            .output()
            .map_err(|source| Error::NoGit { source })?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr);
            let why = why.lines().next().unwrap_or("failed").trim();
            return Err(Error::ChangedSince {
                reference: reference.to_owned(),
                reason: why.to_owned(),
            });
        }
        Ok(out.stdout)
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let top = std::path::PathBuf::from(String::from_utf8_lossy(&top).trim_end());
    let top_arg = top.to_string_lossy().into_owned();
    // `--end-of-options` keeps a reference starting with `-` from being
    // read as an option.
    let diff = git(&[
        "-C",
        &top_arg,
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        "--end-of-options",
        reference,
        "--",
    ])?;
    let untracked = git(&[
        "-C",
        &top_arg,
        "ls-files",
        "--others",
        "--exclude-standard",
        "-z",
        "--full-name",
    ])?;
    Ok(diff
        .split(|b| *b == 0)
        .chain(untracked.split(|b| *b == 0))
        .filter(|p| !p.is_empty())
        .map(|p| load::comparable(&top.join(String::from_utf8_lossy(p).as_ref())))
        .collect())
}
