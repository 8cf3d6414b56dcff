//! polyops: Polycom IP phone provisioning for AltiGen MaxCS, the GitOps way.
//!
//! The pipeline, one module a step:
//! load (`source`, `load`, `schema`) → validate (`rules`) → render
//! (`inputs`, `render`, `xml`) → observe target (`target`, `observe`,
//! `state`) → diff and plan (`plan`, `polycom`, `mask`) → print (`output`) / execute
//! (`apply`, `lock`). `reconcile` and `commands` run the steps per command.

pub mod apply;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod error;
pub mod inputs;
pub mod load;
pub mod lock;
pub mod mac;
pub mod mask;
pub mod model;
pub mod observe;
pub mod output;
pub mod plan;
pub mod polycom;
pub mod reconcile;
pub mod render;
pub mod rules;
pub mod schema;
pub mod secret;
pub mod site;
pub mod source;
pub mod state;
pub mod target;
pub mod xml;

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
