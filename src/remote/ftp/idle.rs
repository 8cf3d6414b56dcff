//! Sessions a target no longer needs, kept for the next target of the
//! same server, account and access in this process: sites that share a
//! server (a folder each, as a hosted provisioning server has them) log
//! in once between them, not once per site. A login is the costliest
//! thing many servers do (a process or two, a password hash); a session
//! taken from here costs one round trip, to change folders.
//!
//! A parked session keeps its seat at its server's gate (see
//! `admission`): it is still logged in. It is closed when a session of
//! another account needs its seat, or the server refused a login.
//!
//! Only sessions that can be trusted to be in step are kept: plain ones,
//! to a server that reads one command at a time, that never failed (so no
//! reply can be left unread) and whose login said where it started. The
//! folder is set again from there before the session is used.

use std::net::SocketAddr;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use suppaftp::FtpStream;

use super::admission::{Gate, Gates, Parked};
use super::watchdog::Watchdog;
use super::ServerProfile;
use crate::remote::Access;

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
    /// A TLS target never gets a plain session.
    pub tls: bool,
}

impl Key {
    pub fn new(addr: SocketAddr, user: &str, password: &str, access: Access, tls: bool) -> Self {
        Key {
            addr,
            user: user.to_owned(),
            password: Sha256::digest(password.as_bytes()).into(),
            access,
            tls,
        }
    }
}

/// A logged-in session between two targets.
pub struct Idle {
    pub key: Key,
    pub conn: FtpStream,
    pub watchdog: Watchdog,
    pub server: ServerProfile,
    /// Where the login started (the reply to PWD): folders are changed
    /// from there.
    pub home: String,
}

impl Parked for Idle {
    type Key = Key;
    fn key(&self) -> &Key {
        &self.key
    }
}

/// The gate of each server this process talks to: its seats, and the
/// sessions parked there (see `admission`).
pub static GATES: Gates<Idle> = Gates::new();

/// The gate of the server at `addr`.
pub fn gate(addr: SocketAddr) -> Arc<Gate<Idle>> {
    GATES.of(addr)
}
