//! The online commands: `plan`, `apply`, `drift`, `unlock`. Per site:
//! render → open target → observe → plan → print / execute.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::{ApplyOptions, Config, Format};
use crate::commands::{checked_sites, secret_store, write_out};
use crate::error::Error;
use crate::mask::Masker;
use crate::output::progress::Ticker;
use crate::output::{self, Mode, Report};
use crate::reconcile::apply::{self, Outcome};
use crate::reconcile::lock::{self, Acquire};
use crate::reconcile::observe::{observe, Observed};
use crate::reconcile::plan::{override_names, Action, SitePlan};
use crate::render::inputs::{sha256_hex, Inputs};
use crate::render::{render, Rendered};
use crate::site::model::Site;
use crate::site::secret::SecretStore;
use crate::target::{self, Reader, Stats, Target};

/// What a site needs before its target is read: its files, its masker,
/// the hash of its site file.
struct Local {
    desired: Rendered,
    masker: Masker,
    site_sha: String,
}

/// Everything known about one site after observing its target.
struct Prepared {
    desired: Rendered,
    observed: Observed,
    plan: SitePlan,
    masker: Masker,
}

/// A target's failure as the site's error. The message may quote the
/// server (which may echo anything, a password included): it passes the
/// site's masker and loses control characters.
fn target_error(site: &Site, masker: &Masker, e: crate::target::TargetError) -> Error {
    Error::Target {
        site: site.name.clone(),
        target: site.target.display.clone(),
        message: masker.clean(&e.message),
    }
}

/// A warning about a site, from its target: printed masked and printable.
fn warn(site: &Site, masker: &Masker, text: &str) {
    eprintln!("warning: {}: {}", site.name, masker.clean(text));
}

/// The masker for a site: its extension passwords and its FTP password.
fn masker(site: &Site, inputs: &Inputs, store: &SecretStore) -> Masker {
    let mut secrets = inputs.secret_values();
    if let Some(r) = &site.target.password {
        if let Ok(s) = store.resolve(r) {
            secrets.push(s.expose().to_owned());
        }
    }
    Masker::new(secrets)
}

