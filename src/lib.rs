//! polyops: Polycom IP phone provisioning for AltiGen MaxCS, the GitOps way.
//!
//! The modules below are declared in layers: each uses only those declared
//! before it (a test reads every `crate::` path and holds the code to it).
//!
//! - `printable` (what of outside text a terminal may be shown) is a leaf;
//!   `polycom` (the phones' XML and the parameter catalog) is the base the
//!   pipeline stands on.
//! - The pipeline, one folder a stage: `site` (load and check site files)
//!   → `render` (files per site) → `remote` (FTP and `dir:` provisioning
//!   roots, read and written) → `reconcile` (observe, plan, apply) →
//!   `output` (text, JSON, markdown). Beside it, `error` (the one error
//!   enum) follows `site`, and `mask` (what of a secret may be printed)
//!   serves the stages from `remote` on.
//! - `import` reads what exists (a hand-made root, an inventory) into a
//!   new site file, through `site`, `polycom`, `render` and the read side
//!   of `remote`; `setup` serves what the phones need besides their files
//!   (DHCP, the PBX's own settings, a check of the target).
//! - `phones`, after `reconcile`, reads what the phones left on a root
//!   through the read side of `remote` (did they take what was applied?);
//!   `sip` asks a phone to fetch its files now. `clock` (calendar
//!   arithmetic for server and log times) and `nearest` (the "did you mean"
//!   of every unknown name) are leaves beside `printable`.
//! - `cli` turns arguments into a `Config`; `commands` (one file per
//!   command) puts it all together.

// The layers, in order (rustfmt sorts the modules within one).
// Leaves and base:
pub mod clock;
pub mod nearest;
pub mod polycom;
pub mod printable;
// The site files:
pub mod site;
// What the stages after it share:
pub mod error;
pub mod mask;
// The pipeline:
pub mod render;

pub mod remote;

pub mod reconcile;

pub mod phones;
pub mod sip;

pub mod output;
// Beside the pipeline:
pub mod import;
pub mod setup;
// The command line:
pub mod cli;
pub mod commands;

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
