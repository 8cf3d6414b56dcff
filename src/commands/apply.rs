//! `apply`: plan (or load a saved plan), then carry it out under the
//! target's lock.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::fleet::NOT_STARTED;
use super::online::{
    connections, observe_and_plan, one_line, print_report, render_and_open, retried, target_error,
    warn, Prepared,
};
use super::{checked_sites, fleet, hash_key, secret_store, write_out};
use crate::cli::{ApplyOptions, Config, Format};
use crate::error::Error;
use crate::output::progress::Ticker;
use crate::output::{self, Mode, Report};
use crate::reconcile::apply::{self, Outcome};
use crate::reconcile::lock::{self, Acquire};
use crate::reconcile::plan::{Action, SitePlan};
use crate::reconcile::published::HashKey;
use crate::remote::{self, Reader, Writer};
use crate::site::model::Site;
use crate::site::secret::SecretStore;

fn read_plan_file(path: &Path) -> Result<Report, Error> {
    let bad = |message: String| Error::PlanFile {
        path: path.to_owned(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let report: Report = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
    if report.format_version != output::FORMAT_VERSION {
        return Err(bad(format!(
            "format version {} is not {}",
            report.format_version,
            output::FORMAT_VERSION
        )));
    }
    if report.mode != Mode::Plan {
        return Err(bad("not a plan".to_owned()));
    }
    if report.sites.is_empty() {
        return Err(bad("it plans no site".to_owned()));
    }
    if let Some(s) = report.sites.iter().find(|s| !s.is_ok()) {
        return Err(bad(format!("site {} failed to plan", s.site)));
    }
    let mut seen = BTreeSet::new();
    for s in &report.sites {
        if !seen.insert(&s.site) {
            return Err(bad(format!("it plans site {} twice", s.site)));
        }
    }
    Ok(report)
}

/// What a stale plan's reason adds when a keyed hash differs: the plan
/// may have been made under another key rather than for other files.
const ANOTHER_KEY: &str = ", or the plan was made under another hash key";

/// Why a saved plan no longer matches the sites or the target, if it does
/// not. What the plans publish is compared: plain sha256, or for a file
/// that carries a secret its HMAC (the same under the same key, different
/// under another).
fn staleness(saved: &SitePlan, fresh: &SitePlan) -> Option<String> {
    // A redacted hash is `null`, like an absent file's: such a plan could
    // compare equal to a target whose secrets changed.
    if saved.redacted || saved.files.iter().any(|f| f.published.redacted) {
        return Some(
            "it was made without a hash key, so the files in it that hold a secret cannot be checked"
                .to_owned(),
        );
    }
    if saved.site_file_sha256 != fresh.site_file_sha256 {
        return Some(format!(
            "{} changed since the plan was made",
            fresh.site_file
        ));
    }
    type After = BTreeSet<(String, Option<String>, Option<Option<String>>)>;
    let after = |p: &SitePlan| -> After {
        p.files
            .iter()
            .filter(|f| f.action != Action::Delete)
            .map(|f| {
                (
                    f.name.clone(),
                    f.published.sha256_after.clone(),
                    f.published.hmac_sha256_after.clone(),
                )
            })
            .collect()
    };
    let (was, is) = (after(saved), after(fresh));
    if was != is {
        let keyed = was
            .symmetric_difference(&is)
            .any(|(_, _, hmac)| matches!(hmac, Some(Some(_))));
        return Some(format!(
            "the rendered files (site, secrets or firmware) changed since the plan was made{}",
            if keyed { ANOTHER_KEY } else { "" }
        ));
    }
    for (name, sha) in &fresh.published_reads {
        if saved.published_reads.get(name) != Some(sha) {
            let keyed = sha.is_some() && fresh.secret_reads.contains(name);
            return Some(format!(
                "{name} on the target changed since the plan was made{}",
                if keyed { ANOTHER_KEY } else { "" }
            ));
        }
    }
    if saved.published_reads.len() != fresh.published_reads.len() {
        return Some("the files on the target changed since the plan was made".to_owned());
    }
    None
}

/// What a site that never started because of a signal reports.
const INTERRUPTED: &str = "not started: polyops was interrupted";

/// Set by SIGINT/SIGTERM once an apply holds a lock.
fn stop_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // If a handler cannot be installed the default (exit) remains.
        let _ = signal_hook::flag::register(sig, Arc::clone(&flag));
    }
    flag
}

/// Ask on the terminal; any answer but "yes", or a signal, is no.
fn confirm(question: &str, stop: &AtomicBool) -> bool {
    eprint!("{question} Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        let _ = tx.send(line);
    });
    loop {
        if stop.load(Ordering::SeqCst) {
            eprintln!();
            return false;
        }
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => return line.trim() == "yes",
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
            Err(_) => return false,
        }
    }
}

