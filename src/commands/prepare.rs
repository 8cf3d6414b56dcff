//! What `plan`, `drift`, `apply` and `explain` do before they differ:
//! render a site while its target is opened, then observe the target and
//! plan.

use std::collections::BTreeMap;

use super::print::{connections, remote_error, retried, warn};
use crate::cli::Config;
use crate::error::Error;
use crate::mask::Masker;
use crate::output::progress::Ticker;
use crate::reconcile::boot;
use crate::reconcile::observe::{look_up_unlisted, observe, Observed};
use crate::reconcile::plan::{override_names, Plan};
use crate::reconcile::published::HashKey;
use crate::remote::Reader;
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
    pub(super) plan: Plan,
    pub(super) masker: Masker,
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
                let site_sha =
                    std::fs::read(&site.file)
                        .map(|b| sha256_hex(&b))
                        .map_err(|source| Error::Read {
                            path: site.file.clone().into(),
                            source,
                        })?;
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

/// Observe the target and plan, publishing hashes under `key`. The files
/// the phones need that the listing did not show are asked for by name
/// (the boot check must not call a file missing that is there).
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
        .map_err(|e| remote_error(site, &masker, e))?;
    drop(ticker);
    let needed = boot::needed(site, &desired)
        .into_keys()
        .filter(|n| !desired.contains_key(n));
    look_up_unlisted(target, &mut observed, needed).map_err(|e| remote_error(site, &masker, e))?;
    tell_observed(config, site, &masker, &observed, &*target);
    let mut plan = Plan::build(site, &site_sha, &desired, &observed, &masker);
    plan.publish_under(key.cloned());
    Ok(Prepared {
        desired,
        observed,
        plan,
        masker,
    })
}

/// What observing found that a person should hear: a listing cut short,
/// the observation's warnings, and under `-v` what it cost.
fn tell_observed(
    config: &Config,
    site: &Site,
    masker: &Masker,
    observed: &Observed,
    target: &dyn Reader,
) {
    let st = target.stats();
    if let Some(reply) = &st.listing_cut {
        warn(site, masker, &format!(
            "{} cut its listing short ({reply}): every file the site declares or polyops wrote was still checked by name, but unmanaged files and phones' own files past the cut are not reported; raise the server's limit (pure-ftpd: -L)",
            site.target.display
        ));
    }
    for w in &observed.warnings {
        warn(site, masker, w);
    }
    if config.verbose {
        eprintln!(
            "{}: observed {} files over {}: {} hashed by the server, {} downloaded{}",
            site.name,
            observed.hashed(),
            connections(&st),
            st.hashes,
            st.downloads,
            retried(&st.retries, masker)
        );
    }
}
