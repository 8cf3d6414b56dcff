//! Sessions a target no longer needs, kept for the next target of the
//! same server, account and access in this process: sites that share a
//! server (a folder each, as a hosted provisioning server has them) log
//! in once between them, not once per site. A login is the costliest
//! thing many servers do (a process or two, a password hash); a session
//! taken from here costs one round trip, to change folders.
//!
//! Only sessions that can be trusted to be in step are kept: plain ones,
//! to a server that reads one command at a time, that never failed (so no
//! reply can be left unread) and whose login said where it started. The
//! folder is set again from there before the session is used.

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};
use suppaftp::FtpStream;

use super::watchdog::Watchdog;
use super::Learnt;
use crate::remote::Access;

/// The most sessions kept: `--parallel` sites at a time, a few sessions
/// each.
const MAX_IDLE: usize = 64;

/// Whose sessions may serve whom.
#[derive(Clone, PartialEq, Eq)]
pub struct Key {
    pub addr: SocketAddr,
    pub user: String,
    /// The password's sha256: the same account, without a second copy of
    /// the password.
    password: [u8; 32],
    /// A read-only target never gets a session that may write, nor the
    /// other way round.
    pub access: Access,
}

impl Key {
    pub fn new(addr: SocketAddr, user: &str, password: &str, access: Access) -> Self {
        Key {
            addr,
            user: user.to_owned(),
            password: Sha256::digest(password.as_bytes()).into(),
            access,
        }
    }
}

/// A logged-in session between two targets.
pub struct Idle {
    pub key: Key,
    pub conn: FtpStream,
    pub watchdog: Watchdog,
    pub server: Learnt,
    /// Where the login started (the reply to PWD): folders are changed
    /// from there.
    pub home: String,
}

static IDLE: Mutex<Vec<Idle>> = Mutex::new(Vec::new());

fn idle() -> MutexGuard<'static, Vec<Idle>> {
    // A panic while holding this lock leaves a list, whole.
    IDLE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Keep `session` for later; it is given back when enough are kept
/// already.
pub fn park(session: Idle) -> Option<Idle> {
    let mut list = idle();
    if list.len() >= MAX_IDLE {
        return Some(session);
    }
    list.push(session);
    None
}

/// A session kept for `key`, the most recently parked first.
pub fn take(key: &Key) -> Option<Idle> {
    let mut list = idle();
    let i = list.iter().rposition(|s| &s.key == key)?;
    Some(list.remove(i))
}
