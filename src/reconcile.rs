//! The online commands: `plan`, `apply`, `drift`, `unlock`. Per site:
//! render → open target → observe → plan → print / execute.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::apply::{self, Outcome};
use crate::cli::{ApplyOptions, Config, Format};
use crate::commands::{checked_sites, secret_store, write_out};
use crate::error::Error;
use crate::inputs::{sha256_hex, Inputs};
use crate::lock::{self, Acquire};
use crate::mask::Masker;
use crate::model::Site;
use crate::observe::{observe, Observed};
use crate::output::{self, Mode, Report};
use crate::plan::{override_names, Action, SitePlan};
use crate::render::{render, Rendered};
use crate::secret::SecretStore;
use crate::target::{self, Stats, Target};

/// Everything known about one site after observing its target.
struct Prepared {
    desired: Rendered,
    observed: Observed,
    plan: SitePlan,
    target: Box<dyn Target + Send>,
}

fn target_error(site: &Site, e: crate::target::TargetError) -> Error {
    Error::Target {
        site: site.name.clone(),
        target: site.target.display.clone(),
        message: e.message,
    }
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

/// Render the site, then open and observe its target. With `lock`, the
/// lock is taken before observing so the plan cannot go stale under us.
fn prepare(
    config: &Config,
    site: &Site,
    store: &SecretStore,
    lock: bool,
) -> Result<Prepared, Error> {
    // Logging in takes round trips, rendering takes CPU: both at once.
    let (local, target) = std::thread::scope(|scope| {
        let opened = scope.spawn(|| target::open(site, store, config.connections));
        let local = Inputs::gather(site, store)
            .map_err(Error::Many)
            .and_then(|inputs| {
                let site_sha = std::fs::read(&site.file)
                    .map(|b| sha256_hex(&b))
                    .map_err(|e| Error::Load(format!("error reading {}: {e}", site.file)))?;
                let desired = render(site, &inputs);
                let masker = masker(site, &inputs, store);
                Ok((desired, masker, site_sha))
            });
        let target = opened
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (local, target)
    });
    // The site's own errors come first: they need no network to fix.
    let (desired, masker, site_sha) = local?;
    let mut target = target?;
    if lock {
        target.ensure_root().map_err(|e| target_error(site, e))?;
        match lock::acquire(target.as_mut(), &site.name).map_err(|e| target_error(site, e))? {
            Acquire::Acquired => {}
            Acquire::Held(owner) => {
                return Err(Error::Locked {
                    site: site.name.clone(),
                    target: site.target.display.clone(),
                    holder: owner
                        .map(|o| o.describe())
                        .unwrap_or_else(|| "by another apply (owner unknown)".to_owned()),
                })
            }
        }
    }
    let wanted: BTreeMap<String, String> = desired
        .iter()
        .map(|(n, b)| (n.clone(), sha256_hex(b)))
        .collect();
    let observed = match observe(target.as_mut(), &site.name, &wanted, &override_names(site)) {
        Ok(o) => o,
        Err(e) => {
            if lock {
                let _ = lock::release(target.as_mut());
            }
            return Err(target_error(site, e));
        }
    };
    let st = target.stats();
    if let Some(reply) = &st.listing_cut {
        eprintln!(
            "warning: {}: {} cut its listing short ({reply}): every file the site declares or polyops wrote was still checked by name, but unmanaged files and phones' own files past the cut are not reported; raise the server's limit (pure-ftpd: -L)",
            site.name, site.target.display
        );
    }
    if config.verbose {
        eprintln!(
            "{}: observed {} files over {}: {} hashed by the server, {} downloaded{}",
            site.name,
            observed.hashes.len(),
            connections(&st),
            st.hashes,
            st.downloads,
            retried(&st.retries)
        );
    }
    let plan = SitePlan::build(site, &site_sha, &desired, &observed, &masker);
    Ok(Prepared {
        desired,
        observed,
        plan,
        target,
    })
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
        match prepare(config, site, &store, false) {
            Ok(p) => plans.push(p.plan),
            Err(e) => errors.push(e),
        }
    }
    let report = Report::new(mode, plans);
    print_report(&report, format, out)?;
    if let Some(path) = save {
        write_plan_file(path, &report)?;
    }
    if !errors.is_empty() {
        return Err(Error::Many(errors));
    }
    let pending = match mode {
        Mode::Drift => report.sites.iter().any(SitePlan::has_drift),
        _ => detailed && report.sites.iter().any(SitePlan::has_changes),
    };
    Ok(if pending { 2 } else { 0 })
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
        config.names = in_plan;
    }
    let catalog = checked_sites(&config)?;
    let store = secret_store(&config)?;
    let stop = stop_flag();
    let mut reports = Vec::new();
    let mut result = Ok(0);
    for site in catalog.selected() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let saved_plan = saved
            .as_ref()
            .and_then(|r| r.sites.iter().find(|s| s.site == site.name));
        match apply_site(&config, site, &store, saved_plan, opts, &stop, out) {
            Ok(plan) => reports.push(plan),
            Err(e) => {
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
    let mut p = prepare(config, site, store, true)?;
    let before = p.target.stats();
    let result = apply_locked(site, &mut p, saved, opts, stop, out);
    if config.verbose {
        let st = p.target.stats();
        eprintln!(
            "{}: uploaded {} files over {}{}",
            site.name,
            st.uploads - before.uploads,
            connections(&st),
            retried(&st.retries[before.retries.len()..])
        );
    }
    let released = lock::release(p.target.as_mut()).map_err(|e| target_error(site, e));
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
/// per retry with its cause, for `-v`.
fn retried(causes: &[String]) -> String {
    let mut text = String::new();
    if !causes.is_empty() {
        text.push_str(&format!(
            ", {} retried after a passing failure",
            causes.len()
        ));
    }
    for cause in causes {
        text.push_str(&format!("\n  retried after: {cause}"));
    }
    text
}

fn apply_locked(
    site: &Site,
    p: &mut Prepared,
    saved: Option<&SitePlan>,
    opts: &ApplyOptions,
    stop: &AtomicBool,
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
    let outcome = apply::execute(
        p.target.as_mut(),
        &plan,
        &p.desired,
        &p.observed.state,
        stop,
        &mut |line| eprintln!("{}: {line}", site.name),
    )
    .map_err(|e| target_error(site, e))?;
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
        let line = match lock::holder(target.as_mut()).map_err(|e| target_error(site, e))? {
            None => format!("{}: no lock on {}\n", site.name, site.target.display),
            Some(owner) => {
                lock::release(target.as_mut()).map_err(|e| target_error(site, e))?;
                format!(
                    "{}: removed the lock on {} held {}\n",
                    site.name,
                    site.target.display,
                    owner
                        .map(|o| o.describe())
                        .unwrap_or_else(|| "by an unknown owner".to_owned())
                )
            }
        };
        write_out(out, line.as_bytes())?;
    }
    Ok(0)
}
