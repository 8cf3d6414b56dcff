//! polyops: Polycom IP phone provisioning for AltiGen MaxCS, the GitOps way.
//!
//! The pipeline, one folder a stage, each using only those before it:
//! `site` (load and check site files) → `polycom` (the phones' XML) →
//! `render` (files per site) → `remote` (FTP and `dir:` provisioning
//! roots, read and written) → `reconcile` (observe, plan, apply) → `output` (text, JSON,
//! markdown) → `commands` (one file per command). `import` reads what
//! exists (a hand-made root, an inventory) into a new site file; it uses
//! `site`, `polycom`, `render` and the read side of `remote`. `phones`,
//! beside `reconcile`, reads what the phones left on a root through the
//! read side of `remote` (did they take what was applied?), and `sip`
//! asks a phone to fetch its files now. Beside the pipeline, `setup`
//! serves what the phones need besides their files (DHCP, the PBX's own
//! settings, a check of the target). `mask` (what of a secret or of
//! outside text may be printed) serves the stages from `remote` on,
//! `clock` (calendar arithmetic for server and log times) `remote` and
//! `phones`, `error` all of them; `cli` turns arguments into a `Config`.

pub mod cli;
pub mod clock;
pub mod commands;
pub mod error;
pub mod import;
pub mod mask;
pub mod output;
pub mod phones;
pub mod polycom;
pub mod reconcile;
pub mod remote;
pub mod render;
pub mod setup;
pub mod sip;
pub mod site;

use std::io::Write;

pub use error::Error;

/// Run polyops with these arguments (the first is the program name) and
/// return the process exit code.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let config = match cli::parse(args) {
        Ok(c) => c,
        Err((message, benign)) => {
            if benign {
                print!("{message}");
                return 0;
            }
            eprint!("{message}");
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = match commands::run(&config, &mut out) {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => return error::BROKEN_PIPE_EXIT,
        Err(e) => {
            let _ = out.flush();
            // Every line is one error of its own, and says so.
            for line in e.to_string().lines() {
                eprintln!("error: {line}");
            }
            e.code()
        }
    };
    let _ = out.flush();
    code
}
