//! Carrying out a plan on a target: uploads to a temporary name renamed
//! into place (a phone never reads a half-written file), referenced files
//! before the `<mac>.cfg` naming them, deletes last. The state file is
//! written before the first change and after the last, so a run cut short
//! anywhere is finished by the next one.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::reconcile::observe::Observed;
use crate::reconcile::plan::{Action, FileChange, Plan};
use crate::reconcile::state::{State, STATE_FILE};
use crate::remote::{temp_name, Cause, RemoteError, RemoteName, Writer};
use crate::render::inputs::sha256_hex;
use crate::render::Rendered;
use crate::site::model::is_master_config;

/// How carrying out a plan ended, when no write failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Every change made.
    Complete,
    /// Stopped by SIGINT/SIGTERM after the file in flight, `done` changes
    /// made.
    Interrupted { done: usize },
}

/// What the caller hears while a plan is carried out.
pub trait Progress {
    /// One line per file written or deleted ("created 201.cfg").
    fn done(&mut self, line: String);
    /// What went wrong without failing the apply.
    fn warn(&mut self, line: String);
}

/// A plan to carry out: the plan, the bytes of its uploads, and what was
/// observed when it was made.
pub struct Execution<'a> {
    pub plan: &'a Plan,
    /// The rendered files, the bytes uploaded.
    pub desired: &'a Rendered,
    /// The target as the plan saw it: its files (temporary leftovers
    /// among them) and what the state claims (`Observed::owned`).
    pub observed: &'a Observed,
}

/// What a run has done so far: the state as it should be recorded now,
/// and how many changes were made.
struct Ledger {
    state: State,
    done: usize,
}

fn name(n: &str) -> Result<RemoteName, RemoteError> {
    RemoteName::new(n).map_err(|why| RemoteError::new(Cause::Refused, format!("{n}: {why}")))
}

impl Execution<'_> {
    /// Carry the plan out on `target`: leftovers removed, the intent
    /// recorded, uploads in two waves, each written file checked where it
    /// landed, deletes, the state recorded. Stops starting new files once
    /// `stop` is set.
    pub fn run(
        &self,
        target: &mut dyn Writer,
        stop: &AtomicBool,
        progress: &mut dyn Progress,
    ) -> Result<Finish, RemoteError> {
        target.ensure_root()?;
        let changes: Vec<&FileChange> = self.plan.changes().collect();
        remove_leftovers(target, self.plan, self.observed, progress)?;
        let mut ledger = Ledger {
            state: self.intended_state(&changes),
            done: 0,
        };
        if !changes.is_empty() {
            write_state(target, &ledger.state)?;
        }
        let uploads: Vec<&FileChange> = changes
            .iter()
            .copied()
            .filter(|f| f.action.uploads())
            .collect();
        let finish = self.upload(target, &uploads, &mut ledger, stop, progress)?;
        if finish != Finish::Complete {
            return Ok(finish);
        }
        // Every file written, checked where it landed: a server that
        // truncated or mangled an upload is caught now, and the state
        // records what is really there.
        let wrong = verify(target, &uploads, self.desired)?;
        for w in &wrong {
            ledger.state.files.insert(w.name.clone(), w.actual.clone());
        }
        let deletes = changes.iter().filter(|f| f.action == Action::Delete);
        for f in deletes {
            if stop.load(Ordering::SeqCst) {
                write_state(target, &ledger.state)?;
                return Ok(Finish::Interrupted { done: ledger.done });
            }
            delete(target, f, &ledger.state)?;
            ledger.state.files.remove(&f.name);
            progress.done(format!("deleted {}", f.name));
            ledger.done += 1;
        }
        self.record_final_state(target, &mut ledger.state)?;
        if !wrong.is_empty() {
            return Err(not_as_written(&wrong));
        }
        Ok(Finish::Complete)
    }

    /// What the state carries on before the first change: every file of
    /// the plan that polyops owns (the plan's files are exactly what is
    /// declared, plus owned files still on the target), and every file
    /// about to be written, its hash unknown until the write completes. An
    /// owned file that is gone and no longer declared is forgotten: a
    /// hand-made file that later appears under its name is unmanaged, not
    /// deleted.
    fn intended_state(&self, changes: &[&FileChange]) -> State {
        let plan = self.plan;
        let mut state = State {
            site: plan.site.name.clone(),
            files: plan
                .files
                .iter()
                .filter_map(|f| {
                    self.observed
                        .owned(&f.name)
                        .map(|sha| (f.name.clone(), sha.clone()))
                })
                .collect(),
            ..State::new(&plan.site.name)
        };
        for f in changes.iter().filter(|f| f.action.uploads()) {
            state.files.insert(f.name.clone(), None);
        }
        state
    }

    /// Upload in two waves: the files a `<mac>.cfg` names, then the
    /// `<mac>.cfg` files (the plan lists them in that order). The ledger
    /// records each file as it lands; its state is written when a wave
    /// fails or a signal stops it.
    fn upload(
        &self,
        target: &mut dyn Writer,
        uploads: &[&FileChange],
        ledger: &mut Ledger,
        stop: &AtomicBool,
        progress: &mut dyn Progress,
    ) -> Result<Finish, RemoteError> {
        let (masters, referenced): (Vec<&FileChange>, Vec<&FileChange>) =
            uploads.iter().partition(|f| is_master_config(&f.name));
        for wave in [referenced, masters] {
            let mut names = Vec::new();
            for f in &wave {
                let bytes = self.desired.get(&f.name).ok_or_else(|| {
                    RemoteError::new(Cause::Refused, format!("{} is not rendered", f.name))
                })?;
                names.push((name(&f.name)?, bytes.as_slice()));
            }
            let files: Vec<(&RemoteName, &[u8])> = names.iter().map(|(n, b)| (n, *b)).collect();
            // Looked up once per file landed: a wave may hold thousands.
            let by_name: HashMap<&str, &FileChange> =
                wave.iter().map(|f| (f.name.as_str(), *f)).collect();
            let mut landed = |landed: &RemoteName| {
                let name = landed.as_str();
                if let Some(f) = by_name.get(name) {
                    let sha = self.desired.get(name).map(|b| sha256_hex(b));
                    ledger.state.files.insert(name.to_owned(), sha);
                    let verb = if f.action == Action::Create {
                        "created"
                    } else {
                        "updated"
                    };
                    progress.done(format!("{verb} {name}"));
                    ledger.done += 1;
                }
            };
            let result = target.upload_many(&files, stop, &mut landed);
            if let Err(e) = result {
                let _ = write_state(target, &ledger.state);
                return Err(e);
            }
            if stop.load(Ordering::SeqCst) {
                write_state(target, &ledger.state)?;
                return Ok(Finish::Interrupted { done: ledger.done });
            }
        }
        Ok(Finish::Complete)
    }

    /// Unchanged files are owned too (files taken over included); the
    /// state is written unless it is already as it should be.
    fn record_final_state(
        &self,
        target: &mut dyn Writer,
        state: &mut State,
    ) -> Result<(), RemoteError> {
        let unchanged = self
            .plan
            .files
            .iter()
            .filter(|f| f.action == Action::Unchanged);
        for f in unchanged {
            state.files.insert(f.name.clone(), f.sha256_after.clone());
        }
        let recorded = self
            .plan
            .reads
            .get(STATE_FILE)
            .and_then(|r| r.sha256.clone());
        if recorded != Some(sha256_hex(&state.to_bytes())) {
            write_state(target, state)?;
        }
        Ok(())
    }
}

