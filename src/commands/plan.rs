//! `plan` (and `drift`, the same read-only run): observe each site's
//! target, print what apply would do, save it for `apply --plan`.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::fleet::NOT_STARTED;
use super::online::{observe_and_plan, one_line, print_report, render_and_open, warn};
use super::{checked_sites, fleet, hash_key, secret_store};
use crate::cli::{Config, Format};
use crate::error::Error;
use crate::output::{Mode, Report};
use crate::reconcile::plan::SitePlan;
use crate::reconcile::published::HashKey;
use crate::remote;
use crate::site::model::Site;
use crate::site::secret::SecretStore;

/// Plan one site, read-only. A plan warns when the phones would miss a
/// file after apply (drift reports it as drift instead).
fn plan_site(
    config: &Config,
    mode: Mode,
    site: &Site,
    store: &SecretStore,
    key: Option<&HashKey>,
) -> Result<SitePlan, Error> {
    let (local, mut target) = render_and_open(site, store, || {
        remote::open_reader(site, store, config.connections)
    })?;
    let p = observe_and_plan(config, site, local, target.as_mut(), key)?;
    if mode == Mode::Plan && !p.plan.boot.is_complete() {
        warn(
            site,
            &p.masker,
            &format!(
                "the phones will not find {} on the target after apply (the plan lists the phones); apply refuses it without --allow-incomplete",
                p.plan.boot.files()
            ),
        );
    }
    Ok(p.plan)
}

/// `plan` and `drift`: read-only; print; 2 when something is pending.
pub fn run(
    config: &Config,
    mode: Mode,
    format: Format,
    save: Option<&Path>,
    detailed: bool,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    let key = hash_key(&store)?;
    if let (Some(path), None) = (save, &key) {
        // Without a key the hashes of files that carry a secret are left
        // out, and a plan without them cannot be checked for staleness.
        // An older file of that name would be taken for this plan.
        let _ = std::fs::remove_file(path);
        return Err(Error::NoHashKey {
            context: format!(
                "no plan file written to {}: a plan file needs a hash key for the hashes of files that hold a secret",
                path.display()
            ),
        });
    }
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    let sites: Vec<&Site> = catalog.selected().collect();
    let outcomes = fleet(config).run(
        mode.word(),
        &sites,
        &AtomicBool::new(false),
        |site| plan_site(config, mode, site, &store, key.as_ref()),
        Result::is_err,
        |_, _| {},
    );
    for (site, outcome) in sites.iter().zip(outcomes) {
        match outcome {
            Some(Ok(p)) => plans.push(p),
            Some(Err(e)) => {
                plans.push(SitePlan::failed(site, one_line(&e)));
                errors.push(e);
            }
            None => plans.push(SitePlan::failed(site, NOT_STARTED.to_owned())),
        }
    }
    let report = Report::new(mode, plans);
    print_report(&report, format, out)?;
    if !errors.is_empty() {
        // A plan file holds every selected site or does not exist: one
        // without the failed sites would apply the rest unchecked.
        if let Some(path) = save {
            let _ = std::fs::remove_file(path);
            errors.push(Error::Usage(format!(
                "no plan file written to {}: {} site{} could not be planned",
                path.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            )));
        }
        return Err(Error::Many(errors));
    }
    if let Some(path) = save {
        write_plan_file(path, &report)?;
    }
    let pending = match mode {
        Mode::Drift => report.sites.iter().any(SitePlan::has_drift),
        _ => detailed && report.sites.iter().any(SitePlan::has_changes),
    };
    Ok(if pending { 2 } else { 0 })
}

/// A plan file: the report without diffs, of lines or of parameters
/// (hashes only, no secrets; not even masked contents, which apply does
/// not need). `formatting_only` stays: it says nothing of the contents.
fn write_plan_file(path: &Path, report: &Report) -> Result<(), Error> {
    let mut saved = report.clone();
    for site in &mut saved.sites {
        for f in &mut site.files {
            f.diff = None;
            f.params = None;
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&saved).expect("a report always serialises");
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(|e| Error::Write {
        path: path.to_owned(),
        source: e,
    })
}
