//! Where the phones' files live. A backend only reads and changes files at
//! its root; planning, ordering and safety live above it (`plan`, `apply`).

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::site::model::{Site, TargetUrl};
use crate::site::secret::{Secret, SecretStore};

pub mod dir;
pub mod ftp;
pub mod traces;

pub use crate::site::name::{RemoteName, TEMP_SUFFIX};
pub use traces::{TraceRequest, Traces};

/// Why a target operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The file or folder does not exist.
    NotFound,
    /// The server refused (permissions, already exists, bad name…).
    Refused,
    /// The connection or the server failed; another try may work.
    Transient,
}

#[derive(Debug, Clone)]
pub struct RemoteError {
    pub cause: Cause,
    pub message: String,
}

impl RemoteError {
    pub fn new(cause: Cause, message: impl Into<String>) -> Self {
        Self {
            cause,
            message: message.into(),
        }
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type RemoteResult<T> = Result<T, RemoteError>;

/// File name → sha256 computed by the server (`None`: the file is absent).
pub type Hashes = Vec<(RemoteName, Option<String>)>;
/// Files and their sizes, `None` for a file that is absent.
pub type Sizes = Vec<(RemoteName, Option<u64>)>;

/// One entry at the target root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: RemoteName,
    pub is_dir: bool,
}

/// Bytes of a file kept whole for a diff or an override check; a larger
/// file is read to its end for its hash, and only its size is kept.
pub const KEEP_BYTES: usize = 1024 * 1024;
/// The largest file polyops reads from a target at all (firmware images
/// are a few MiB): anything larger is an error, not a download without end.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;
/// The largest state file or lock owner file polyops reads (a 7,000-phone
/// site's state is about 1.3 MB).
pub const MAX_STATE_BYTES: u64 = 32 * 1024 * 1024;

/// A file read from a target: its sha256 and size, and its bytes when it
/// is no larger than [`KEEP_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub sha256: String,
    pub size: u64,
    pub bytes: Option<Vec<u8>>,
}

/// Takes a file's bytes as they arrive: hashes all of them, keeps the first
/// [`KEEP_BYTES`] while it is no larger, and refuses to go past `max`.
pub struct Sink {
    hasher: Sha256,
    size: u64,
    kept: Option<Vec<u8>>,
    keep: usize,
    max: u64,
}

impl Sink {
    /// `keep`: the bytes kept whole; `max`: the most accepted at all.
    pub fn new(keep: usize, max: u64) -> Self {
        Self {
            hasher: Sha256::new(),
            size: 0,
            kept: Some(Vec::new()),
            keep,
            max,
        }
    }

    /// Take the next bytes; `Err` once the file is larger than `max`.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        self.size += chunk.len() as u64;
        if self.size > self.max {
            return Err(format!("larger than {} MiB", self.max / (1024 * 1024)));
        }
        self.hasher.update(chunk);
        if let Some(kept) = &mut self.kept {
            if kept.len() + chunk.len() > self.keep {
                self.kept = None;
            } else {
                kept.extend_from_slice(chunk);
            }
        }
        Ok(())
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Fetched {
        Fetched {
            sha256: hex(&self.hasher.finalize()),
            size: self.size,
            bytes: self.kept,
        }
    }