/// Render the site while its target is opened (logging in takes round
/// trips, rendering takes CPU: both at once). The site's own errors come
/// first: they need no network to fix.
fn render_and_open<T: Send>(
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

/// Observe the target and plan.
fn observe_and_plan(
    config: &Config,
    site: &Site,
    local: Local,
    target: &mut dyn Reader,
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
    let observed = observe(target, &site.name, &wanted, &override_names(site))
        .map_err(|e| target_error(site, &masker, e))?;
    drop(ticker);
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
    let plan = SitePlan::build(site, &site_sha, &desired, &observed, &masker);
    Ok(Prepared {
        desired,
        observed,
        plan,
        masker,
    })
}

/// Plan one site, read-only.
fn plan_site(config: &Config, site: &Site, store: &SecretStore) -> Result<SitePlan, Error> {
    let (local, mut target) = render_and_open(site, store, || {
        target::open_reader(site, store, config.connections)
    })?;
    Ok(observe_and_plan(config, site, local, target.as_mut())?.plan)
}

fn print_report(report: &Report, format: Format, out: &mut dyn Write) -> Result<(), Error> {
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

/// `plan` and `drift`: read-only; print; 2 when something is pending.
pub fn plan(
    config: &Config,
    mode: Mode,
    format: Format,
    save: Option<&Path>,
    detailed: bool,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for site in catalog.selected() {
        match plan_site(config, site, &store) {
            Ok(p) => plans.push(p),
            Err(e) => {
                plans.push(SitePlan::failed(site, one_line(&e)));
                errors.push(e);
            }
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

/// An error as one line, for the report of the site it stopped.
fn one_line(e: &Error) -> String {
    e.to_string().lines().collect::<Vec<_>>().join("; ")
}

/// A plan file: the report without diffs (hashes only, no secrets).
fn write_plan_file(path: &Path, report: &Report) -> Result<(), Error> {
    let mut saved = report.clone();
    for site in &mut saved.sites {
        for f in &mut site.files {
            f.diff = None;
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&saved).expect("a report always serialises");
    bytes.push(b'\n');
    std::fs::write(path, bytes).map_err(|e| Error::Write {
        path: path.to_owned(),
        source: e,
    })
}

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

/// Why a saved plan no longer matches the sites or the target, if it does not.
fn staleness(saved: &SitePlan, fresh: &SitePlan) -> Option<String> {
    if saved.site_file_sha256 != fresh.site_file_sha256 {
        return Some(format!(
            "{} changed since the plan was made",
            fresh.site_file
        ));
    }
    let after = |p: &SitePlan| -> Vec<(String, Option<String>)> {
        p.files
            .iter()
            .filter(|f| f.action != Action::Delete)
            .map(|f| (f.name.clone(), f.sha256_after.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    if after(saved) != after(fresh) {
        return Some(
            "the rendered files (site, secrets or firmware) changed since the plan was made"
                .to_owned(),
        );
    }
    for (name, sha) in &fresh.reads {
        if saved.reads.get(name) != Some(sha) {
            return Some(format!(
                "{name} on the target changed since the plan was made"
            ));
        }
    }
    if saved.reads.len() != fresh.reads.len() {
        return Some("the files on the target changed since the plan was made".to_owned());
    }
    None
}

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

pub fn apply(config: &Config, opts: &ApplyOptions, out: &mut dyn Write) -> Result<i32, Error> {
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
    // Every missing secret of the run at once, before any target is touched.
    let missing: Vec<Error> = catalog
        .selected()
        .flat_map(|site| crate::render::inputs::missing_secrets(site, &store))
        .collect();
    if !missing.is_empty() {
        return Err(Error::Many(missing));
    }
    let stop = stop_flag();
    let mut reports = Vec::new();
    let mut result = Ok(0);
    for site in catalog.selected() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let saved_plan = match &saved {
            None => None,
            Some(r) => match r.sites.iter().find(|s| s.site == site.name) {
                Some(p) => Some(p),
                None => {
                    result = Err(Error::Usage(format!(
                        "site {} is not in the saved plan",
                        site.name
                    )));
                    break;
                }
            },
        };
        match apply_site(&config, site, &store, saved_plan, opts, &stop, out) {
            Ok(plan) => reports.push(plan),
            Err(e) => {
                let failed = SitePlan::failed(site, one_line(&e));
                if opts.format == Format::Text {
                    print_report(
                        &Report::new(Mode::Apply, vec![failed.clone()]),
                        Format::Text,
                        out,
                    )?;
                }
                reports.push(failed);
                result = Err(e);
                break;
            }
        }
    }
    if !reports.is_empty() && opts.format != Format::Text {
        print_report(&Report::new(Mode::Apply, reports), opts.format, out)?;
    }
    result
}

fn apply_site(
    config: &Config,
    site: &Site,
    store: &SecretStore,
    saved: Option<&SitePlan>,
    opts: &ApplyOptions,
    stop: &AtomicBool,
    out: &mut dyn Write,
) -> Result<SitePlan, Error> {
    let (local, mut target) = render_and_open(site, store, || {
        target::open(site, store, config.connections)
    })?;
    let masker = local.masker.clone();
    target
        .ensure_root()
        .map_err(|e| target_error(site, &masker, e))?;
    // The lock is taken before observing, so the plan cannot go stale
    // under us.
    match lock::acquire(target.as_mut(), &site.name).map_err(|e| target_error(site, &masker, e))? {
        Acquire::Acquired => {}
        Acquire::Held(holder) => {
            return Err(Error::Locked {
                site: site.name.clone(),
                target: site.target.display.clone(),
                holder: masker.clean(&holder.describe()),
            })
        }
    }
    let prepared = observe_and_plan(config, site, local, &mut *target as &mut dyn Reader);
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

/// "N connection(s)", for `-v`.
fn connections(st: &Stats) -> String {
    let n = st.connections.max(1);
    format!("{n} connection{}", if n > 1 { "s" } else { "" })
}

/// ", N retried after a passing failure" when any was, and then a line
/// per retry with its cause (the server's words, masked), for `-v`.
fn retried(causes: &[String], masker: &Masker) -> String {
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

#[allow(clippy::too_many_arguments)]
fn apply_locked(
    site: &Site,
    p: &mut Prepared,
    target: &mut dyn Target,
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
    if !opts.allow_mass_delete {
        plan.check_mass_delete().map_err(|reason| Error::Refused {
            site: site.name.clone(),
            reason,
        })?;
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

/// `unlock`: remove a lock left by a killed apply.
pub fn unlock(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    for site in catalog.selected() {
        let mut target = target::open(site, &store, config.connections)?;
        let masker = Masker::new(target::ftp_password(site, &store).map(|p| p.expose().to_owned()));
        let line =
            match lock::holder(target.as_mut()).map_err(|e| target_error(site, &masker, e))? {
                None => format!("{}: no lock on {}\n", site.name, site.target.display),
                Some(holder) => {
                    lock::release(target.as_mut()).map_err(|e| target_error(site, &masker, e))?;
                    format!(
                        "{}: removed the lock on {} held {}\n",
                        site.name,
                        site.target.display,
                        masker.clean(&holder.describe())
                    )
                }
            };
        write_out(out, line.as_bytes())?;
    }
    Ok(0)
}
