//! `dhcp SITE`: the DHCP options that send a site's phones to its boot
//! server, in one DHCP server's syntax.

use std::io::Write;

use super::{checked_sites, write_out};
use crate::cli::{Config, DhcpFormat};
use crate::error::{DhcpError, Error};
use crate::setup::dhcp::{boot_options, render, Syntax};

pub fn run(config: &Config, format: DhcpFormat, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let sites: Vec<_> = catalog.selected().collect();
    let [site] = sites[..] else {
        return Err(DhcpError::NotOneSite {
            selected: sites.len(),
        }
        .into());
    };
    let options = boot_options(site)?;
    for warning in &options.warnings {
        eprintln!("warning: {warning}");
    }
    let syntax = match format {
        DhcpFormat::Isc => Syntax::Isc,
        DhcpFormat::Kea => Syntax::Kea,
        DhcpFormat::Dnsmasq => Syntax::Dnsmasq,
        DhcpFormat::Windows => Syntax::Windows,
    };
    write_out(out, render(&options, syntax).as_bytes())?;
    Ok(0)
}
