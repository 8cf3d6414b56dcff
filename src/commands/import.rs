//! `import SITE --from URL` / `import SITE --csv FILE …`: write a new site
//! file and its secrets file from what exists, and say what changed. The
//! target is opened read-only; neither file is ever overwritten. The
//! report goes to standard output (it is what the command makes, to read
//! or keep beside the merge request); warnings and errors to standard
//! error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::Duration;

use super::write_out;
use crate::cli::{Config, ImportOptions, ImportSource};
use crate::error::{Account, Error, Hint, ImportError, Stop};
use crate::import::notes::count;
use crate::import::{csv, root, verify, yaml, DraftTarget, Field, Imported, NoteKind};
use crate::mask::Masker;
use crate::site::model::{Target, TargetUrl};
use crate::site::rules::{is_host, DEFAULT_TIMEOUT};
use crate::site::secret::Secret;

/// Where `--from` reads the FTP password.
const PASSWORD_ENV: &str = "POLYOPS_FTP_PASSWORD";
const FACTORY_USER: &str = "PlcmSpIp";

pub fn run(config: &Config, opts: &ImportOptions, out: &mut dyn Write) -> Result<i32, Error> {
    let site = &opts.site;
    let valid_name = site
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && site
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid_name {
        return Err(ImportError::SiteName {
            name: crate::printable::printable(site),
        }
        .into());
    }
    let site_path = config.sites_dir.join(format!("{site}.yaml"));
    let secrets_path = opts
        .secrets_out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{site}.secrets.yaml")));
    for path in [&site_path, &secrets_path] {
        if path.symlink_metadata().is_ok() {
            return Err(ImportError::Exists { path: path.clone() }.into());
        }
    }

    let env_password = std::env::var(PASSWORD_ENV).ok();
    let password = Secret::new(
        env_password
            .clone()
            .unwrap_or_else(|| FACTORY_USER.to_owned()),
    );
    let target = |url: &str| DraftTarget {
        url: url.to_owned(),
        user: opts.user.clone().filter(|u| u != FACTORY_USER),
        password_env: env_password.is_some(),
        ca_file: opts.ca_file.as_ref().map(|p| p.display().to_string()),
        timeout_seconds: opts.timeout_seconds,
    };
    let (mut imported, source) = match &opts.source {
        ImportSource::Root { url } => {
            let imported = read_root(config, opts, url, target(url), &password)?;
            (imported, url.clone())
        }
        ImportSource::Csv {
            file,
            target: url,
            server,
            gmt_offset,
        } => {
            let imported = read_csv(opts, file, target(url), server, *gmt_offset)?;
            (imported, file.display().to_string())
        }
    };
    if imported.originals.is_empty() {
        verify::rendered(&mut imported);
    } else {
        verify::verify(&mut imported);
    }

    let mut secrets = imported.secrets.exposed();
    secrets.push(password.expose().to_owned());
    let masker = Masker::new(secrets);
    write_new(
        &secrets_path,
        &yaml::secrets_yaml(site, &imported.secrets),
        true,
    )?;
    if let Some(dir) = site_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            let _ = std::fs::remove_file(&secrets_path);
            return Err(Error::Write {
                path: dir.to_owned(),
                source: e,
            });
        }
    }
    if let Err(e) = write_new(&site_path, &yaml::site_yaml(&imported.draft, false), false) {
        let _ = std::fs::remove_file(&secrets_path);
        return Err(e);
    }
    warn_if_tracked(&secrets_path);

    imported.notes.lines.sort_by(|a, b| a.file.cmp(&b.file));
    let mut text = Vec::new();
    imported
        .notes
        .write(&masker, &mut text)
        .map_err(|e| Error::Write {
            path: "standard output".into(),
            source: e,
        })?;
    text.extend(summary(&imported, &masker, &source, &site_path, &secrets_path).into_bytes());
    write_out(out, &text)?;
    Ok(0)
}

/// Read a provisioning root through a read-only handle.
fn read_root(
    config: &Config,
    opts: &ImportOptions,
    url: &str,
    draft_target: DraftTarget,
    password: &Secret,
) -> Result<Imported, Error> {
    let parsed = TargetUrl::parse(url).map_err(|why| ImportError::Url {
        option: "--from",
        url: url.to_owned(),
        why,
    })?;
    if let TargetUrl::Dir(path) = &parsed {
        if !path.is_dir() {
            return Err(ImportError::NotAFolder {
                url: url.to_owned(),
                path: path.clone(),
            }
            .into());
        }
    }
    let target = Target {
        url: parsed,
        display: url.to_owned(),
        user: opts.user.clone().unwrap_or_else(|| FACTORY_USER.to_owned()),
        password: None,
        ca_file: opts.ca_file.clone(),
        timeout: opts
            .timeout_seconds
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
    };
    // A server may echo anything, the password included: its words pass
    // the masker before they are printed. The factory default is no
    // secret (it is also the user's name, which the message shows).
    let env_set = std::env::var(PASSWORD_ENV).is_ok();
    let masker = Masker::new(env_set.then(|| password.expose().to_owned()));
    let account = Account::of_import(&target, opts.user.is_some(), PASSWORD_ENV, env_set);
    let failed = |e: crate::remote::RemoteError| {
        let message = masker.clean(&e.message);
        Error::Remote {
            site: opts.site.clone(),
            target: url.to_owned(),
            hint: Stop::of(&message).map(|stop| {
                Box::new(Hint {
                    stop,
                    account: account.clone(),
                    doctor: None,
                })
            }),
            message,
        }
    };
    let mut reader =
        crate::remote::open_reader_at(&target, password, config.connections).map_err(failed)?;
    root::import(
        &mut *reader,
        &root::Options {
            site: opts.site.clone(),
            target: draft_target,
            model: opts.model,
        },
    )
    .map_err(failed)
}

