//! `apply`: plan (or load a saved plan), then carry it out under the
//! target's lock. What apply refuses is the plan's to say
//! (`Plan::check_saved`, `Plan::check_apply`); this command asks, prints,
//! and runs the sites.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::prepare::{observe_and_plan, render_and_open, Prepared};
use super::print::{connections, print_outcomes, remote_error, retried, warn};
use super::{checked_sites, fleet, hash_key, secret_store, write_out};
use crate::cli::{ApplyOptions, Config, Format};
use crate::error::Error;
use crate::mask::Masker;
use crate::output::progress::Ticker;
use crate::output::{self, Mode};
use crate::reconcile::apply::{Execution, Finish, Progress};
use crate::reconcile::leftovers::{self, Cleared};
use crate::reconcile::lock::{self, Acquire};
use crate::reconcile::outcome::{Outcome, SiteOutcome, Why};
use crate::reconcile::plan::{Allow, Refusal, SiteId};
use crate::reconcile::planfile::PlanFile;
use crate::reconcile::published::HashKey;
use crate::remote::{self, Cause, Reader, RemoteName, Writer};
use crate::site::model::Site;
use crate::site::secret::SecretStore;

pub fn run(config: &Config, opts: &ApplyOptions, out: &mut dyn Write) -> Result<i32, Error> {
    if !opts.auto_approve && !std::io::stdin().is_terminal() {
        return Err(Error::CannotAsk);
    }
    let saved = opts.plan.as_deref().map(PlanFile::read).transpose()?;
    let config = narrowed_to(config, saved.as_ref())?;
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
        if let Some(site) = sites.iter().find(|site| !saved.plans(&site.name)) {
            return Err(Error::NotInPlan {
                site: site.name.clone(),
            });
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
    let applying = Applying {
        config: &config,
        opts,
        store: &store,
        key: key.as_ref(),
        saved: saved.as_ref(),
        stop: stop_flag(),
    };
    let outcomes = if opts.auto_approve {
        applying.unattended(&sites, out)
    } else {
        applying.asking(&sites, out)
    };
    let resynced = match opts.resync {
        true => super::resync::after_apply(&sites, &outcomes, opts.format, out).err(),
        false => None,
    };
    finish(opts.format, outcomes, resynced, out)
}

/// The run's configuration with exactly the sites of a saved plan (the
/// ones named, if any); a site named that the plan does not plan is an
/// error.
fn narrowed_to(config: &Config, saved: Option<&PlanFile>) -> Result<Config, Error> {
    let mut config = config.clone();
    let Some(saved) = saved else {
        return Ok(config);
    };
    if let Some(extra) = config.names.iter().find(|n| !saved.plans(n)) {
        return Err(Error::NotInPlan {
            site: extra.clone(),
        });
    }
    if config.names.is_empty() {
        config.names = saved.sites.iter().map(|s| s.site.clone()).collect();
    }
    Ok(config)
}

/// Print what the run's output still lacks (text: the sites that never
/// started, the others printed as they ended; other formats: every site
/// at once), and say whether it failed (`resynced`: the phones `--resync`
/// asked that did not answer).
fn finish(
    format: Format,
    outcomes: Vec<SiteOutcome>,
    resynced: Option<Error>,
    out: &mut dyn Write,
) -> Result<i32, Error> {
    if format == Format::Text {
        let not_started = outcomes
            .iter()
            .filter(|s| matches!(s.outcome, Outcome::NotStarted(_)));
        for site in not_started {
            print_outcomes(Mode::Apply, std::slice::from_ref(site), format, out)?;
        }
    } else if !outcomes.is_empty() {
        print_outcomes(Mode::Apply, &outcomes, format, out)?;
    }
    let errors: Vec<Error> = outcomes
        .into_iter()
        .filter_map(SiteOutcome::into_error)
        .chain(resynced)
        .collect();
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Many(errors))
    }
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

