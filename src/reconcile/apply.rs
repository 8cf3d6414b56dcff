//! Carrying out a plan on a target: uploads to a temporary name renamed
//! into place (a phone never reads a half-written file), referenced files
//! before the `<mac>.cfg` naming them, deletes last. The state file is
//! written before the first change and after the last, so a run cut short
//! anywhere is finished by the next one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::reconcile::plan::{Action, FileChange, SitePlan};
use crate::reconcile::state::{State, STATE_FILE};
use crate::remote::{temp_name, Cause, RemoteError, RemoteName, Writer};
use crate::render::inputs::sha256_hex;
use crate::render::Rendered;
use crate::site::model::is_master_config;

pub enum Outcome {
    Done,
    /// Stopped by SIGINT/SIGTERM after the file in flight.
    Interrupted {
        done: usize,
    },
}

fn name(n: &str) -> Result<RemoteName, RemoteError> {
    RemoteName::new(n).map_err(|why| RemoteError::new(Cause::Refused, format!("{n}: {why}")))
}

/// Execute `plan` with the bytes of `desired`. `owned` is what the
/// observed state may claim (`Observed::owned`) and `names` every file at
/// the root. `progress` hears one line per file; `warn` what went wrong
/// without failing the apply.
#[allow(clippy::too_many_arguments)]
pub fn execute(
    target: &mut dyn Writer,
    plan: &SitePlan,
    desired: &Rendered,
    owned: &BTreeMap<String, Option<String>>,
    names: &BTreeSet<String>,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(String),
    warn: &mut dyn FnMut(String),
) -> Result<Outcome, RemoteError> {
    target.ensure_root()?;
    let changes: Vec<_> = plan
        .files
        .iter()
        .filter(|f| f.action != Action::Unchanged)
        .collect();
    // Leftovers of a run that was killed mid-upload: only the temporary
    // names of the files about to be written (and of the state file). An
    // unmanaged `notes.polyops-tmp` is not polyops's to remove.
    let mut ours: Vec<&str> = changes
        .iter()
        .filter(|f| f.action != Action::Delete)
        .map(|f| f.name.as_str())
        .collect();
    ours.push(STATE_FILE);
    for n in ours {
        let temp = temp_name(&name(n)?)?;
        if names.contains(temp.as_str()) {
            if let Err(e) = target.delete(&temp) {
                warn(format!(
                    "could not remove the leftover temporary file {temp}: {}",
                    e.message
                ));
            }
        }
    }

    // What the state carries on: every file of the plan that polyops owns
    // (the plan's files are exactly what is declared, plus owned files
    // still on the target). An owned file that is gone and no longer
    // declared is forgotten: a hand-made file that later appears under its
    // name is unmanaged, not deleted.
    let mut state = State {
        site: plan.site.clone(),
        files: plan
            .files
            .iter()
            .filter_map(|f| owned.get(&f.name).map(|sha| (f.name.clone(), sha.clone())))
            .collect(),
        ..State::new(&plan.site)
    };
    // Intent: every file about to be written is owned from now on, its hash
    // unknown until the write completes.
    for f in &changes {
        if matches!(f.action, Action::Create | Action::Update) {
            state.files.insert(f.name.clone(), None);
        }
    }
    if !changes.is_empty() {
        write_state(target, &state)?;
    }

    let mut done = 0;
    // Uploads in two waves: the files a `<mac>.cfg` names, then the
    // `<mac>.cfg` files (the plan lists them in that order).
    let uploads: Vec<&FileChange> = changes
        .iter()
        .copied()
        .filter(|f| matches!(f.action, Action::Create | Action::Update))
        .collect();
    let (masters, referenced): (Vec<&FileChange>, Vec<&FileChange>) =
        uploads.iter().partition(|f| is_master_config(&f.name));
    for wave in [referenced, masters] {
        let mut names = Vec::new();
        for f in &wave {
            let bytes = desired.get(&f.name).ok_or_else(|| {
                RemoteError::new(Cause::Refused, format!("{} is not rendered", f.name))
            })?;
            names.push((name(&f.name)?, bytes.as_slice()));
        }
        let files: Vec<(&RemoteName, &[u8])> = names.iter().map(|(n, b)| (n, *b)).collect();
        let mut landed = |landed: &RemoteName| {
            let name = landed.as_str();
            if let Some(f) = wave.iter().find(|f| f.name == name) {
                let sha = desired.get(name).map(|b| sha256_hex(b));
                state.files.insert(name.to_owned(), sha);
                let verb = if f.action == Action::Create {
                    "created"
                } else {
                    "updated"
                };
                progress(format!("{verb} {name}"));
                done += 1;
            }
        };
        let result = target.upload_many(&files, stop, &mut landed);
        if let Err(e) = result {
            let _ = write_state(target, &state);
            return Err(e);
        }
        if stop.load(Ordering::SeqCst) {
            write_state(target, &state)?;
            return Ok(Outcome::Interrupted { done });
        }
    }

    // Every file written, checked where it landed: a server that
    // truncated or mangled an upload is caught now, and the state records
    // what is really there.
    let written: Vec<&FileChange> = uploads.clone();
    let wrong = verify(target, &written, desired)?;
    for w in &wrong {
        state.files.insert(w.name.clone(), w.actual.clone());
    }

    for f in changes.iter().filter(|f| f.action == Action::Delete) {
        if stop.load(Ordering::SeqCst) {
            write_state(target, &state)?;
            return Ok(Outcome::Interrupted { done });
        }
        match target.delete(&name(&f.name)?) {
            Ok(()) => {}
            Err(e) if e.cause == Cause::NotFound => {}
            Err(e) => {
                let _ = write_state(target, &state);
                return Err(e);
            }
        }
        state.files.remove(&f.name);
        progress(format!("deleted {}", f.name));
        done += 1;
    }
    // Unchanged files are owned too (files taken over included).
    for f in plan.files.iter().filter(|f| f.action == Action::Unchanged) {
        state.files.insert(f.name.clone(), f.sha256_after.clone());
    }
    if plan.reads.get(STATE_FILE).cloned().flatten() != Some(sha256_hex(&state.to_bytes())) {
        write_state(target, &state)?;
    }
    if !wrong.is_empty() {
        let list: Vec<String> = wrong
            .iter()
            .map(|w| format!("{} ({})", w.name, w.why))
            .collect();
        return Err(RemoteError::new(
            Cause::Refused,
            format!(
                "{} of the files written {} not what was uploaded: {}; the state file records what is there, so the next plan shows it",
                wrong.len(),
                if wrong.len() == 1 { "is" } else { "are" },
                list.join(", ")
            ),
        ));
    }
    Ok(Outcome::Done)
}

/// A file that did not land as written.
struct Mismatch {
    name: String,
    /// Its sha256 on the target, when the server said; `None`: unknown
    /// (only its size was compared) or absent.
    actual: Option<String>,
    why: String,
}

/// Check each written file where it landed (docs/many-sites.md): by the server's
/// hash where it has one, else by its size. A target that offers neither
/// is not checked.
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
        for (n, size) in sizes {
            let want = bytes(&n).len() as u64;
            match size {
                Some(size) if size == want => {}
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
    }
    Ok(wrong)
}

/// Replace the state file atomically.
fn write_state(target: &mut dyn Writer, state: &State) -> Result<(), RemoteError> {
    let file = name(STATE_FILE)?;
    let temp = temp_name(&file)?;
    target.write(&temp, &state.to_bytes())?;
    target.rename(&temp, &file)
}
