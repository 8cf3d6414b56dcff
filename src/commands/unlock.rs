//! `unlock`: remove an apply lock left on a target by a killed run.

use std::io::Write;

use super::print::remote_error;
use super::{checked_sites, secret_store, write_out};
use crate::cli::Config;
use crate::error::Error;
use crate::mask::Masker;
use crate::reconcile::lock;
use crate::remote;

/// `unlock`: remove a lock left by a killed apply.
pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    for site in catalog.selected() {
        let mut target = remote::open(site, &store, config.connections)?;
        let masker = Masker::new(remote::ftp_password(site, &store).map(|p| p.expose().to_owned()));
        let line =
            match lock::holder(target.as_mut()).map_err(|e| remote_error(site, &masker, e))? {
                None => format!("{}: no lock on {}\n", site.name, site.target.display),
                Some(holder) => {
                    lock::release(target.as_mut()).map_err(|e| remote_error(site, &masker, e))?;
                    format!(
                        "{}: removed the lock on {} held {}\n",
                        site.name,
                        site.target.display,
                        masker.clean(&holder.describe())
                    )
                }
            };
        write_out(out, line.as_bytes())?;
    }
    Ok(0)
}
