//! Carrying out a plan on a target: uploads to a temporary name renamed
//! into place (a phone never reads a half-written file), referenced files
//! before the `<mac>.cfg` naming them, deletes last. The state file is
//! written before the first change and after the last, so a run cut short
//! anywhere is finished by the next one.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::inputs::sha256_hex;
use crate::plan::{Action, SitePlan};
use crate::render::Rendered;
use crate::state::{State, STATE_FILE};
use crate::target::{Kind, Target, TargetError};

/// Uploads land under `<name>.polyops-tmp` first: not a `.cfg`, so no phone
/// reads it.
pub const TEMP_SUFFIX: &str = ".polyops-tmp";

pub enum Outcome {
    Done,
    /// Stopped by SIGINT/SIGTERM after the file in flight.
    Interrupted {
        done: usize,
        left: usize,
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

    for (done, f) in changes.iter().enumerate() {
        if stop.load(Ordering::SeqCst) {
            write_state(target, &state)?;
            return Ok(Outcome::Interrupted {
                done,
                left: changes.len() - done,
            });
        }
        match f.action {
            Action::Create | Action::Update => {
                let bytes = desired.get(&f.name).ok_or_else(|| {
                    TargetError::new(Kind::Refused, format!("{} is not rendered", f.name))
                })?;
                let temp = format!("{}{TEMP_SUFFIX}", f.name);
                let result = target
                    .write(&temp, bytes)
                    .and_then(|()| target.rename(&temp, &f.name));
                if let Err(e) = result {
                    let _ = target.delete(&temp);
                    let _ = write_state(target, &state);
                    return Err(e);
                }
                state.files.insert(f.name.clone(), Some(sha256_hex(bytes)));
                let verb = if f.action == Action::Create {
                    "created"
                } else {
                    "updated"
                };
                progress(format!("{verb} {}", f.name));
            }
            Action::Delete => {
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
            }
            Action::Unchanged => {}
        }
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
