//! The phones report for a terminal or a CI log: per site a header, a
//! block per phone (status and why first), a summary line.

use std::io::{self, Write};

use super::{closing_line, times_line};
use crate::phones::report::{PhoneReport, PhonesReport, SitePhones};

pub fn write(report: &PhonesReport, out: &mut dyn Write) -> io::Result<()> {
    for site in &report.sites {
        write_site(site, out)?;
    }
    if report.sites.len() > 1 {
        if let Some(line) = closing_line(report) {
            writeln!(out, "Phones: {line}.")?;
        }
    }
    Ok(())
}

fn write_site(site: &SitePhones, out: &mut dyn Write) -> io::Result<()> {
    if let Some(error) = &site.error {
        return writeln!(out, "{}: error: {error}", site.site);
    }
    let times = site.times.map_or(String::new(), |t| {
        format!(
            ", times by {} to the {}",
            t.source.word(),
            t.precision.word()
        )
    });
    writeln!(out, "phones {} ({}){times}", site.site, site.target)?;
    for phone in &site.phones {
        write_phone(phone, out)?;
    }
    writeln!(out, "{}: {}.", site.site, site.summary.line())
}

fn write_phone(p: &PhoneReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "  {} {} {}: {}: {}",
        p.mac,
        p.model,
        p.extension,
        p.status.word(),
        p.reason
    )?;
    writeln!(out, "      {}", times_line(p))?;
    if !p.overrides.is_empty() {
        writeln!(out, "      override files: {}", p.overrides.join(", "))?;
    }
    for u in &p.unreadable {
        writeln!(out, "      unreadable: {}: {}", u.file, u.why)?;
    }
    for e in &p.errors {
        writeln!(
            out,
            "      error {} {} {}: {}",
            e.time.as_deref().unwrap_or("(no time)"),
            e.component,
            e.level,
            e.text
        )?;
    }
    Ok(())
}