/// One run of apply: what every site of it shares.
struct Applying<'a> {
    config: &'a Config,
    opts: &'a ApplyOptions,
    store: &'a SecretStore,
    key: Option<&'a HashKey>,
    saved: Option<&'a PlanFile>,
    stop: Arc<AtomicBool>,
}

impl Applying<'_> {
    /// `--auto-approve`: the sites `--parallel` at a time. Each site's
    /// output is kept until the sites before it are done, so the output
    /// reads in site order however they finish.
    fn unattended(&self, sites: &[&Site], out: &mut dyn Write) -> Vec<SiteOutcome> {
        let ran = fleet(self.config).run(
            Mode::Apply.word(),
            sites,
            &self.stop,
            |site| {
                let mut buf = Vec::new();
                let outcome = self.site(site, &mut buf);
                (outcome, buf)
            },
            |(outcome, _)| outcome.plan().is_none(),
            |_, ran| {
                if let Some((_, buf)) = ran {
                    let _ = out.write_all(buf);
                    let _ = out.flush();
                }
            },
        );
        sites
            .iter()
            .zip(ran)
            .map(|(site, ran)| match ran {
                Some((outcome, _)) => outcome,
                None => self.not_started(site),
            })
            .collect()
    }

    /// Asking on the terminal, one site at a time.
    fn asking(&self, sites: &[&Site], out: &mut dyn Write) -> Vec<SiteOutcome> {
        let mut outcomes = Vec::new();
        let mut failed = false;
        for site in sites {
            if self.stop.load(Ordering::SeqCst) || (self.config.fail_fast && failed) {
                outcomes.push(self.not_started(site));
                continue;
            }
            let outcome = self.site(site, out);
            failed |= outcome.plan().is_none();
            outcomes.push(outcome);
        }
        outcomes
    }

    /// A site the run ended before.
    fn not_started(&self, site: &Site) -> SiteOutcome {
        let why = if self.stop.load(Ordering::SeqCst) {
            Why::Signal
        } else {
            Why::FailFast
        };
        SiteOutcome::new(SiteId::of(site), Outcome::NotStarted(why))
    }

    /// One site: its outcome, and in text its output, written to `out`
    /// (a site that failed says so at once).
    fn site(&self, site: &Site, out: &mut dyn Write) -> SiteOutcome {
        let missing = crate::render::inputs::missing_secrets(site, self.store);
        let outcome = if missing.is_empty() {
            self.apply_site(site, out).unwrap_or_else(Outcome::Failed)
        } else {
            Outcome::Failed(Error::Many(missing))
        };
        let outcome = match outcome {
            Outcome::Done(plan) => return SiteOutcome::done(plan),
            other => SiteOutcome::new(SiteId::of(site), other),
        };
        if self.opts.format == Format::Text {
            let shown = std::slice::from_ref(&outcome);
            if let Err(e) = print_outcomes(Mode::Apply, shown, Format::Text, out) {
                return SiteOutcome::new(SiteId::of(site), Outcome::Failed(e));
            }
        }
        outcome
    }

    /// Open the site's target, take its lock (waiting under
    /// `--lock-timeout`), plan and carry the plan out, release the lock.
    /// The lock is taken before observing, so the plan cannot go stale
    /// under us. An apply that failed once it began writing, or could not
    /// release its lock, clears what it left on a fresh session
    /// ([`Applying::clear_leftovers`]).
    fn apply_site(&self, site: &Site, out: &mut dyn Write) -> Result<Outcome, Error> {
        let (local, mut target) = render_and_open(site, self.store, || {
            remote::open(site, self.store, self.config.connections)
        })?;
        let masker = local.masker.clone();
        target
            .ensure_root()
            .map_err(|e| remote_error(site, &masker, e))?;
        let token = self.lock(site, &masker, target.as_mut())?;
        let mut temps = Vec::new();
        let mut writing = false;
        let reader = &mut *target as &mut dyn Reader;
        let prepared = observe_and_plan(self.config, site, local, reader, self.key);
        let result = prepared.and_then(|p| {
            temps = leftovers::temporaries(&p.plan);
            let before = target.stats();
            let result = self.apply_locked(site, &p, target.as_mut(), out, &mut writing);
            if self.config.verbose {
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
        // A write that failed may have been a session that died: its
        // sessions are not asked again. `None`: not released yet.
        let released = (result.is_ok() || !writing)
            .then(|| lock::release(target.as_mut()).map_err(|e| remote_error(site, &masker, e)));
        let cleared = matches!(released, Some(Ok(())));
        let release_failed = released.and_then(Result::err);
        if !cleared {
            drop(target);
            if self.clear_leftovers(site, &masker, &token, &temps) {
                return result;
            }
        }
        let outcome = result?;
        match (outcome, release_failed) {
            (Outcome::Done(_), Some(e)) => Err(e),
            (outcome, _) => Ok(outcome),
        }
    }

    /// Remove this apply's temporary names and release its lock on a fresh
    /// session (its own may have died), trying again after passing
    /// failures for up to the target's `timeout_seconds`; whether the lock
    /// was released. What could not be done is a warning naming `polyops
    /// unlock`.
    fn clear_leftovers(
        &self,
        site: &Site,
        masker: &Masker,
        token: &str,
        temps: &[RemoteName],
    ) -> bool {
        let deadline = Instant::now() + site.target.timeout;
        let mut backoff = Duration::from_millis(200);
        let failed = loop {
            // A session that cannot be opened is a passing failure here:
            // one was open a moment ago.
            let cleared = match remote::open(site, self.store, Some(1)) {
                Ok(mut t) => leftovers::clear(t.as_mut(), token, temps)
                    .map_err(|e| (e.cause == Cause::Transient, remote_error(site, masker, e))),
                Err(e) => Err((true, e)),
            };
            let again = Instant::now() + backoff < deadline && !self.stop.load(Ordering::SeqCst);
            match cleared {
                Ok(cleared) => return self.tell_cleared(site, masker, cleared),
                Err((true, _)) if again => {
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                Err((_, e)) => break e,
            }
        };
        warn(
            site,
            masker,
            &format!(
                "could not remove the lock and temporary files this apply left on a new session ({failed}); `polyops unlock {}` removes the lock",
                site.name
            ),
        );
        false
    }

    /// Say what clearing left, if anything; whether the lock was released.
    fn tell_cleared(&self, site: &Site, masker: &Masker, cleared: Cleared) -> bool {
        match cleared {
            Cleared::Released { kept, .. } => {
                if !kept.is_empty() {
                    warn(
                        site,
                        masker,
                        &format!(
                            "could not remove the temporary files {}; the next apply removes them",
                            kept.join(", ")
                        ),
                    );
                }
                true
            }
            Cleared::NotOurs(holder) => {
                if let Some(holder) = holder {
                    warn(
                        site,
                        masker,
                        &format!(
                            "the lock is no longer this apply's (held {}): left as it is",
                            holder.describe()
                        ),
                    );
                }
                true
            }
        }
    }

    /// Take the site's lock, waiting for a held one under
    /// `--lock-timeout` (saying once whose it waits for); the token of
    /// the lock taken.
    fn lock(&self, site: &Site, masker: &Masker, target: &mut dyn Writer) -> Result<String, Error> {
        let mut waiting = |holder: &lock::Holder, left: Duration| {
            warn(site, masker, &waiting_line(holder, left));
        };
        let acquired = lock::wait(
            target,
            &site.name,
            self.opts.lock_timeout,
            &self.stop,
            &mut waiting,
        )
        .map_err(|e| remote_error(site, masker, e))?;
        match acquired {
            Acquire::Acquired(token) => Ok(token),
            Acquire::Held(holder) => Err(Error::Locked {
                site: site.name.clone(),
                target: site.target.display.clone(),
                holder: masker.clean(&holder.describe()),
            }),
        }
    }

    /// Under the lock: refuse a stale saved plan, print the plan, refuse
    /// what the plan's checks refuse, ask, then carry it out (`writing`
    /// is set once it begins to).
    fn apply_locked(
        &self,
        site: &Site,
        p: &Prepared,
        target: &mut dyn Writer,
        out: &mut dyn Write,
        writing: &mut bool,
    ) -> Result<Outcome, Error> {
        let plan = &p.plan;
        if let Some(saved) = self.saved.and_then(|s| s.site(&site.name)) {
            plan.check_saved(saved)
                .map_err(|r| r.into_error(&site.name))?;
        }
        let text = self.opts.format == Format::Text;
        if text {
            let shown = [SiteOutcome::done(plan.clone())];
            print_outcomes(Mode::Plan, &shown, Format::Text, out)?;
        }
        let allow = Allow {
            mass_delete: self.opts.allow_mass_delete,
            mass_update: self.opts.allow_mass_update,
            incomplete: self.opts.allow_incomplete,
        };
        plan.check_apply(&allow)
            .map_err(|r| r.into_error(&site.name))?;
        if !plan.boot.is_complete() {
            warn(
                site,
                &p.masker,
                &format!(
                    "applying although the phones will not find {} on the target (--allow-incomplete)",
                    plan.boot.files()
                ),
            );
        }
        if plan.has_changes() && !self.opts.auto_approve && self.saved.is_none() {
            let _ = out.flush();
            let question = format!("Apply these changes to {}?", site.target.display);
            if !confirm(&question, &self.stop) {
                return Err(Refusal::NotConfirmed.into_error(&site.name));
            }
        }
        let total = plan.changes().count();
        *writing = true;
        let finish = self.execute(site, p, target)?;
        match finish {
            Finish::Complete => {
                if text {
                    let line = format!(
                        "Applied {}: {}.\n",
                        site.name,
                        output::summary_line(&plan.summary, Mode::Apply)
                    );
                    write_out(out, line.as_bytes())?;
                }
                Ok(Outcome::Done(plan.clone()))
            }
            Finish::Interrupted { done } => Ok(Outcome::Interrupted { done, total }),
        }
    }

    /// Carry the plan out, showing progress (a bar, or under `-v` a line
    /// per file).
    fn execute(&self, site: &Site, p: &Prepared, target: &mut dyn Writer) -> Result<Finish, Error> {
        let landed = Arc::new(AtomicUsize::new(0));
        let ticker = Ticker::start(
            format!("{}: writing", site.name),
            p.plan.changes().count(),
            Arc::clone(&landed),
        );
        let mut progress = ApplyProgress {
            site,
            masker: &p.masker,
            landed: &landed,
            verbose: self.config.verbose,
        };
        let execution = Execution {
            plan: &p.plan,
            desired: &p.desired,
            observed: &p.observed,
        };
        let finish = execution
            .run(target, &self.stop, &mut progress)
            .map_err(|e| remote_error(site, &p.masker, e));
        drop(ticker);
        finish
    }
}

/// The warning of a wait for a held lock, said once: "waiting up to 5m
/// for the lock held by alice@host (pid 7) since …".
fn waiting_line(holder: &lock::Holder, left: Duration) -> String {
    format!(
        "waiting up to {} for the lock held {}",
        humantime::format_duration(left),
        holder.describe()
    )
}

/// What a site's apply tells as it goes: each file landed counts for the
/// progress bar (and is a line under `-v`); a warning is printed masked.
struct ApplyProgress<'a> {
    site: &'a Site,
    masker: &'a Masker,
    landed: &'a AtomicUsize,
    verbose: bool,
}

impl Progress for ApplyProgress<'_> {
    fn done(&mut self, line: String) {
        self.landed.fetch_add(1, Ordering::Relaxed);
        if self.verbose {
            eprintln!("{}: {line}", self.site.name);
        }
    }

    fn warn(&mut self, line: String) {
        warn(self.site, self.masker, &line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_wait_names_the_holder_once_with_by() {
        let line = waiting_line(&lock::Holder::Unknown, Duration::from_secs(300));
        assert_eq!(
            line,
            "waiting up to 5m for the lock held by another apply (its owner file is missing or unreadable)"
        );
    }
}
