//! Where the phones' files live. A backend only reads and changes files at
//! its root; planning, ordering and safety live above it (`plan`, `apply`).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::model::{Site, TargetUrl};
use crate::secret::{Secret, SecretStore};

pub mod dir;
pub mod ftp;

/// Why a target operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The file or folder does not exist.
    NotFound,
    /// The server refused (permissions, already exists, bad name…).
    Refused,
    /// The connection or the server failed; another try may work.
    Transient,
}

#[derive(Debug, Clone)]
pub struct TargetError {
    pub kind: Kind,
    pub message: String,
}

impl TargetError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type TResult<T> = Result<T, TargetError>;

/// File name → sha256 computed by the server (`None`: the file is absent).
pub type Hashes = Vec<(String, Option<String>)>;

/// One entry at the target root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub is_dir: bool,
}

/// A provisioning root. Names are relative to it; a name may hold one `/`
/// only below polyops's own lock folder.
pub trait Target {
    /// The entries at the root.
    fn list(&mut self) -> TResult<Vec<Entry>>;
    /// A file's bytes.
    fn read(&mut self, name: &str) -> TResult<Vec<u8>>;
    /// Several files' bytes, leaving out those that do not exist;
    /// backends may fetch them in parallel.
    fn read_many(&mut self, names: &[String]) -> TResult<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        for n in names {
            match self.read(n) {
                Ok(b) => out.push((n.clone(), b)),
                Err(e) if e.kind == Kind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
    /// Create or overwrite a file (not atomic: callers write a temporary
    /// name and `rename` it).
    fn write(&mut self, name: &str, bytes: &[u8]) -> TResult<()>;
    /// Rename, replacing `to` if it exists.
    fn rename(&mut self, from: &str, to: &str) -> TResult<()>;
    fn delete(&mut self, name: &str) -> TResult<()>;
    /// Create a folder; fails with `Refused` if it exists (this is the lock).
    fn make_dir(&mut self, name: &str) -> TResult<()>;
    fn remove_dir(&mut self, name: &str) -> TResult<()>;
    /// Work on many files follows: a backend that spreads it over several
    /// sessions may start opening another now.
    fn expect_many(&mut self) {}
    /// Make sure the root exists (a `dir:` target is created on first apply).
    fn ensure_root(&mut self) -> TResult<()> {
        Ok(())
    }
    /// sha256 of each file, computed by the server without a transfer
    /// (`None` in a pair: the file is absent). `Ok(None)`: not supported.
    fn hash_many(&mut self, _names: &[String]) -> TResult<Option<Hashes>> {
        Ok(None)
    }
    /// `list` and `hash_many(names)` at once; backends may run them side
    /// by side. `names` may include files that do not exist.
    fn list_and_hash(&mut self, names: &[String]) -> TResult<(Vec<Entry>, Option<Hashes>)> {
        let entries = self.list()?;
        Ok((entries, self.hash_many(names)?))
    }
    /// Upload each file under a temporary name and rename it into place, so
    /// no phone reads a half-written file; backends may run several at once.
    /// Stops starting new files once `stop` is set; `done` hears each file
    /// that landed.
    fn upload_many(
        &mut self,
        files: &[(&str, &[u8])],
        stop: &AtomicBool,
        done: &mut dyn FnMut(&str),
    ) -> TResult<()> {
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            upload_one(self, name, bytes)?;
            done(name);
        }
        Ok(())
    }
    /// What observing cost: for `--verbose` and the benchmarks.
    fn stats(&self) -> Stats {
        Stats::default()
    }
}

/// Counts of the work a target did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections: usize,
    pub downloads: usize,
    pub hashes: usize,
    pub uploads: usize,
    /// Why each operation that failed for a passing cause (a reset
    /// connection, a 421/425/426/450 reply) and was run again on a fresh
    /// login failed.
    pub retries: Vec<String>,
    /// The server's reply to a listing said it left names out (pure-ftpd
    /// stops at 10,000 by default: "226 Output truncated to 10000 matches").
    pub listing_cut: Option<String>,
}

/// Uploads land under `<name>.polyops-tmp` first: not a `.cfg`, so no phone
/// reads it.
pub const TEMP_SUFFIX: &str = ".polyops-tmp";

/// Write `name` atomically: temporary name, then rename over the final one.
pub fn upload_one<T: Target + ?Sized>(target: &mut T, name: &str, bytes: &[u8]) -> TResult<()> {
    let temp = format!("{name}{TEMP_SUFFIX}");
    let result = target
        .write(&temp, bytes)
        .and_then(|()| target.rename(&temp, name));
    if result.is_err() {
        let _ = target.delete(&temp);
    }
    result
}

/// Open a site's target. FTP targets connect and log in here;
/// `connections` caps the parallel FTP connections (`None`: the default).
pub fn open(
    site: &Site,
    store: &SecretStore,
    connections: Option<usize>,
) -> Result<Box<dyn Target + Send>, Error> {
    match &site.target.url {
        TargetUrl::Dir(path) => Ok(Box::new(dir::DirTarget::new(path.clone()))),
        TargetUrl::Ftp { .. } => {
            let password = match &site.target.password {
                None => Secret::new("PlcmSpIp"),
                Some(r) => store.resolve(r).map_err(|detail| Error::Secret {
                    site: site.name.clone(),
                    field: "target.password".to_owned(),
                    detail,
                })?,
            };
            let t = ftp::FtpTarget::connect(&site.target, &password, connections).map_err(|e| {
                Error::Target {
                    site: site.name.clone(),
                    target: site.target.display.clone(),
                    message: e.message,
                }
            })?;
            Ok(Box::new(t))
        }
    }
}
