//! `dhcp SITE`: the DHCP options that send a site's phones to its boot
//! server, in one DHCP server's syntax.

use std::io::Write;

use super::{checked_sites, write_out};
use crate::cli::{Config, DhcpFormat};
use crate::error::Error;
use crate::setup::dhcp::{boot_options, render, Syntax};

pub fn run(config: &Config, format: DhcpFormat, out: &mut dyn Write) -> Result<i32, Error> {
    let catalog = checked_sites(config)?;
    let sites: Vec<_> = catalog.selected().collect();
    // One DHCP scope sends its phones to one boot server: several sites'
    // options in one file would declare option 160 twice.
    let [site] = sites[..] else {
        return Err(Error::Usage(format!(
            "dhcp prints the options of one site, and {} are selected: name one (polyops dhcp SITE)",
            sites.len()
        )));
    };
    let options = boot_options(site).map_err(Error::Usage)?;
    let syntax = match format {
        DhcpFormat::Isc => Syntax::Isc,
        DhcpFormat::Kea => Syntax::Kea,
        DhcpFormat::Dnsmasq => Syntax::Dnsmasq,
        DhcpFormat::Windows => Syntax::Windows,
    };
    write_out(out, render(&options, syntax).as_bytes())?;
    Ok(0)
}