/// Remove the leftovers of an earlier run that was killed mid-upload: the
/// temporary names of the files polyops owns there or the site declares
/// (and of the state file), whatever this run does with them. An
/// unmanaged `notes.polyops-tmp` is not polyops's to remove. A leftover
/// that cannot be removed is a warning.
fn remove_leftovers(
    target: &mut dyn Writer,
    plan: &Plan,
    observed: &Observed,
    progress: &mut dyn Progress,
) -> Result<(), RemoteError> {
    let mut ours: std::collections::BTreeSet<&str> =
        plan.files.iter().map(|f| f.name.as_str()).collect();
    ours.extend(observed.owned.keys().map(RemoteName::as_str));
    ours.insert(STATE_FILE);
    for n in ours {
        let temp = temp_name(&name(n)?)?;
        if observed.files.contains_key(&temp) {
            if let Err(e) = target.delete(&temp) {
                progress.warn(format!(
                    "could not remove the leftover temporary file {temp}: {}",
                    e.message
                ));
            }
        }
    }
    Ok(())
}

/// Delete one file; one already gone is deleted. On failure the state is
/// written first, so the next run knows what this one did.
fn delete(target: &mut dyn Writer, f: &FileChange, state: &State) -> Result<(), RemoteError> {
    match target.delete(&name(&f.name)?) {
        Ok(()) => Ok(()),
        Err(e) if e.cause == Cause::NotFound => Ok(()),
        Err(e) => {
            let _ = write_state(target, state);
            Err(e)
        }
    }
}

/// The error of files written that are not what was uploaded.
fn not_as_written(wrong: &[Mismatch]) -> RemoteError {
    let list: Vec<String> = wrong
        .iter()
        .map(|w| format!("{} ({})", w.name, w.why))
        .collect();
    RemoteError::new(
        Cause::Refused,
        format!(
            "{} of the files written {} not what was uploaded: {}; the state file records what is there, so the next plan shows it",
            wrong.len(),
            if wrong.len() == 1 { "is" } else { "are" },
            list.join(", ")
        ),
    )
}

/// A file that did not land as written.
struct Mismatch {
    name: String,
    /// Its sha256 on the target, when the server said; `None`: unknown
    /// (only its size was compared) or absent.
    actual: Option<String>,
    why: String,
}

