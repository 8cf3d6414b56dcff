//! polyops: Polycom IP phone provisioning for AltiGen MaxCS, the GitOps way.
//!
//! The pipeline, one module a step:
//! load (`source`, `load`, `schema`) → validate (`rules`) → render
//! (`inputs`, `render`, `xml`) → observe target → diff → plan → print / execute.

pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod error;
pub mod inputs;
pub mod load;
pub mod mac;
pub mod model;
pub mod render;
pub mod rules;
pub mod schema;
pub mod secret;
pub mod site;
pub mod source;
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
            eprintln!("error: {e}");
            e.code()
        }
    };
    let _ = out.flush();
    code
}
