//! `plan` (and `drift`, the same read-only run): observe each site's
//! target, print what apply would do, save it for `apply --plan`.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::prepare::{observe_and_plan, render_and_open};
use super::print::{print_outcomes, warn};
use super::{checked_sites, fleet, hash_key, secret_store};
use crate::cli::{Config, Format};
use crate::error::Error;
use crate::output::Mode;
use crate::reconcile::outcome::{Outcome, SiteOutcome, Why};
use crate::reconcile::plan::{Plan, SiteId};
use crate::reconcile::planfile::PlanFile;
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
) -> Result<Plan, Error> {
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
    let sites: Vec<&Site> = catalog.selected().collect();
    let ran = fleet(config).run(
        mode.word(),
        &sites,
        &AtomicBool::new(false),
        |site| plan_site(config, mode, site, &store, key.as_ref()),
        Result::is_err,
        |_, _| {},
    );
    let outcomes: Vec<SiteOutcome> = sites
        .iter()
        .zip(ran)
        .map(|(site, ran)| match ran {
            Some(Ok(plan)) => SiteOutcome::done(plan),
            Some(Err(e)) => SiteOutcome::new(SiteId::of(site), Outcome::Failed(e)),
            None => SiteOutcome::new(SiteId::of(site), Outcome::NotStarted(Why::FailFast)),
        })
        .collect();
    print_outcomes(mode, &outcomes, format, out)?;
    let plans: Vec<&Plan> = outcomes.iter().filter_map(SiteOutcome::plan).collect();
    let pending = match mode {
        Mode::Drift => plans.iter().any(|p| p.has_drift()),
        _ => detailed && plans.iter().any(|p| p.has_changes()),
    };
    if plans.len() < outcomes.len() {
        return Err(failed(outcomes, save));
    }
    if let Some(path) = save {
        PlanFile::of(plans).write(path)?;
    }
    Ok(if pending { 2 } else { 0 })
}

/// The error of a run in which sites failed. A plan file holds every
/// selected site or does not exist: one without the failed sites would
/// apply the rest unchecked.
fn failed(outcomes: Vec<SiteOutcome>, save: Option<&Path>) -> Error {
    let mut errors: Vec<Error> = outcomes
        .into_iter()
        .filter_map(SiteOutcome::into_error)
        .collect();
    if let Some(path) = save {
        let _ = std::fs::remove_file(path);
        errors.push(Error::NoPlanFile {
            path: path.to_owned(),
            failed: errors.len(),
        });
    }
    Error::Many(errors)
}