/// Read an inventory; every bad row is printed, and nothing is written.
fn read_csv(
    opts: &ImportOptions,
    file: &Path,
    target: DraftTarget,
    server: &str,
    gmt_offset: i32,
) -> Result<Imported, Error> {
    TargetUrl::parse(&target.url).map_err(|why| ImportError::Url {
        option: "--target",
        url: target.url.clone(),
        why,
    })?;
    if !is_host(server) {
        return Err(ImportError::Server(server.to_owned()).into());
    }
    if gmt_offset % 900 != 0 || !(-43200..=50400).contains(&gmt_offset) {
        return Err(ImportError::GmtOffset(gmt_offset).into());
    }
    let shown = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|source| ImportError::Read {
        file: shown.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let text = String::from_utf8_lossy(valid);
        let line = text.matches('\n').count() + 1;
        let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ImportError::NotUtf8 {
            file: shown.clone(),
            line,
            column: col,
        }
    })?;
    let options = csv::Options {
        site: opts.site.clone(),
        target,
        address: server.to_owned(),
        gmt_offset,
        model: opts.model,
    };
    csv::import(&shown, &text, &options).map_err(|diags| {
        for d in &diags {
            eprintln!("{d}");
        }
        Error::from(ImportError::Rows {
            errors: diags.len(),
            file: shown.clone(),
        })
    })
}

/// Write a file that must not exist yet (`private`: readable by its owner
/// only, as a secrets file must be).
fn write_new(path: &Path, text: &str, private: bool) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let failed = |e: std::io::Error| Error::Write {
        path: path.to_owned(),
        source: e,
    };
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// A secrets file in a git work tree that git does not ignore is one
/// `git add .` away from the repository: say so.
fn warn_if_tracked(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name() else {
        return;
    };
    let inside = Process::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["rev-parse", "--is-inside-work-tree"])
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"));
    if !inside {
        return;
    }
    let ignored = Process::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["check-ignore", "-q", "--"])
        .arg(name)
        .status();
    if ignored.is_ok_and(|s| s.code() == Some(1)) {
        eprintln!(
            "warning: {} is in a git work tree and git does not ignore it: add it to .gitignore (e.g. *.secrets.yaml) so that no password is ever committed",
            path.display()
        );
    }
}

/// The closing lines: counts, files written, what is left to do.
fn summary(
    imported: &Imported,
    masker: &Masker,
    source: &str,
    site_path: &Path,
    secrets_path: &Path,
) -> String {
    let d = &imported.draft;
    let r = &imported.notes;
    let mut text = format!(
        "imported site {} from {}: {}, {}, {} kept in params, {} not understood; {}\n",
        d.site,
        masker.clean(source),
        count(d.phones.len(), "phone"),
        count(d.extensions.len(), "extension"),
        count(d.param_count(), "parameter"),
        count(r.not_understood.len(), "file"),
        count(r.lines.len(), "report line"),
    );
    text.push_str(&format!(
        "wrote {} and {} (mode 0600, {})\n",
        site_path.display(),
        secrets_path.display(),
        count(imported.secrets.values.len(), "secret")
    ));
    let mut todo = Vec::new();
    let models = d
        .phones
        .iter()
        .filter(|p| matches!(p.model, Field::FillIn(_)))
        .count();
    if models > 0 {
        todo.push(format!("{} (FILL-IN)", count(models, "phone model")));
    }
    if matches!(d.gmt_offset, Field::FillIn(_)) {
        todo.push("time.zone (FILL-IN)".to_owned());
    }
    if matches!(d.address, Field::FillIn(_)) {
        todo.push("server.address (FILL IN)".to_owned());
    }
    if !imported.secrets.missing.is_empty() {
        todo.push(format!(
            "{} in {}: {}",
            count(imported.secrets.missing.len(), "secret"),
            secrets_path.display(),
            imported.secrets.missing.join(", ")
        ));
    }
    if !todo.is_empty() {
        text.push_str(&format!("still to fill in: {}\n", todo.join("; ")));
    }
    let unvalidated = r.lines.iter().any(|l| {
        l.kind == NoteKind::Note && l.text.starts_with("the imported site does not validate")
    });
    if unvalidated {
        text.push_str("the site file does not validate yet: see the lines above\n");
    }
    text.push_str(&format!(
        "next: review {}, then `polyops --secrets {} plan {}`\n",
        site_path.display(),
        secrets_path.display(),
        d.site
    ));
    text
}
