//! `doctor`: check each site's FTP target the way apply and the phones use
//! it, a line per check; exit 1 when any check fails.

use std::io::Write;

use super::{checked_sites, secret_store, write_out};
use crate::cli::Config;
use crate::error::Error;
use crate::mask::Masker;
use crate::remote;
use crate::setup::doctor::{examine, Verdict};

pub fn run(config: &Config, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let store = secret_store(config)?;
    let mut errors = Vec::new();
    for site in catalog.selected() {
        let password = match remote::ftp_password(site, &store) {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let masker = Masker::new([password.expose().to_owned()]);
        write_out(
            out,
            format!("doctor {}: {}\n", site.name, site.target.display).as_bytes(),
        )?;
        let mut written = Ok(());
        let checks = examine(site, &password, &masker, &mut |check| {
            if written.is_ok() {
                written = write_out(out, format!("  {check}\n").as_bytes()).and_then(|()| {
                    out.flush().map_err(|e| Error::Write {
                        path: "standard output".into(),
                        source: e,
                    })
                });
            }
        });
        written?;
        let count = |s: Verdict| checks.iter().filter(|c| c.verdict == s).count();
        let failed = count(Verdict::Fail);
        write_out(
            out,
            format!(
                "{}: {} ok, {} warn, {failed} fail\n",
                site.name,
                count(Verdict::Ok),
                count(Verdict::Warn)
            )
            .as_bytes(),
        )?;
        if failed > 0 {
            errors.push(Error::Remote {
                site: site.name.clone(),
                target: site.target.display.clone(),
                message: format!(
                    "{failed} of {} doctor checks failed (see the fail lines above)",
                    checks.len()
                ),
                hint: None,
            });
        }
    }
    if errors.is_empty() {
        Ok(0)
    } else {
        Err(Error::Many(errors))
    }
}