/// Check each written file where it landed (docs/apply.md "What landed"): by the server's
/// hash where it has one, else by its size and a read-back of a sample
/// ([`sample`]). A target that offers neither is not checked.
fn verify(
    target: &mut dyn Writer,
    written: &[&FileChange],
    desired: &Rendered,
) -> Result<Vec<Mismatch>, RemoteError> {
    if written.is_empty() {
        return Ok(Vec::new());
    }
    let names: Vec<RemoteName> = written
        .iter()
        .map(|f| name(&f.name))
        .collect::<Result<_, _>>()?;
    let bytes = |n: &RemoteName| {
        desired
            .get(n.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let mut wrong = Vec::new();
    if let Some(hashes) = target.hash_many(&names)? {
        // A server's hash may come from a cache (proftpd's mod_digest keys
        // it by name, size and a time to the second): a file whose hash
        // differs is read back, and its bytes decide.
        let differs: Vec<RemoteName> = hashes
            .iter()
            .filter(|(n, sha)| sha.as_deref() != Some(sha256_hex(bytes(n)).as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        let read: BTreeMap<RemoteName, String> = if differs.is_empty() {
            BTreeMap::new()
        } else {
            target
                .read_many(&differs)?
                .into_iter()
                .map(|(n, f)| (n, f.sha256))
                .collect()
        };
        for n in differs {
            let want = sha256_hex(bytes(&n));
            match read.get(&n) {
                Some(sha) if *sha == want => {}
                Some(sha) => wrong.push(Mismatch {
                    name: n.as_str().to_owned(),
                    actual: Some(sha.clone()),
                    why: "its sha256 on the target differs".to_owned(),
                }),
                None => wrong.push(Mismatch {
                    name: n.as_str().to_owned(),
                    actual: None,
                    why: "it is not on the target".to_owned(),
                }),
            }
        }
    } else if let Some(sizes) = target.sizes_many(&names)? {
        let mut same_size = Vec::new();
        for (n, size) in sizes {
            let want = bytes(&n).len() as u64;
            match size {
                Some(size) if size == want => same_size.push(n),
                Some(size) => wrong.push(Mismatch {
                    name: n.as_str().to_owned(),
                    actual: None,
                    why: format!("{size} bytes on the target, {want} written"),
                }),
                None => wrong.push(Mismatch {
                    name: n.as_str().to_owned(),
                    actual: None,
                    why: "it is not on the target".to_owned(),
                }),
            }
        }
        wrong.extend(read_back(target, &sample(same_size), desired)?);
    }
    Ok(wrong)
}

/// Files checked by size alone are also read back, all of them in a small
/// apply and about one in `SAMPLE_ONE_IN` of a larger one (a different
/// one each run): a file of the right size with other bytes (another
/// file's, another site's) is caught where the server cannot hash.
const SAMPLE_ALL_UP_TO: usize = 32;
const SAMPLE_ONE_IN: u8 = 8;

/// The files of `names` to read back (see [`SAMPLE_ALL_UP_TO`]).
fn sample(names: Vec<RemoteName>) -> Vec<RemoteName> {
    if names.len() <= SAMPLE_ALL_UP_TO {
        return names;
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
        .to_string();
    names
        .into_iter()
        .filter(|n| {
            let mark = sha256_hex(format!("{seed}/{n}").as_bytes());
            u8::from_str_radix(&mark[..2], 16)
                .unwrap_or(0)
                .is_multiple_of(SAMPLE_ONE_IN)
        })
        .collect()
}

/// Read `names` back and compare their sha256 with what was written.
fn read_back(
    target: &mut dyn Writer,
    names: &[RemoteName],
    desired: &Rendered,
) -> Result<Vec<Mismatch>, RemoteError> {
    let written = |n: &RemoteName| {
        desired
            .get(n.as_str())
            .map(|b| sha256_hex(b))
            .unwrap_or_else(|| sha256_hex(b""))
    };
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let read: BTreeMap<RemoteName, String> = target
        .read_many(names)?
        .into_iter()
        .map(|(n, f)| (n, f.sha256))
        .collect();
    Ok(names
        .iter()
        .filter_map(|n| match read.get(n) {
            Some(sha) if *sha == written(n) => None,
            Some(sha) => Some(Mismatch {
                name: n.as_str().to_owned(),
                actual: Some(sha.clone()),
                why: "its bytes on the target differ (same size)".to_owned(),
            }),
            None => Some(Mismatch {
                name: n.as_str().to_owned(),
                actual: None,
                why: "it is not on the target".to_owned(),
            }),
        })
        .collect())
}

/// Replace the state file atomically.
fn write_state(target: &mut dyn Writer, state: &State) -> Result<(), RemoteError> {
    let file = name(STATE_FILE)?;
    let temp = temp_name(&file)?;
    target.write(&temp, &state.to_bytes())?;
    target.rename(&temp, &file)
}