pub fn run(config: &Config, opts: &ApplyOptions, out: &mut dyn Write) -> Result<i32, Error> {
    let interactive = std::io::stdin().is_terminal();
    if !opts.auto_approve && !interactive {
        return Err(Error::Usage(
            "apply needs --auto-approve when it cannot ask (no terminal on standard input)"
                .to_owned(),
        ));
    }
    let saved = opts.plan.as_deref().map(read_plan_file).transpose()?;
    let mut config = config.clone();
    if let Some(saved) = &saved {
        let in_plan: Vec<String> = saved.sites.iter().map(|s| s.site.clone()).collect();
        if let Some(extra) = config.names.iter().find(|n| !in_plan.contains(n)) {
            return Err(Error::Usage(format!(
                "site {extra} is not in the saved plan"
            )));
        }
        // Exactly the sites of the plan (the ones named, if any).
        if config.names.is_empty() {
            config.names = in_plan;
        }
    }
    let catalog = checked_sites(&config)?;
    let store = secret_store(&config)?;
    let key = hash_key(&store)?;
    if saved.is_some() && key.is_none() {
        return Err(Error::NoHashKey {
            context: "apply --plan needs the hash key the plan was made with".to_owned(),
        });
    }
    let sites: Vec<&Site> = catalog.selected().collect();
    if let Some(saved) = &saved {
        if let Some(site) = sites
            .iter()
            .find(|site| !saved.sites.iter().any(|s| s.site == site.name))
        {
            return Err(Error::Usage(format!(
                "site {} is not in the saved plan",
                site.name
            )));
        }
    }
    // A missing secret fails the sites that use it, before their targets
    // are touched; under --fail-fast, the whole run before any is.
    if config.fail_fast {
        let missing: Vec<Error> = sites
            .iter()
            .flat_map(|site| crate::render::inputs::missing_secrets(site, &store))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Many(missing));
        }
    }
    let stop = stop_flag();
    let saved_plan = |site: &Site| {
        saved
            .as_ref()
            .and_then(|r| r.sites.iter().find(|s| s.site == site.name))
    };
    // One site: its plan, outcome and (text) report, written to `out`.
    let one = |site: &Site, out: &mut dyn Write| -> Result<SitePlan, Error> {
        let missing = crate::render::inputs::missing_secrets(site, &store);
        let result = if missing.is_empty() {
            apply_site(
                &config,
                site,
                &store,
                key.as_ref(),
                saved_plan(site),
                opts,
                &stop,
                out,
            )
        } else {
            Err(Error::Many(missing))
        };
        if let (Err(e), Format::Text) = (&result, opts.format) {
            let failed = SitePlan::failed(site, one_line(e));
            print_report(&Report::new(Mode::Apply, vec![failed]), Format::Text, out)?;
        }
        result
    };
    let mut reports = Vec::new();
    let mut errors = Vec::new();
    let mut take = |site: &Site, outcome: Option<Result<SitePlan, Error>>| match outcome {
        Some(Ok(plan)) => reports.push(plan),
        Some(Err(e)) => {
            reports.push(SitePlan::failed(site, one_line(&e)));
            errors.push(e);
        }
        None if stop.load(Ordering::SeqCst) => {
            reports.push(SitePlan::failed(site, INTERRUPTED.to_owned()))
        }
        None => reports.push(SitePlan::failed(site, NOT_STARTED.to_owned())),
    };
    if opts.auto_approve {
        // Each site's report is kept until the sites before it are done,
        // so the output reads in site order however they finish.
        let outcomes = fleet(&config).run(
            Mode::Apply.word(),
            &sites,
            &stop,
            |site| {
                let mut buf = Vec::new();
                let result = one(site, &mut buf);
                (result, buf)
            },
            |(result, _)| result.is_err(),
            |_, outcome| {
                if let Some((_, buf)) = outcome {
                    let _ = out.write_all(buf);
                    let _ = out.flush();
                }
            },
        );
        for (site, outcome) in sites.iter().zip(outcomes) {
            take(site, outcome.map(|(result, _)| result));
        }
    } else {
        // Asking on the terminal, one site at a time.
        let mut failed = false;
        for site in &sites {
            if stop.load(Ordering::SeqCst) || (config.fail_fast && failed) {
                take(site, None);
                continue;
            }
            let result = one(site, out);
            failed |= result.is_err();
            take(site, Some(result));
        }
    }
    if opts.format == Format::Text {
        for site in reports
            .iter()
            .filter(|r| matches!(r.error.as_deref(), Some(NOT_STARTED | INTERRUPTED)))
        {
            print_report(
                &Report::new(Mode::Apply, vec![site.clone()]),
                Format::Text,
                out,
            )?;
        }
    }
    if opts.resync {
        if let Err(e) = super::resync::after_apply(&sites, &reports, opts.format, out) {
            errors.push(e);
        }
    }
    if !reports.is_empty() && opts.format != Format::Text {
        print_report(&Report::new(Mode::Apply, reports), opts.format, out)?;
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Many(errors))
    }
}

/// How often a held lock is tried again under `--lock-timeout`.
const LOCK_POLL: Duration = Duration::from_secs(2);

