//! `completions SHELL`: a completion script made from the clap definitions.

use std::io::Write;

use super::write_out;
use crate::cli::{clap_command, Shell};
use crate::error::Error;

pub fn run(shell: Shell, out: &mut dyn Write) -> Result<i32, Error> {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut command = clap_command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "polyops", &mut script);
    write_out(out, &script)?;
    Ok(0)
}
