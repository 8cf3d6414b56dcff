//! The builder every integration test drives the real `polyops` binary with:
//!
//! ```ignore
//! Test::new()
//!     .site("hq", "site: hq\n…")
//!     .env("EXT_201_PASSWORD", "x")
//!     .args(["validate"])
//!     .run()
//!     .status(1)
//!     .stderr_has_line("sites/hq.yaml:3:5: phones[0].mac: ");
//! ```
//!
//! Each test runs in its own temporary folder (the current directory of the
//! command) holding a `sites/` folder, so relative `dir:` targets, firmware
//! paths and secrets files all land inside it. The environment is cleared
//! but for `PATH` and `HOME`, so a developer's own `POLYOPS_*` or
//! `EXT_*_PASSWORD` variables never change a result.

pub mod package;
pub mod site;
pub mod xml;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

pub use package::FIRMWARE_PACKAGE;

/// The repository's example site, as checked in.
pub const EXAMPLE_SITE: &str = include_str!("../../examples/example.yaml");

/// The passwords the example site reads from the environment, fixed so its
/// rendering can be compared byte for byte.
pub const EXAMPLE_ENV: [(&str, &str); 3] = [
    ("EXT_201_PASSWORD", "1212"),
    ("EXT_202_PASSWORD", "s3cret&<202>"),
    ("EXT_203_PASSWORD", "pässwörd\"203'"),
];

/// Strip the first line break and the indentation common to every non-blank
/// line, so site files can be written indented inside a test.
pub fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(line.get(indent..).unwrap_or(line.trim_start_matches(' ')));
    }
    out
}

pub struct Test {
    dir: TempDir,
    cwd: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    /// An empty `sites/` folder in a fresh temporary directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("polyops-test-")
            .tempdir()
            .expect("a temporary directory can be created");
        std::fs::create_dir(dir.path().join("sites")).expect("sites/ can be created");
        Self {
            cwd: dir.path().to_owned(),
            dir,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The temporary directory (the default current directory).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `sites/<name>.yaml`; `yaml` is dedented first.
    pub fn site(self, name: &str, yaml: &str) -> Self {
        self.file(&format!("sites/{name}.yaml"), dedent(yaml))
    }

    /// Write `sites/<name>.yaml` exactly as given (for broken bytes, tabs…).
    pub fn site_bytes(self, name: &str, bytes: impl AsRef<[u8]>) -> Self {
        self.file(&format!("sites/{name}.yaml"), bytes)
    }

    /// Write any file, relative to the temporary directory, creating folders.
    pub fn file(self, relative: &str, bytes: impl AsRef<[u8]>) -> Self {
        let path = self.dir.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent folders can be created");
        }
        std::fs::write(&path, bytes).expect("a test file can be written");
        self
    }

    /// Put the firmware package's files ([`FIRMWARE_PACKAGE`]) in the
    /// folder `root` (a `dir:` target), as an installer does.
    pub fn firmware_package(mut self, root: &str) -> Self {
        for (name, bytes) in FIRMWARE_PACKAGE {
            self = self.file(&format!("{root}/{name}"), bytes);
        }
        self
    }

    /// Write `secrets.yaml` (dedented) and pass it with `--secrets`.
    pub fn secrets(self, yaml: &str) -> Self {
        self.file("secrets.yaml", dedent(yaml))
            .args(["--secrets", "secrets.yaml"])
    }

    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn envs<'a>(mut self, vars: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> Self {
        for (k, v) in vars {
            self.env.push(((*k).into(), (*v).into()));
        }
        self
    }

    /// Append arguments (may be called several times).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Run from this folder, relative to the temporary directory.
    pub fn current_dir(mut self, relative: &str) -> Self {
        self.cwd = self.dir.path().join(relative);
        std::fs::create_dir_all(&self.cwd).expect("the current directory can be created");
        self
    }

    /// Run `polyops` with the arguments and wait for it.
    pub fn run(self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_polyops"));
        cmd.args(&self.args).current_dir(&self.cwd).env_clear();
        for key in ["PATH", "HOME"] {
            if let Some(v) = std::env::var_os(key) {
                cmd.env(key, v);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let out = cmd.output().expect("the polyops binary runs");
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            args: self.args,
            dir: self.dir,
            cwd: self.cwd,
            env: self.env,
        }
    }
}

/// A finished run. It keeps the temporary directory alive so its files can
/// be read.
pub struct Output {
    /// `None` when the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    args: Vec<OsString>,
    dir: TempDir,
    cwd: PathBuf,
    env: Vec<(OsString, OsString)>,
}

impl Output {
    /// A next command in the same folder, with the same environment and
    /// current directory (no arguments yet).
    pub fn then(self) -> Test {
        Test {
            dir: self.dir,
            cwd: self.cwd,
            args: Vec::new(),
            env: self.env,
        }
    }

    fn context(&self) -> String {
        format!(
            "polyops {:?}\n--- exit: {:?}\n--- stdout:\n{}--- stderr:\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Assert the exit code; a panic in the binary fails every assertion.
    pub fn status(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "{}", self.context());
        assert!(
            !self.stderr.contains("panicked"),
            "polyops panicked\n{}",
            self.context()
        );
        self
    }

    pub fn stdout_contains(self, needle: &str) -> Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stdout_is(self, expected: &str) -> Self {
        assert_eq!(self.stdout, expected, "{}", self.context());
        self
    }

    pub fn stderr_contains(self, needle: &str) -> Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stderr_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr must not contain {needle:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stdout_lacks(self, needle: &str) -> Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout must not contain {needle:?}\n{}",
            self.context()
        );
        self
    }

    pub fn stderr_is_empty(self) -> Self {
        assert_eq!(self.stderr, "", "{}", self.context());
        self
    }

    /// Assert that some line of stderr starts with `prefix` (a diagnostic's
    /// `FILE:LINE:COLUMN: PATH: ` part, typically).
    pub fn stderr_has_line(self, prefix: &str) -> Self {
        assert!(
            self.stderr.lines().any(|l| l.starts_with(prefix)),
            "no stderr line starts with {prefix:?}\n{}",
            self.context()
        );
        self
    }

    /// Assert that a line of stderr starts with `prefix` and contains `text`.
    pub fn stderr_has_line_with(self, prefix: &str, text: &str) -> Self {
        assert!(
            self.stderr
                .lines()
                .any(|l| l.starts_with(prefix) && l.contains(text)),
            "no stderr line starts with {prefix:?} and contains {text:?}\n{}",
            self.context()
        );
        self
    }

    /// The stderr lines that are diagnostics of site files
    /// (`FILE:LINE:COLUMN: …`), in order.
    pub fn diagnostics(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| {
                let mut parts = l.splitn(4, ':');
                let (_file, line, col) = (parts.next(), parts.next(), parts.next());
                [line, col].iter().all(|p| {
                    p.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                })
            })
            .collect()
    }

    /// The temporary directory the command ran in.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The bytes of a file, relative to the temporary directory.
    pub fn read(&self, relative: &str) -> Vec<u8> {
        let path = self.dir.path().join(relative);
        std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
    }

    /// Every file directly in a folder, relative to the temporary directory,
    /// by name.
    pub fn files_in(&self, relative: &str) -> BTreeMap<String, Vec<u8>> {
        read_dir_files(&self.dir.path().join(relative))
    }
}

/// Every regular file directly in `dir`, by name.
pub fn read_dir_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.expect("a directory entry can be read");
        if entry.file_type().expect("a file type").is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let bytes = std::fs::read(entry.path()).expect("a rendered file can be read");
            files.insert(name, bytes);
        }
    }
    files
}
