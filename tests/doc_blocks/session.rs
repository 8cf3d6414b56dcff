//! A reader's terminal for one page: a fresh folder holding a copy of the
//! repository's `examples/` and an empty `sites/`, `polyops` (this test
//! build) on `PATH`, and the variables and current folder each command
//! leaves for the next, as in one shell.

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};

use super::markdown::Block;
use super::shell::{self, Command};

/// Text of a page that stands for something of this test's own: the
/// address of a server it started, a password. Commands and files get the
/// real text; output shown to compare gets the page's back.
struct Substitution {
    page: String,
    real: String,
    used: bool,
}

pub struct Session {
    work: tempfile::TempDir,
    /// The shell's variables and folder between commands, and `HOME`.
    state: tempfile::TempDir,
    env: Vec<(String, String)>,
    substitutions: Vec<Substitution>,
    /// Output rewritten before it is compared (a process id, say).
    normalizers: Vec<fn(&str) -> String>,
}

pub fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a folder");
    for entry in std::fs::read_dir(from).expect("read a folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

impl Session {
    pub fn new() -> Self {
        let work = tempfile::Builder::new()
            .prefix("polyops-doc-")
            .tempdir()
            .expect("a temporary folder");
        let state = tempfile::tempdir().expect("a temporary folder");
        copy_tree(
            &repository().join("examples"),
            &work.path().join("examples"),
        );
        std::fs::create_dir(work.path().join("sites")).expect("sites/");
        std::fs::create_dir(state.path().join("home")).expect("home");
        std::fs::write(
            state.path().join("cwd"),
            work.path().as_os_str().as_encoded_bytes(),
        )
        .expect("write the current folder");
        Session {
            work,
            state,
            env: Vec::new(),
            substitutions: Vec::new(),
            normalizers: Vec::new(),
        }
    }

    /// The folder the page's commands start in.
    pub fn path(&self) -> &Path {
        self.work.path()
    }

    /// A variable the reader's shell has without the page setting it.
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// Where the page says `page`, commands and files get `real`, and
    /// output shows `page` again. Each must be used once at least.
    pub fn substitute(&mut self, page: &str, real: &str) {
        self.substitutions.push(Substitution {
            page: page.to_owned(),
            real: real.to_owned(),
            used: false,
        });
    }

    pub fn normalize(&mut self, f: fn(&str) -> String) {
        self.normalizers.push(f);
    }

    fn real_text(&mut self, text: &str) -> String {
        let mut text = text.to_owned();
        for s in &mut self.substitutions {
            if text.contains(&s.page) {
                text = text.replace(&s.page, &s.real);
                s.used = true;
            }
        }
        text
    }

    fn page_text(&mut self, text: &str) -> String {
        let mut text = text.to_owned();
        for s in &mut self.substitutions {
            if text.contains(&s.real) {
                text = text.replace(&s.real, &s.page);
                s.used = true;
            }
        }
        for f in &self.normalizers {
            text = f(&text);
        }
        text
    }

    /// Run one command as the page shows it, in the shell's state; its
    /// exit status and its output (both streams, as on a terminal).
    pub fn run(&mut self, command: &str) -> (Option<i32>, String) {
        let command = self.real_text(command);
        let state = self.state.path();
        let script = state.join("command.sh");
        let body = format!(
            "exec 2>&1 </dev/null\n\
             set -o pipefail\n\
             [ -f '{s}/env' ] && . '{s}/env'\n\
             cd \"$(cat '{s}/cwd')\"\n\
             {command}\n\
             polyops_doc_status=$?\n\
             export -p > '{s}/env'\n\
             pwd > '{s}/cwd'\n\
             exit $polyops_doc_status\n",
            s = state.display()
        );
        std::fs::write(&script, body).expect("write the command's script");
        let bin = Path::new(env!("CARGO_BIN_EXE_polyops"))
            .parent()
            .expect("the binary's folder")
            .display()
            .to_string();
        let out = Process::new("timeout")
            .args(["--kill-after=10", "300", "bash", "--noprofile", "--norc"])
            .arg(&script)
            .env_clear()
            .env(
                "PATH",
                format!("{bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            )
            .env("HOME", state.join("home"))
            .env("LANG", "C.UTF-8")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .output()
            .expect("bash runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Run each command of an `sh` block; each must exit as documented.
    pub fn run_sh(&mut self, block: &Block) {
        for Command { line, text, exit } in shell::commands(block) {
            let (code, output) = self.run(&text);
            assert_eq!(
                code,
                Some(exit),
                "{}:{line}: `{text}` exited {code:?}, the page says {exit}\n--- output:\n{output}",
                block.page
            );
        }
    }

    /// Run each command of a transcript; each must print what it shows.
    pub fn run_console(&mut self, block: &Block) {
        for step in shell::transcript(block) {
            let (code, output) = self.run(&step.command);
            let output = self.page_text(&output);
            let actual: Vec<&str> = trim_end(output.lines().collect());
            let expected = trim_end(step.output.iter().map(String::as_str).collect());
            let expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
            assert!(
                shell::output_matches(&expected, &actual),
                "{}:{}: `{}` (exit {code:?}) printed what the page does not show\n\
                 --- the page:\n{}\n--- printed:\n{}\n",
                block.page,
                step.line,
                step.command,
                expected.join("\n"),
                actual.join("\n")
            );
        }
    }

    /// Write the block as the file `relative` of the work folder, as the
    /// page asks the reader to.
    pub fn write_file(&mut self, relative: &str, block: &Block) {
        let path = self.work.path().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the file's folder");
        }
        let text = self.real_text(&block.text);
        std::fs::write(&path, text).expect("write the page's file");
    }

    /// The block shows the file `relative` a command wrote.
    pub fn compare_file(&mut self, relative: &str, block: &Block) {
        let path = self.work.path().join(relative);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {relative} was not written: {e}", block.at()));
        let text = self.page_text(&text);
        let expected: Vec<String> = block.text.lines().map(str::to_owned).collect();
        let actual: Vec<&str> = text.lines().collect();
        assert!(
            shell::output_matches(&expected, &actual),
            "{}: {relative} is not what the page shows\n--- the page:\n{}--- the file:\n{text}",
            block.at(),
            block.text
        );
    }

    /// Every substitution the page was given was needed.
    pub fn finish(self, page: &str) {
        for s in &self.substitutions {
            assert!(
                s.used,
                "{page}: no command, file or output holds {:?} any more: the test's substitution of it is stale",
                s.page
            );
        }
    }
}

fn trim_end(mut lines: Vec<&str>) -> Vec<&str> {
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}
