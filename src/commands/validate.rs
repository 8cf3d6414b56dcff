//! `validate`: schema and rules, and the secrets that are set; touches no
//! network.

use std::io::Write;

use super::{checked_sites, secret_store, write_out};
use crate::cli::Config;
use crate::error::Error;

pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    // A secret need not be set where validate runs, but one that is set
    // must be usable: an empty one would be written as a blank password.
    let store = secret_store(config)?;
    let unfit: Vec<Error> = catalog
        .selected()
        .flat_map(|site| crate::render::inputs::unfit_secrets(site, &store))
        .collect();
    if !unfit.is_empty() {
        return Err(Error::Many(unfit));
    }
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