#[allow(clippy::too_many_arguments)]
fn apply_site(
    config: &Config,
    site: &Site,
    store: &SecretStore,
    key: Option<&HashKey>,
    saved: Option<&SitePlan>,
    opts: &ApplyOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<SitePlan, Error> {
    let (local, mut target) = render_and_open(site, store, || {
        remote::open(site, store, config.connections)
    })?;
    let masker = local.masker.clone();
    target
        .ensure_root()
        .map_err(|e| target_error(site, &masker, e))?;
    // The lock is taken before observing, so the plan cannot go stale
    // under us.
    let deadline = opts.lock_timeout.map(|t| std::time::Instant::now() + t);
    let mut waiting = false;
    loop {
        match lock::acquire(target.as_mut(), &site.name)
            .map_err(|e| target_error(site, &masker, e))?
        {
            Acquire::Acquired => break,
            Acquire::Held(holder) => {
                let now = std::time::Instant::now();
                match deadline {
                    Some(d) if now < d && !stop.load(Ordering::SeqCst) => {
                        if !waiting {
                            waiting = true;
                            warn(
                                site,
                                &masker,
                                &format!(
                                    "waiting up to {} for the lock held by {}",
                                    humantime::format_duration(d - now),
                                    holder.describe()
                                ),
                            );
                        }
                        std::thread::sleep(LOCK_POLL.min(d - now));
                    }
                    _ => {
                        return Err(Error::Locked {
                            site: site.name.clone(),
                            target: site.target.display.clone(),
                            holder: masker.clean(&holder.describe()),
                        })
                    }
                }
            }
        }
    }
    let prepared = observe_and_plan(config, site, local, &mut *target as &mut dyn Reader, key);
    let result = prepared.and_then(|mut p| {
        let before = target.stats();
        let result = apply_locked(
            site,
            &mut p,
            target.as_mut(),
            saved,
            opts,
            stop,
            config.verbose,
            out,
        );
        if config.verbose {
            let st = target.stats();
            eprintln!(
                "{}: uploaded {} files over {}{}",
                site.name,
                st.uploads - before.uploads,
                connections(&st),
                retried(&st.retries[before.retries.len()..], &masker)
            );
        }
        result
    });
    let released = lock::release(target.as_mut()).map_err(|e| target_error(site, &masker, e));
    let plan = result?;
    released?;
    Ok(plan)
}

#[allow(clippy::too_many_arguments)]
fn apply_locked(
    site: &Site,
    p: &mut Prepared,
    target: &mut dyn Writer,
    saved: Option<&SitePlan>,
    opts: &ApplyOptions,
    stop: &AtomicBool,
    verbose: bool,
    out: &mut dyn Write,
) -> Result<SitePlan, Error> {
    if let Some(saved) = saved {
        if let Some(reason) = staleness(saved, &p.plan) {
            return Err(Error::Stale {
                site: site.name.clone(),
                reason,
            });
        }
    }
    let plan = p.plan.clone();
    let text = opts.format == Format::Text;
    if text {
        print_report(
            &Report::new(Mode::Plan, vec![plan.clone()]),
            Format::Text,
            out,
        )?;
    }
    if let Some(reason) = plan
        .refusals(opts.allow_mass_delete, opts.allow_mass_update)
        .into_iter()
        .next()
    {
        return Err(Error::Refused {
            site: site.name.clone(),
            reason,
        });
    }
    // Checked on what was just observed, a saved plan's own result aside:
    // a file may have gone from the target since.
    if !opts.allow_incomplete {
        plan.boot
            .check_complete()
            .map_err(|reason| Error::Refused {
                site: site.name.clone(),
                reason,
            })?;
    } else if !plan.boot.is_complete() {
        warn(
            site,
            &p.masker,
            &format!(
                "applying although the phones will not find {} on the target (--allow-incomplete)",
                plan.boot.files()
            ),
        );
    }
    if plan.has_changes() && !opts.auto_approve && saved.is_none() {
        let _ = out.flush();
        let question = format!("Apply these changes to {}?", site.target.display);
        if !confirm(&question, stop) {
            return Err(Error::Refused {
                site: site.name.clone(),
                reason: "not confirmed".to_owned(),
            });
        }
    }
    let total = plan
        .files
        .iter()
        .filter(|f| f.action != Action::Unchanged)
        .count();
    let masker = &p.masker;
    let landed = Arc::new(AtomicUsize::new(0));
    let ticker = Ticker::start(
        format!("{}: writing", site.name),
        total,
        Arc::clone(&landed),
    );
    let outcome = apply::execute(
        target,
        &plan,
        &p.desired,
        &p.observed.owned,
        &p.observed.names,
        stop,
        &mut |line| {
            landed.fetch_add(1, Ordering::Relaxed);
            if verbose {
                eprintln!("{}: {line}", site.name);
            }
        },
        &mut |line| warn(site, masker, &line),
    )
    .map_err(|e| target_error(site, masker, e));
    drop(ticker);
    let outcome = outcome?;
    match outcome {
        Outcome::Done => {
            if text {
                let line = format!(
                    "Applied {}: {}.\n",
                    site.name,
                    output::summary_line(&plan.summary, Mode::Apply)
                );
                write_out(out, line.as_bytes())?;
            }
            Ok(plan)
        }
        Outcome::Interrupted { done } => Err(Error::Interrupted {
            site: site.name.clone(),
            done,
            total,
        }),
    }
}
