//! `dir:` targets: a local folder standing in for the FTP root.

use std::io::ErrorKind;
use std::path::PathBuf;

use super::{Entry, Kind, TResult, Target, TargetError};

pub struct DirTarget {
    root: PathBuf,
}

impl DirTarget {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }
}

fn err(op: &str, path: &std::path::Path, e: std::io::Error) -> TargetError {
    let kind = match e.kind() {
        ErrorKind::NotFound => Kind::NotFound,
        ErrorKind::AlreadyExists | ErrorKind::PermissionDenied => Kind::Refused,
        _ => Kind::Refused,
    };
    TargetError::new(kind, format!("{op} {}: {e}", path.display()))
}

impl Target for DirTarget {
    fn list(&mut self) -> TResult<Vec<Entry>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            // A folder that does not exist yet is an empty target.
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(err("error listing", &self.root, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| err("error listing", &self.root, e))?;
            let is_dir = entry
                .file_type()
                .map(|t| t.is_dir())
                .map_err(|e| err("error listing", &entry.path(), e))?;
            out.push(Entry {
                name: entry.file_name().to_string_lossy().into_owned(),
                is_dir,
            });
        }
        Ok(out)
    }

    fn read(&mut self, name: &str) -> TResult<Vec<u8>> {
        let p = self.root.join(name);
        std::fs::read(&p).map_err(|e| err("error reading", &p, e))
    }

    fn write(&mut self, name: &str, bytes: &[u8]) -> TResult<()> {
        let p = self.root.join(name);
        std::fs::write(&p, bytes).map_err(|e| err("error writing", &p, e))
    }

    fn rename(&mut self, from: &str, to: &str) -> TResult<()> {
        let (a, b) = (self.root.join(from), self.root.join(to));
        std::fs::rename(&a, &b).map_err(|e| err("error renaming", &a, e))
    }

    fn delete(&mut self, name: &str) -> TResult<()> {
        let p = self.root.join(name);
        std::fs::remove_file(&p).map_err(|e| err("error deleting", &p, e))
    }

    fn make_dir(&mut self, name: &str) -> TResult<()> {
        let p = self.root.join(name);
        std::fs::create_dir(&p).map_err(|e| err("error creating", &p, e))
    }

    fn remove_dir(&mut self, name: &str) -> TResult<()> {
        let p = self.root.join(name);
        std::fs::remove_dir(&p).map_err(|e| err("error removing", &p, e))
    }

    fn ensure_root(&mut self) -> TResult<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| err("error creating", &self.root, e))
    }
}
