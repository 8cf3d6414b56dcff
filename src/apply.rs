//! Carrying out a plan on a target: uploads to a temporary name renamed
//! into place (a phone never reads a half-written file), referenced files
//! before the `<mac>.cfg` naming them, deletes last. The state file is
//! written before the first change and after the last, so a run cut short
//! anywhere is finished by the next one.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::inputs::sha256_hex;
use crate::model::is_master_config;
use crate::plan::{Action, FileChange, SitePlan};
use crate::render::Rendered;
use crate::state::{State, STATE_FILE};
use crate::target::{Kind, Target, TargetError};

pub use crate::target::TEMP_SUFFIX;

pub enum Outcome {
    Done,
    /// Stopped by SIGINT/SIGTERM after the file in flight.
    Interrupted {
        done: usize,
    },
}

/// Execute `plan` with the bytes of `desired`; `state` is the state as
/// observed. `progress` hears one line per file.
pub fn execute(
    target: &mut dyn Target,
    plan: &SitePlan,
    desired: &Rendered,
    state: &State,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(String),
) -> Result<Outcome, TargetError> {
    target.ensure_root()?;
    // Leftovers of a run that was killed mid-upload.
    for entry in target.list()? {
        if !entry.is_dir && entry.name.ends_with(TEMP_SUFFIX) {
            target.delete(&entry.name)?;
        }
    }

    let mut state = State {
        site: plan.site.clone(),
        files: state.owned().map(|(n, s)| (n.clone(), s.clone())).collect(),
        ..State::new(&plan.site)
    };
    let changes: Vec<_> = plan
        .files
        .iter()
        .filter(|f| f.action != Action::Unchanged)
        .collect();
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
        let mut files = Vec::new();
        for f in &wave {
            let bytes = desired.get(&f.name).ok_or_else(|| {
                TargetError::new(Kind::Refused, format!("{} is not rendered", f.name))
            })?;
            files.push((f.name.as_str(), bytes.as_slice()));
        }
        let mut landed = |name: &str| {
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

    for f in changes.iter().filter(|f| f.action == Action::Delete) {
        if stop.load(Ordering::SeqCst) {
            write_state(target, &state)?;
            return Ok(Outcome::Interrupted { done });
        }
        match target.delete(&f.name) {
            Ok(()) => {}
            Err(e) if e.kind == Kind::NotFound => {}
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
    Ok(Outcome::Done)
}

/// Replace the state file atomically.
fn write_state(target: &mut dyn Target, state: &State) -> Result<(), TargetError> {
    let temp = format!("{STATE_FILE}{TEMP_SUFFIX}");
    target.write(&temp, &state.to_bytes())?;
    target.rename(&temp, STATE_FILE)
}
