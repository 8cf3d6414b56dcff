//! `dir:` targets: a local folder standing in for the FTP root. Like an
//! FTP server that keeps its users inside their root, it follows no
//! symbolic link there: a link at the root is left out of the listing with
//! a warning, never read, and nothing is written through one (a name below
//! the lock folder included).

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::traces::{self, Fact, Kind, Precision, Stamp, Tail, TimeSource};
use super::{
    checked_entries_shown, Cause, Entry, Fetched, Reader, RemoteError, RemoteName, RemoteResult,
    Sink, Sizes, Stats, TraceRequest, Traces, Writer, KEEP_BYTES, MAX_FILE_BYTES,
};

pub struct DirRemote {
    root: PathBuf,
    stats: Stats,
    counter: Arc<AtomicUsize>,
}

impl DirRemote {
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            stats: Stats::default(),
            counter: Arc::default(),
        }
    }

    /// The path of `name`, refused when a folder on the way to it is a
    /// symbolic link (a name holds a `/` only below the lock folder).
    fn path(&self, name: &RemoteName) -> RemoteResult<PathBuf> {
        let mut path = self.root.clone();
        let mut segments = name.as_str().split('/').peekable();
        while let Some(segment) = segments.next() {
            path.push(segment);
            if segments.peek().is_some() && is_link(&path) {
                return Err(link(&path));
            }
        }
        Ok(path)
    }

    /// Read `name` through a sink that keeps `keep` bytes and refuses more
    /// than `max`.
    fn fetch(&mut self, name: &RemoteName, keep: usize, max: u64) -> RemoteResult<Fetched> {
        let p = self.path(name)?;
        let mut file = open_plain(&p)?;
        let mut sink = Sink::new(keep, max);
        sink.drain(&mut file, &mut |_| {})
            .map_err(|e| err("error reading", &p, e))?;
        self.stats.downloads += 1;
        self.counter.fetch_add(1, Ordering::Relaxed);
        Ok(sink.finish())
    }
}

