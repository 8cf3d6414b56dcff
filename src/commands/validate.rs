//! `validate`: schema and rules; touches no network.

use std::io::Write;

use super::{checked_sites, write_out};
use crate::cli::Config;
use crate::error::Error;

pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    for site in catalog.selected() {
        let line = format!(
            "{}: ok: site {}, {} extensions, {} phones\n",
            site.file,
            site.name,
            site.extensions.len(),
            site.phones.len()
        );
        write_out(out, line.as_bytes())?;
    }
    Ok(0)
}
