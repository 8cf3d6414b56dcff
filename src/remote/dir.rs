//! `dir:` targets: a local folder standing in for the FTP root.

use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{
    checked_entries, Cause, Entry, Fetched, Reader, RemoteError, RemoteName, RemoteResult, Sink,
    Sizes, Stats, Writer, KEEP_BYTES, MAX_FILE_BYTES,
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

    fn path(&self, name: &RemoteName) -> PathBuf {
        self.root.join(name.as_str())
    }

    /// Read `name` through a sink that keeps `keep` bytes and refuses more
    /// than `max`.
    fn fetch(&mut self, name: &RemoteName, keep: usize, max: u64) -> RemoteResult<Fetched> {
        let p = self.path(name);
        let mut file = std::fs::File::open(&p).map_err(|e| err("error reading", &p, e))?;
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
            let is_dir = entry
                .file_type()
                .map(|t| t.is_dir())
                .map_err(|e| err("error listing", &entry.path(), e))?;
            raw.push((entry.file_name().to_string_lossy().into_owned(), is_dir));
        }
        let (entries, refused) = checked_entries(raw);
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
            let path = self.root.join(n.as_str());
            let size = match std::fs::metadata(&path) {
                Ok(m) => Some(m.len()),
                Err(e) if e.kind() == ErrorKind::NotFound => None,
                Err(e) => return Err(err("error reading", &path, e)),
            };
            out.push((n.clone(), size));
        }
        Ok(Some(out))
    }

    fn stats(&self) -> Stats {
        self.stats.clone()
    }

    fn counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.counter)
    }
}

impl Writer for DirRemote {
    fn write(&mut self, name: &RemoteName, bytes: &[u8]) -> RemoteResult<()> {
        let p = self.path(name);
        std::fs::write(&p, bytes).map_err(|e| err("error writing", &p, e))
    }

    fn rename(&mut self, from: &RemoteName, to: &RemoteName) -> RemoteResult<()> {
        let (a, b) = (self.path(from), self.path(to));
        std::fs::rename(&a, &b).map_err(|e| err("error renaming", &a, e))
    }

    fn delete(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let p = self.path(name);
        std::fs::remove_file(&p).map_err(|e| err("error deleting", &p, e))
    }

    fn make_dir(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let p = self.path(name);
        std::fs::create_dir(&p).map_err(|e| err("error creating", &p, e))
    }

    fn remove_dir(&mut self, name: &RemoteName) -> RemoteResult<()> {
        let p = self.path(name);
        std::fs::remove_dir(&p).map_err(|e| err("error removing", &p, e))
    }

    fn ensure_root(&mut self) -> RemoteResult<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| err("error creating", &self.root, e))
    }
}
