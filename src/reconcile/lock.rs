//! The apply lock: a folder at the target root. Creating a folder (MKD) is
//! atomic on common FTP servers and local file systems, so only one apply
//! can hold it; the owner file says who and since when. Anyone with the
//! phones' account can write both, so what the owner file says is printed
//! only made printable and short, and a lock that is not polyops's folder
//! is reported, never trusted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::mask::printable;
use crate::remote::{Cause, Reader, RemoteError, RemoteName, Writer};

pub const LOCK_DIR: &str = ".polyops-lock";
pub const OWNER_FILE: &str = "owner.json";
/// The largest owner file read.
const MAX_OWNER_BYTES: u64 = 64 * 1024;

fn lock_dir() -> RemoteName {
    RemoteName::new(LOCK_DIR).expect("the lock folder's name is a valid name")
}

fn owner_file() -> RemoteName {
    let file = RemoteName::new(OWNER_FILE).expect("the owner file's name is a valid name");
    RemoteName::in_folder(&lock_dir(), &file)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Owner {
    pub host: String,
    pub pid: u32,
    pub user: String,
    pub since: String,
    pub site: String,
    /// Drawn afresh by each apply that takes the lock: how it tells its
    /// own lock from one taken after its own was removed (an older
    /// polyops wrote none).
    #[serde(default)]
    pub token: String,
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
            token: fresh_token(),
        }
    }

    /// "by user@host (pid N) since T", each part as read from the target
    /// made printable and cut to 64 characters.
    pub fn describe(&self) -> String {
        let short = |s: &str| printable(s).chars().take(64).collect::<String>();
        format!(
            "by {}@{} (pid {}) since {}",
            short(&self.user),
            short(&self.host),
            self.pid,
            short(&self.since)
        )
    }
}

/// Who holds a lock that is there.
#[derive(Debug, Clone)]
pub enum Holder {
    Owner(Owner),
    /// The lock folder without a readable owner file.
    Unknown,
    /// A plain file named like the lock folder (not polyops's).
    NotAFolder,
}

impl Holder {
    pub fn describe(&self) -> String {
        match self {
            Holder::Owner(o) => o.describe(),
            Holder::Unknown => {
                "by another apply (its owner file is missing or unreadable)".to_owned()
            }
            Holder::NotAFolder => {
                format!("by a plain file named {LOCK_DIR} (not a lock folder polyops made)")
            }
        }
    }
}

/// A token no other apply draws: the standard library's per-process random
/// hash keys over the time and the process id. Not a secret (the owner
/// file is readable by anyone with the phones' account), only unique.
fn fresh_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(now);
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

pub enum Acquire {
    /// Taken: the owner file written, with this token.
    Acquired(String),
    /// Someone, or something, holds it.
    Held(Holder),
}

/// Take the lock, or say who holds it. If the owner file cannot be
/// written, the lock is removed again before the error is returned.
pub fn acquire(target: &mut dyn Writer, site: &str) -> Result<Acquire, RemoteError> {
    match target.make_dir(&lock_dir()) {
        Ok(()) => {
            let owner = Owner::me(site);
            let bytes = serde_json::to_vec_pretty(&owner).expect("owner always serialises");
            let token = owner.token;
            if let Err(e) = target.write(&owner_file(), &bytes) {
                let _ = target.delete(&owner_file());
                let _ = target.remove_dir(&lock_dir());
                return Err(RemoteError::new(
                    e.cause,
                    format!(
                        "could not write the lock's owner file: {}; if {LOCK_DIR} is left on the target, `polyops unlock` removes it",
                        e.message
                    ),
                ));
            }
            Ok(Acquire::Acquired(token))
        }
        Err(e) => match holder(target)? {
            Some(h) => Ok(Acquire::Held(h)),
            None => Err(e),
        },
    }
}

/// How often a held lock is tried again while [`wait`] waits.
pub const LOCK_POLL: Duration = Duration::from_secs(2);

/// Take the lock, waiting up to `timeout` (`None`: not at all) for one
/// that is held, trying again every [`LOCK_POLL`]; `waiting` hears once
/// whose lock it waits for and how long at most. A signal (`stop`) ends
/// the wait. `Held`: still held when the wait ended.
pub fn wait(
    target: &mut dyn Writer,
    site: &str,
    timeout: Option<Duration>,
    stop: &AtomicBool,
    waiting: &mut dyn FnMut(&Holder, Duration),
) -> Result<Acquire, RemoteError> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut told = false;
    loop {
        let holder = match acquire(target, site)? {
            Acquire::Acquired(token) => return Ok(Acquire::Acquired(token)),
            Acquire::Held(holder) => holder,
        };
        let now = Instant::now();
        match deadline {
            Some(d) if now < d && !stop.load(Ordering::SeqCst) => {
                if !told {
                    told = true;
                    waiting(&holder, d - now);
                }
                std::thread::sleep(LOCK_POLL.min(d - now));
            }
            _ => return Ok(Acquire::Held(holder)),
        }
    }
}

/// `Some` when something named like the lock is at the root.
pub fn holder(target: &mut dyn Reader) -> Result<Option<Holder>, RemoteError> {
    let entry = target
        .list()?
        .into_iter()
        .find(|entry| entry.name.as_str() == LOCK_DIR);
    let Some(entry) = entry else {
        return Ok(None);
    };
    if !entry.is_dir {
        return Ok(Some(Holder::NotAFolder));
    }
    match target.read(&owner_file(), MAX_OWNER_BYTES) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .map(Holder::Owner)
                .unwrap_or(Holder::Unknown),
        )),
        Err(e) if e.cause == Cause::Transient => Err(e),
        Err(_) => Ok(Some(Holder::Unknown)),
    }
}

/// Whether the lock is there and its owner file holds `token` (read by
/// name, whatever a listing shows). A passing failure is an error.
pub fn is_own(target: &mut dyn Reader, token: &str) -> Result<bool, RemoteError> {
    if token.is_empty() {
        return Ok(false);
    }
    match target.read(&owner_file(), MAX_OWNER_BYTES) {
        Ok(bytes) => Ok(serde_json::from_slice::<Owner>(&bytes).is_ok_and(|o| o.token == token)),
        Err(e) if e.cause == Cause::Transient => Err(e),
        Err(_) => Ok(false),
    }
}

/// Remove the lock (ours at the end of an apply, or a stale one by
/// `unlock`, a plain file in its place included). FTP servers answer 550
/// both for "no such file" and "permission denied", so success is judged
/// by the lock being gone afterwards.
pub fn release(target: &mut dyn Writer) -> Result<(), RemoteError> {
    // The owner file and the folder first, then one look at what is left:
    // the end of every apply costs one listing.
    let deleted = match target.delete(&owner_file()) {
        Err(e) if e.cause == Cause::Transient => return Err(e),
        other => other,
    };
    let mut removed = match target.remove_dir(&lock_dir()) {
        Err(e) if e.cause == Cause::Transient => return Err(e),
        other => other,
    };
    let mut left = holder(target)?;
    if let Some(Holder::NotAFolder) = left {
        removed = target.delete(&lock_dir());
        left = holder(target)?;
    }
    if left.is_some() {
        let why = removed.err().or(deleted.err()).map(|e| e.message);
        return Err(RemoteError::new(
            Cause::Refused,
            format!(
                "could not remove the lock folder {LOCK_DIR}{}",
                why.map(|w| format!(": {w}")).unwrap_or_default()
            ),
        ));
    }
    Ok(())
}