fn err(op: &str, path: &std::path::Path, e: std::io::Error) -> RemoteError {
    let kind = match e.kind() {
        ErrorKind::NotFound => Cause::NotFound,
        _ => Cause::Refused,
    };
    RemoteError::new(kind, format!("{op} {}: {e}", path.display()))
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A link is not a file of this target, as a file outside an FTP
/// server's root is not one of its files: absent, and said why.
fn link(path: &Path) -> RemoteError {
    RemoteError::new(
        Cause::NotFound,
        format!(
            "{} is a symbolic link, which a dir: target does not follow",
            path.display()
        ),
    )
}

/// Open `path` to read, refusing a symbolic link; the file opened must be
/// the one looked at (a link put in its place meanwhile is refused too).
fn open_plain(path: &Path) -> RemoteResult<File> {
    let seen = std::fs::symlink_metadata(path).map_err(|e| err("error reading", path, e))?;
    if seen.file_type().is_symlink() {
        return Err(link(path));
    }
    let file = File::open(path).map_err(|e| err("error reading", path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata().map_err(|e| err("error reading", path, e))?;
        if (opened.dev(), opened.ino()) != (seen.dev(), seen.ino()) {
            return Err(link(path));
        }
    }
    Ok(file)
}

impl Reader for DirRemote {
    fn list(&mut self) -> RemoteResult<Vec<Entry>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            // A folder that does not exist yet is an empty target.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err("error listing", &self.root, e)),
        };
        let mut raw = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| err("error listing", &self.root, e))?;
            // The type of the entry itself: a link is not followed.
            let kind = entry
                .file_type()
                .map_err(|e| err("error listing", &entry.path(), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_symlink() {
                self.stats
                    .refused_names
                    .push(format!("{} (a symbolic link)", crate::mask::escaped(&name)));
                continue;
            }
            raw.push((name, kind.is_dir()));
        }
        let (entries, refused) = checked_entries_shown(raw, crate::mask::escaped);
        self.stats.refused_names.extend(refused);
        Ok(entries)
    }

    fn read(&mut self, name: &RemoteName, max: u64) -> RemoteResult<Vec<u8>> {
        let limit = usize::try_from(max).unwrap_or(usize::MAX);
        let fetched = self.fetch(name, limit, max)?;
        fetched.bytes.ok_or_else(|| {
            RemoteError::new(Cause::Refused, format!("{name} is larger than {max} bytes"))
        })
    }

    fn read_many(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<(RemoteName, Fetched)>> {
        let mut out = Vec::new();
        for n in names {
            match self.fetch(n, KEEP_BYTES, MAX_FILE_BYTES) {
                Ok(f) => out.push((n.clone(), f)),
                Err(e) if e.cause == Cause::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    fn sizes_many(&mut self, names: &[RemoteName]) -> RemoteResult<Option<Sizes>> {
        let mut out = Vec::new();
        for n in names {
            let path = self.path(n)?;
            let size = match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_symlink() => None,
                Ok(m) => Some(m.len()),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(err("error reading", &path, e)),
            };
            out.push((n.clone(), size));
        }
        Ok(Some(out))
    }

    /// The folder's entries as the file system has them (a link is a
    /// link, never followed), each plain file's time to the second (a
    /// link has none: like every other name, it is not followed), and
    /// tails read from files that are still the plain file the listing
    /// showed when opened.
    fn traces(&mut self, request: &TraceRequest<'_>) -> RemoteResult<Option<Traces>> {
        let facts = self.facts()?;
        let mut times = Vec::new();
        for name in request.timed {
            let path = self.path(name)?;
            let meta = std::fs::symlink_metadata(&path);
            if meta.as_ref().is_ok_and(|m| m.file_type().is_symlink()) {
                continue;
            }
            match meta.and_then(|m| m.modified()) {
                Ok(t) => times.push((
                    name.clone(),
                    Stamp::new(crate::clock::seconds_of(t), Precision::Second),
                )),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(err("error reading the time of", &path, e)),
            }
        }
        let mut tails = Vec::new();
        for name in request.tails {
            let Some(fact) = facts.iter().find(|f| &f.name == name) else {
                continue;
            };
            let tail = match traces::unreadable(fact, request) {
                Some(why) => Tail::Unreadable(why),
                None => self.tail(name, request)?,
            };
            tails.push((name.clone(), tail));
        }
        Ok(Some(Traces {
            facts,
            times,
            source: TimeSource::FileSystem,
            tails,
        }))
    }

    fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.counter)
    }
}

impl DirRemote {
    /// Every entry of the folder with its kind, size and time; a link is
    /// reported as a link (the listing leaves links out, but a phone's
    /// log that is a link is to be called unreadable, not absent).
    fn facts(&mut self) -> RemoteResult<Vec<Fact>> {
        let mut names: Vec<RemoteName> = self.list()?.into_iter().map(|e| e.name).collect();
        names.extend(self.links()?);
        let mut facts = Vec::new();
        for name in names {
            let path = self.path(&name)?;
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                // Gone since the listing.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(err("error reading", &path, e)),
            };
            let t = meta.file_type();
            let kind = if t.is_symlink() {
                Kind::Link
            } else if t.is_file() {
                Kind::File
            } else if t.is_dir() {
                Kind::Dir
            } else {
                Kind::Other
            };
            facts.push(Fact {
                name,
                kind,
                size: Some(meta.len()),
                modified: meta
                    .modified()
                    .ok()
                    .map(|t| Stamp::new(crate::clock::seconds_of(t), Precision::Second)),
            });
        }
        Ok(facts)
    }

    /// The names of the symbolic links at the root that could be names
    /// at all: never followed, only reported.
    fn links(&self) -> RemoteResult<Vec<RemoteName>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err("error listing", &self.root, e)),
        };
        let mut links = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| err("error listing", &self.root, e))?;
            let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
            if let (true, Ok(name)) = (
                is_link,
                RemoteName::new(&entry.file_name().to_string_lossy()),
            ) {
                links.push(name);
            }
        }
        Ok(links)
    }

    /// The last `request.tail_bytes` of a file the listing showed as a
    /// plain file, if it still is one: a link or another file put in its
    /// place since (not the same file once opened) is unreadable.
    fn tail(&mut self, name: &RemoteName, request: &TraceRequest<'_>) -> RemoteResult<Tail> {
        use std::io::{Read, Seek, SeekFrom};
        use std::os::unix::fs::MetadataExt;
        let path = self.path(name)?;
        let changed = || Ok(Tail::Unreadable("changed while it was read".to_owned()));
        let before = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => m,
            Ok(_) => return changed(),
            Err(e) if e.kind() == ErrorKind::NotFound => return changed(),
            Err(e) => return Err(err("error reading", &path, e)),
        };
        let mut file = std::fs::File::open(&path).map_err(|e| err("error reading", &path, e))?;
        let opened = file
            .metadata()
            .map_err(|e| err("error reading", &path, e))?;
        if !opened.is_file() || (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
            return changed();
        }
        if opened.len() > request.max_bytes {
            return Ok(Tail::Unreadable(format!(
                "larger than the {} MiB a phone's log may be",
                request.max_bytes / (1024 * 1024)
            )));
        }
        let from = opened.len().saturating_sub(request.tail_bytes);
        file.seek(SeekFrom::Start(from))
            .map_err(|e| err("error reading", &path, e))?;
        // A log the phone appends to while it is read: what came after
        // the listing is read too, up to a bound.
        let mut bytes = Vec::new();
        file.take(request.tail_bytes + traces::GROWTH)
            .read_to_end(&mut bytes)
            .map_err(|e| err("error reading", &path, e))?;
        self.stats.downloads += 1;
        self.counter.fetch_add(1, Ordering::Relaxed);
        Ok(traces::last_bytes(bytes, request.tail_bytes, from == 0))
    }
}

impl Writer for DirRemote {
    /// A new file in place of whatever had the name: what was there (a
    /// link, or a hard link to a file elsewhere) is removed first, never
    /// written through, and the file is created only if nothing took the
    /// name meanwhile.
    fn write(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        use std::io::Write as _;
        let p = self.path(name)?;
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(err("error writing", &p, e)),
            _ => {}
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(|e| err("error writing", &p, e))
    }

    /// A rename replaces a link at `to`, not what it points to.
    fn rename(&mut self, from: &RemoteName, to: &RemoteName) -> RemoteResult<()> {
        let (a, b) = (self.path(from)?, self.path(to)?);
        std::fs::rename(&a, &b).map_err(|e| err("error renaming", &a, e))
    }

    fn delete(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let p = self.path(name)?;
        std::fs::remove_file(&p).map_err(|e| err("error deleting", &p, e))
    }

    fn make_dir(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let p = self.path(name)?;
        std::fs::create_dir(&p).map_err(|e| err("error creating", &p, e))
    }

    fn remove_dir(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let p = self.path(name)?;
        std::fs::remove_dir(&p).map_err(|e| err("error removing", &p, e))
    }

    fn ensure_root(&mut self) -> RemoteResult<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| err("error creating", &self.root, e))
    }
}