    /// Read `reader` to its end into the sink; `progress` hears the size
    /// so far after each read.
    pub fn drain(
        &mut self,
        reader: &mut dyn std::io::Read,
        progress: &mut dyn FnMut(u64),
    ) -> std::io::Result<()> {
        // On the stack: a buffer on the heap, zeroed for every file, cost
        // more than reading most files does.
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.push(&buf[..n])
                .map_err(|m| std::io::Error::new(std::io::ErrorKind::FileTooLarge, m))?;
            progress(self.size);
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What `plan`, `drift` and `explain` may do with a target: read. The
/// handle they get has no method that writes, and the FTP backend opened
/// for them refuses every changing command on the wire as well.
pub trait Reader {
    /// The entries at the root. A name that cannot be a [`RemoteName`] (and
    /// on a `dir:` target a symbolic link) is left out and counted in
    /// [`Stats::refused_names`].
    fn list(&mut self) -> RemoteResult<Vec<Entry>>;
    /// A small file's bytes (the state file, the lock's owner file):
    /// an error if it is larger than `max`.
    fn read(&mut self, name: &RemoteName, max: u64) -> RemoteResult<Vec<u8>>;
    /// Several files, leaving out those that do not exist; each is hashed
    /// whole and kept only up to [`KEEP_BYTES`]. Backends may fetch them in
    /// parallel.
    fn read_many(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<(RemoteName, Fetched)>>;
    /// sha256 of each file, computed by the server without a transfer
    /// (`None` in a pair: the file is absent). `Ok(None)`: not supported.
    fn hash_many(&mut self, _names: &[RemoteName]) -> RemoteResult<Option<Hashes>> {
        Ok(None)
    }
    /// Each file's size in bytes as the server reports it (`None` in a
    /// pair: the file is absent). `Ok(None)`: not supported.
    fn sizes_many(&mut self, _names: &[RemoteName]) -> RemoteResult<Option<Sizes>> {
        Ok(None)
    }
    /// What observing a site needs first, which backends may fetch all at
    /// once (a far server then costs its round trips once, not once per
    /// step): the file `state` (up to `max_state` bytes; `None` if it does
    /// not exist), the listing, each of `wanted` that exists (hashed by
    /// the server where it can, else read; asked for by name where there
    /// is a state file, else only if the listing shows it), and each of
    /// `if_listed` that the listing shows, read.
    fn survey(
        &mut self,
        state: &RemoteName,
        max_state: u64,
        wanted: &[RemoteName],
        if_listed: &[RemoteName],
    ) -> RemoteResult<Survey> {
        let state = match self.read(state, max_state) {
            Ok(b) => Some(b),
            Err(e) if e.cause == Cause::NotFound => None,
            Err(e) => return Err(e),
        };
        let entries = self.list()?;
        let listed: std::collections::BTreeSet<&str> = entries
            .iter()
            .filter(|e| !e.is_dir)
            .map(|e| e.name.as_str())
            .collect();
        let shown = |names: &[RemoteName]| -> Vec<RemoteName> {
            names
                .iter()
                .filter(|n| listed.contains(n.as_str()))
                .cloned()
                .collect()
        };
        let (to_ask, if_listed) = (
            if state.is_some() {
                wanted.to_vec()
            } else {
                shown(wanted)
            },
            shown(if_listed),
        );
        let wanted = match self.hash_many(&to_ask)? {
            Some(hashes) => Found::Hashed(hashes),
            None => Found::Read(self.read_many(&to_ask)?),
        };
        let listed = self.read_many(&if_listed)?;
        Ok(Survey {
            state,
            entries,
            wanted,
            listed,
        })
    }
    /// What the phones left on the root (docs/phones.md), in one survey
    /// that backends may run all at once: the listing with what it says
    /// of each entry, the server's time of each of `request.timed` that
    /// exists, and the last bytes of each of `request.tails` the listing
    /// shows as a plain file (see [`TraceRequest`]). `Ok(None)`: this
    /// backend cannot tell files' times.
    fn traces(&mut self, _request: &TraceRequest<'_>) -> RemoteResult<Option<Traces>> {
        Ok(None)
    }
    /// What observing cost: for `--verbose` and the benchmarks.
    fn stats(&self) -> Stats {
        Stats::default()
    }
    /// A count of the files read or hashed so far, for progress.
    fn counter(&self) -> Arc<AtomicUsize>;
}

/// What [`Reader::survey`] found.
#[derive(Debug, Clone)]
pub struct Survey {
    /// The state file's bytes; `None` when there is none.
    pub state: Option<Vec<u8>>,
    pub entries: Vec<Entry>,
    /// The wanted files that exist.
    pub wanted: Found,
    /// The `if_listed` files the listing shows, read.
    pub listed: Vec<(RemoteName, Fetched)>,
}

/// Files found: hashed by the server (`None` for a file that is absent),
/// or read (only those that exist).
#[derive(Debug, Clone)]
pub enum Found {
    Hashed(Hashes),
    Read(Vec<(RemoteName, Fetched)>),
}

/// A provisioning root polyops may change: `apply` and `unlock` only.
/// Names are relative to the root; a name may hold one `/` only below
/// polyops's own lock folder.
pub trait Writer: Reader {
    /// Create or overwrite a file (not atomic: callers write a temporary
    /// name and `rename` it).
    fn write(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()>;
    /// Rename, replacing `to` if it exists.
    fn rename(&mut self, from: &RemoteName, to: &RemoteName) -> RemoteResult<()>;
    fn delete(&mut self, name: &RemoteName) -> RemoteResult<()>;
    /// Create a folder; fails with `Refused` if it exists (this is the lock).
    fn make_dir(&mut self, name: &RemoteName) -> RemoteResult<()>;
    fn remove_dir(&mut self, name: &RemoteName) -> RemoteResult<()>;
    /// Make sure the root exists (a `dir:` target is created on first apply).
    fn ensure_root(&mut self) -> RemoteResult<()> {
        Ok(())
    }
    /// Upload each file under a temporary name and rename it into place, so
    /// no phone reads a half-written file; backends may run several at once.
    /// Stops starting new files once `stop` is set; `done` hears each file
    /// that landed.
    fn upload_many(
        &mut self,
        files: &[(&RemoteName, &[u8])],
        stop: &AtomicBool,
        done: &mut dyn FnMut(&RemoteName),
    ) -> RemoteResult<()> {
        for (name, bytes) in files {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            upload_one(self, name, bytes)?;
            done(name);
        }
        Ok(())
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
    /// Names in listings that cannot be a [`RemoteName`] (control
    /// characters, path separators…) or are symbolic links on a `dir:`
    /// target (`x.cfg (a symbolic link)`), left out; printable (a `dir:`
    /// target shows unprintable characters as escapes, so that none reads
    /// as a valid name).
    pub refused_names: Vec<String>,
}

/// The temporary name an upload of `name` lands under.
pub fn temp_name(name: &RemoteName) -> RemoteResult<RemoteName> {
    RemoteName::new(&format!("{name}{TEMP_SUFFIX}")).map_err(|why| {
        RemoteError::new(
            Cause::Refused,
            format!("{name} has no temporary name: {why}"),
        )
    })
}

/// Write `name` atomically: temporary name, then rename over the final one.
pub fn upload_one<T: Writer + ?Sized>(
    target: &mut T,
    name: &RemoteName,
    bytes: &[u8],
) -> RemoteResult<()> {
    let temp = temp_name(name)?;
    let result = target
        .write(&temp, bytes)
        .and_then(|()| target.rename(&temp, name));
    if result.is_err() {
        let _ = target.delete(&temp);
    }
    result
}

/// A listing's names: the valid ones as entries, the others made printable
/// for a warning (their unprintable characters dropped).
pub fn checked_entries(raw: impl IntoIterator<Item = (String, bool)>) -> (Vec<Entry>, Vec<String>) {
    checked_entries_shown(raw, crate::mask::printable)
}

/// A listing's names: the valid ones as entries, the others as `shown`
/// makes them for a warning; with [`crate::mask::escaped`], a refused name
/// never reads as a valid one (`20\x0d2.cfg`, not `202.cfg`).
pub fn checked_entries_shown(
    raw: impl IntoIterator<Item = (String, bool)>,
    shown: fn(&str) -> String,
) -> (Vec<Entry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut refused = Vec::new();
    for (name, is_dir) in raw {
        match RemoteName::new(&name) {
            Ok(name) => entries.push(Entry { name, is_dir }),
            Err(_) => refused.push(shown(&name)),
        }
    }
    (entries, refused)
}

/// Whether a target is opened to read only (`plan`, `drift`) or to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
}

/// Open a site's target to read only: the handle has no method that
/// writes, and an FTP connection opened so refuses STOR, APPE, DELE, RNFR,
/// RNTO, MKD, RMD and SITE on the wire too.
pub fn open_reader(
    site: &Site,
    store: &SecretStore,
    connections: Option<usize>,
) -> Result<Box<dyn Reader + Send>, Error> {
    Ok(match backend(site, store, connections, Access::ReadOnly)? {
        Backend::Dir(d) => Box::new(d),
        Backend::Ftp(f) => f,
    })
}

/// Open a site's target to change it. FTP targets connect and log in here;
/// `connections` caps the parallel FTP connections (`None`: the default).
pub fn open(
    site: &Site,
    store: &SecretStore,
    connections: Option<usize>,
) -> Result<Box<dyn Writer + Send>, Error> {
    Ok(
        match backend(site, store, connections, Access::ReadWrite)? {
            Backend::Dir(d) => Box::new(d),
            Backend::Ftp(f) => f,
        },
    )
}

enum Backend {
    Dir(dir::DirRemote),
    Ftp(Box<ftp::FtpRemote>),
}

fn backend(
    site: &Site,
    store: &SecretStore,
    connections: Option<usize>,
    access: Access,
) -> Result<Backend, Error> {
    Ok(match &site.target.url {
        TargetUrl::Dir(path) => Backend::Dir(dir::DirRemote::new(path.clone())),
        TargetUrl::Ftp { .. } => {
            Backend::Ftp(Box::new(open_ftp(site, store, connections, access)?))
        }
    })
}

/// The FTP password of a site (the factory default when none is set).
pub fn ftp_password(site: &Site, store: &SecretStore) -> Result<Secret, Error> {
    match &site.target.password {
        None => Ok(Secret::new("PlcmSpIp")),
        Some(r) => store.resolve(r).map_err(|detail| Error::Secret {
            site: site.name.clone(),
            field: "target.password".to_owned(),
            detail,
        }),
    }
}

fn open_ftp(
    site: &Site,
    store: &SecretStore,
    connections: Option<usize>,
    access: Access,
) -> Result<ftp::FtpRemote, Error> {
    let password = ftp_password(site, store)?;
    ftp::FtpRemote::connect(&site.target, &password, connections, access).map_err(|e| {
        // A server may echo what it was sent, the password included, and
        // say anything else: its words pass the masker before printing.
        let masker = crate::mask::Masker::new([password.expose().to_owned()]);
        Error::remote(site, masker.clean(&e.message))
    })
}

/// Open a provisioning root that no site file names yet (`import`) to
/// read only, like [`open_reader`]: the handle has no method that writes,
/// and an FTP connection refuses every changing command on the wire.
pub fn open_reader_at(
    target: &crate::site::model::Target,
    password: &Secret,
    connections: Option<usize>,
) -> RemoteResult<Box<dyn Reader + Send>> {
    Ok(match &target.url {
        TargetUrl::Dir(path) => Box::new(dir::DirRemote::new(path.clone())),
        TargetUrl::Ftp { .. } => Box::new(ftp::FtpRemote::connect(
            target,
            password,
            connections,
            Access::ReadOnly,
        )?),
    })
}
