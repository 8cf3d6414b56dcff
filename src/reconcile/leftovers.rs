//! What an apply must not leave on its target when it fails: the
//! temporary names it wrote and its lock (docs/apply.md "A failed apply").
//! Its sessions may have died with it, so the caller runs [`clear`] on a
//! fresh one; and only while the lock is still its own, so that it never
//! removes what another apply, started after an `unlock`, is writing.

use std::collections::BTreeSet;

use crate::reconcile::lock::{self, Holder};
use crate::reconcile::plan::Plan;
use crate::reconcile::state::STATE_FILE;
use crate::remote::{temp_name, Cause, RemoteError, RemoteName, Writer};

/// The temporary names a run of `plan` may write: one per upload, and the
/// state file's.
pub fn temporaries(plan: &Plan) -> Vec<RemoteName> {
    plan.changes()
        .filter(|f| f.action.uploads())
        .map(|f| f.name.as_str())
        .chain([STATE_FILE])
        .filter_map(|n| RemoteName::new(n).ok())
        .filter_map(|n| temp_name(&n).ok())
        .collect()
}

/// What [`clear`] did.
#[derive(Debug)]
pub enum Cleared {
    /// The lock released, after these temporary names were removed; those
    /// that could not be removed are named in `kept` (with why).
    Released { removed: usize, kept: Vec<String> },
    /// The lock is not this apply's any more (`None`: there is none):
    /// nothing was touched.
    NotOurs(Option<Holder>),
}

/// Remove `temps` that the listing shows, then release the lock, when the
/// lock's owner file carries `token`. A passing failure is returned (the
/// caller tries again on another session); a temporary name the server
/// refuses to remove is kept and named, and the lock released all the
/// same: the next apply removes its leftovers.
pub fn clear(
    target: &mut dyn Writer,
    token: &str,
    temps: &[RemoteName],
) -> Result<Cleared, RemoteError> {
    if !lock::is_own(target, token)? {
        return Ok(Cleared::NotOurs(lock::holder(target)?));
    }
    let entries = target.list()?;
    let listed: BTreeSet<&str> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.name.as_str())
        .collect();
    let mut removed = 0;
    let mut kept = Vec::new();
    for temp in temps.iter().filter(|t| listed.contains(t.as_str())) {
        match target.delete(temp) {
            Ok(()) => removed += 1,
            Err(e) if e.cause == Cause::Transient => return Err(e),
            Err(e) if e.cause == Cause::NotFound => {}
            Err(e) => kept.push(format!("{temp} ({})", e.message)),
        }
    }
    lock::release(target)?;
    Ok(Cleared::Released { removed, kept })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::lock::{acquire, Acquire, LOCK_DIR};
    use crate::remote::dir::DirRemote;

    fn name(n: &str) -> RemoteName {
        RemoteName::new(n).expect("a valid name")
    }

    #[test]
    fn a_failed_apply_removes_its_temporary_names_and_its_own_lock_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut target = DirRemote::new(dir.path().to_path_buf());
        let Acquire::Acquired(token) = acquire(&mut target, "hq").expect("lock") else {
            panic!("the lock is free");
        };
        for n in ["201.cfg.polyops-tmp", "notes.polyops-tmp", "201.cfg"] {
            std::fs::write(dir.path().join(n), "x").expect("write");
        }
        let temps = [name("201.cfg.polyops-tmp"), name("202.cfg.polyops-tmp")];
        // Another apply's lock, taken after ours was removed: not touched.
        assert!(matches!(
            clear(&mut target, "another token", &temps),
            Ok(Cleared::NotOurs(Some(_)))
        ));
        assert!(dir.path().join(LOCK_DIR).exists());
        assert!(dir.path().join("201.cfg.polyops-tmp").exists());
        let cleared = clear(&mut target, &token, &temps).expect("cleared");
        assert!(
            matches!(&cleared, Cleared::Released { removed: 1, kept } if kept.is_empty()),
            "{cleared:?}"
        );
        assert!(!dir.path().join(LOCK_DIR).exists());
        assert!(!dir.path().join("201.cfg.polyops-tmp").exists());
        assert!(dir.path().join("notes.polyops-tmp").exists());
        assert!(dir.path().join("201.cfg").exists());
        assert!(matches!(
            clear(&mut target, &token, &temps),
            Ok(Cleared::NotOurs(None))
        ));
    }
}
