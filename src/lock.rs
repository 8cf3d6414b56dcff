//! The apply lock: a folder at the target root. Creating a folder (MKD) is
//! atomic on common FTP servers and local file systems, so only one apply
//! can hold it; the owner file says who and since when.

use serde::{Deserialize, Serialize};

use crate::target::{Kind, Target, TargetError};

pub const LOCK_DIR: &str = ".polyops-lock";
pub const OWNER_FILE: &str = ".polyops-lock/owner.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    pub user: String,
    pub since: String,
    pub site: String,
}

impl Owner {
    pub fn me(site: &str) -> Self {
        Owner {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .unwrap_or_else(|_| "unknown".to_owned()),
            since: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            site: site.to_owned(),
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "by {}@{} (pid {}) since {}",
            self.user, self.host, self.pid, self.since
        )
    }
}

pub enum Acquire {
    Acquired,
    /// Someone holds it; their owner file, if it could be read.
    Held(Option<Owner>),
}

/// Take the lock, or say who holds it.
pub fn acquire(target: &mut dyn Target, site: &str) -> Result<Acquire, TargetError> {
    match target.make_dir(LOCK_DIR) {
        Ok(()) => {
            let owner = Owner::me(site);
            let bytes = serde_json::to_vec_pretty(&owner).expect("owner always serialises");
            if let Err(e) = target.write(OWNER_FILE, &bytes) {
                let _ = target.remove_dir(LOCK_DIR);
                return Err(e);
            }
            Ok(Acquire::Acquired)
        }
        Err(e) => match holder(target)? {
            Some(owner) => Ok(Acquire::Held(owner)),
            None => Err(e),
        },
    }
}

/// `Some(owner)` when the lock folder exists (owner `None` if unreadable).
pub fn holder(target: &mut dyn Target) -> Result<Option<Option<Owner>>, TargetError> {
    match target.read(OWNER_FILE) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).ok())),
        Err(e) if e.kind == Kind::NotFound => {
            let exists = target
                .list()?
                .iter()
                .any(|entry| entry.name == LOCK_DIR && entry.is_dir);
            Ok(exists.then_some(None))
        }
        Err(e) => Err(e),
    }
}

/// Remove the lock (ours at the end of an apply, or a stale one by `unlock`).
/// FTP servers answer 550 both for "no such file" and "permission denied",
/// so success is judged by the lock being gone afterwards.
pub fn release(target: &mut dyn Target) -> Result<(), TargetError> {
    let deleted = match target.delete(OWNER_FILE) {
        Err(e) if e.kind != Kind::NotFound => return Err(e),
        other => other,
    };
    let removed = match target.remove_dir(LOCK_DIR) {
        Err(e) if e.kind != Kind::NotFound => return Err(e),
        other => other,
    };
    if holder(target)?.is_some() {
        let why = removed.err().or(deleted.err()).map(|e| e.message);
        return Err(TargetError::new(
            Kind::Refused,
            format!(
                "could not remove the lock folder {LOCK_DIR}{}",
                why.map(|w| format!(": {w}")).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}
