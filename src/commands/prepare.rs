//! What the commands that read a target share: render the site while its
//! target is opened, observe and plan, print, and say what happened.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};

use crate::cli::{Config, Format};
use crate::error::Error;
use crate::mask::Masker;
use crate::output::progress::Ticker;
use crate::output::{self, Report};
use crate::reconcile::boot;
use crate::reconcile::observe::{observe, Observed};
use crate::reconcile::plan::{override_names, SitePlan};
use crate::reconcile::published::HashKey;
use crate::remote::{Reader, RemoteError, RemoteName, Stats};
use crate::render::inputs::{sha256_hex, Inputs};
use crate::render::{render, Rendered};
use crate::site::model::Site;
use crate::site::secret::SecretStore;

/// What a site needs before its target is read: its files, its masker,
/// the hash of its site file.
pub(super) struct Local {
    pub(super) desired: Rendered,
    pub(super) masker: Masker,
    pub(super) site_sha: String,
}

/// Everything known about one site after observing its target.
pub(super) struct Prepared {
    pub(super) desired: Rendered,
    pub(super) observed: Observed,
    pub(super) plan: SitePlan,
    pub(super) masker: Masker,
}

/// A target's failure as the site's error. The message may quote the
/// server (which may echo anything, a password included): it passes the
/// site's masker and loses control characters.
pub(super) fn target_error(site: &Site, masker: &Masker, e: crate::remote::RemoteError) -> Error {
    Error::Remote {
        site: site.name.clone(),
        target: site.target.display.clone(),
        message: masker.clean(&e.message),
    }
}

/// A warning about a site, from its target: printed masked and printable.
pub(super) fn warn(site: &Site, masker: &Masker, text: &str) {
    eprintln!("warning: {}: {}", site.name, masker.clean(text));
}

/// The masker for a site: its extension passwords, its FTP password and
/// the hash key.
pub(super) fn masker(site: &Site, inputs: &Inputs, store: &SecretStore) -> Masker {
    let mut secrets = inputs.secret_values();
    if let Some(r) = &site.target.password {
        if let Ok(s) = store.resolve(r) {
            secrets.push(s.expose().to_owned());
        }
    }
    if let Ok(Some(key)) = store.hash_key() {
        secrets.push(key.expose().to_owned());
    }
    Masker::new(secrets)
}

/// Render the site while its target is opened (logging in takes round
/// trips, rendering takes CPU: both at once). The site's own errors come
/// first: they need no network to fix.
pub(super) fn render_and_open<T: Send>(
    site: &Site,
    store: &SecretStore,
    open: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<(Local, T), Error> {
    let (local, target) = std::thread::scope(|scope| {
        let opened = scope.spawn(open);
        let local = Inputs::gather(site, store)
            .map_err(Error::Many)
            .and_then(|inputs| {
                let site_sha = std::fs::read(&site.file)
                    .map(|b| sha256_hex(&b))
                    .map_err(|e| Error::Load(format!("error reading {}: {e}", site.file)))?;
                let desired = render(site, &inputs);
                let masker = masker(site, &inputs, store);
                Ok(Local {
                    desired,
                    masker,
                    site_sha,
                })
            });
        let target = opened
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (local, target)
    });
    Ok((local?, target?))
}

/// Observe the target and plan, publishing hashes under `key`.
pub(super) fn observe_and_plan(
    config: &Config,
    site: &Site,
    local: Local,
    target: &mut dyn Reader,
    key: Option<&HashKey>,
) -> Result<Prepared, Error> {
    let Local {
        desired,
        masker,
        site_sha,
    } = local;
    let wanted: BTreeMap<String, String> = desired
        .iter()
        .map(|(n, b)| (n.clone(), sha256_hex(b)))
        .collect();
    let ticker = Ticker::start(
        format!("{}: reading", site.name),
        wanted.len(),
        target.counter(),
    );
    let mut observed = observe(target, &site.name, &wanted, &override_names(site))
        .map_err(|e| target_error(site, &masker, e))?;
    drop(ticker);
    look_up_unlisted(site, &desired, &mut observed, target)
        .map_err(|e| target_error(site, &masker, e))?;
    let st = target.stats();
    if let Some(reply) = &st.listing_cut {
        warn(site, &masker, &format!(
            "{} cut its listing short ({reply}): every file the site declares or polyops wrote was still checked by name, but unmanaged files and phones' own files past the cut are not reported; raise the server's limit (pure-ftpd: -L)",
            site.target.display
        ));
    }
    for w in &observed.warnings {
        warn(site, &masker, w);
    }
    if config.verbose {
        eprintln!(
            "{}: observed {} files over {}: {} hashed by the server, {} downloaded{}",
            site.name,
            observed.hashes.len(),
            connections(&st),
            st.hashes,
            st.downloads,
            retried(&st.retries, &masker)
        );
    }
    let mut plan = SitePlan::build(site, &site_sha, &desired, &observed, &masker);
    plan.publish(key);
    Ok(Prepared {
        desired,
        observed,
        plan,
        masker,
    })
}

/// Ask by name for the files the phones need that the listing did not
/// show, and add those that exist to `observed.names`: a server may cut a
/// listing short (pure-ftpd stops at 10,000 names, over TLS without saying
/// so), and the boot check must not call a file missing that is there.
/// Nothing is asked when the listing shows them all.
fn look_up_unlisted(
    site: &Site,
    desired: &Rendered,
    observed: &mut Observed,
    target: &mut dyn Reader,
) -> Result<(), RemoteError> {
    // A name that cannot be a remote name cannot be on the target either.
    let unlisted: Vec<RemoteName> = boot::needed(site, desired)
        .into_keys()
        .filter(|n| !desired.contains_key(n) && !observed.names.contains(n))
        .filter_map(|n| RemoteName::new(&n).ok())
        .collect();
    if unlisted.is_empty() {
        return Ok(());
    }
    let found: Vec<String> = match target.hash_many(&unlisted)? {
        Some(hashes) => hashes
            .into_iter()
            .filter(|(_, sha)| sha.is_some())
            .map(|(n, _)| n.as_str().to_owned())
            .collect(),
        None => target
            .read_many(&unlisted)?
            .into_iter()
            .map(|(n, _)| n.as_str().to_owned())
            .collect(),
    };
    observed.names.extend(found);
    Ok(())
}

pub(super) fn print_report(
    report: &Report,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Error> {
    let color = format == Format::Text
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let result = match format {
        Format::Text => output::text::write(report, out, color),
        Format::Json => output::json::write(report, out),
        Format::Markdown => output::markdown::write(report, out),
    };
    result.map_err(|e| Error::Write {
        path: "standard output".into(),
        source: e,
    })
}

/// An error as one line, for the report of the site it stopped.
pub(super) fn one_line(e: &Error) -> String {
    e.to_string().lines().collect::<Vec<_>>().join("; ")
}

/// "N connection(s)", for `-v`.
pub(super) fn connections(st: &Stats) -> String {
    let n = st.connections.max(1);
    format!("{n} connection{}", if n > 1 { "s" } else { "" })
}

/// ", N retried after a passing failure" when any was, and then a line
/// per retry with its cause (the server's words, masked), for `-v`.
pub(super) fn retried(causes: &[String], masker: &Masker) -> String {
    let mut text = String::new();
    if !causes.is_empty() {
        text.push_str(&format!(
            ", {} retried after a passing failure",
            causes.len()
        ));
    }
    for cause in causes {
        text.push_str(&format!("\n  retried after: {}", masker.clean(cause)));
    }
    text
}
