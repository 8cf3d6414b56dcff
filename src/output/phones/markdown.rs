//! The phones report as a merge-request or CI comment: the summary line
//! first, a table of the sites when there are several, then a table of
//! each site's phones and their error lines in `<details>`; never over
//! `output::markdown::LIMIT` characters (it says what it left out).
//! Every name and text is inline code that nothing in it can break out
//! of (`output::markdown::code`).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::closing_line;
use crate::output::markdown::{code, LIMIT};
use crate::phones::report::{FileTime, PhoneReport, PhonesReport, SitePhones};
use crate::phones::status::Status;

pub fn write(report: &PhonesReport, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(render(report, LIMIT).as_bytes())
}

/// The whole comment, at most `limit` characters.
pub fn render(report: &PhonesReport, limit: usize) -> String {
    let mut md = match closing_line(report) {
        Some(line) => format!("**Phones:** {line}.\n\n"),
        None => "**Phones:** every site failed.\n\n".to_owned(),
    };
    if report.sites.len() > 1 {
        md.push_str(&sites_table(report));
    }
    let mut left_out = 0;
    for site in &report.sites {
        let block = site_block(site);
        // Room is kept for the note of what was left out.
        if left_out == 0 && md.len() + block.len() + 200 <= limit {
            md.push_str(&block);
        } else {
            left_out += 1;
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            md,
            "_{left_out} site{} left out to stay under {limit} characters: see the text or JSON report._",
            if left_out == 1 { "" } else { "s" }
        );
    }
    md
}

fn sites_table(report: &PhonesReport) -> String {
    let mut t = String::from(
        "| site | phones | current | pending | error | silent | never |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in &report.sites {
        let c = &s.summary;
        match &s.error {
            Some(e) => {
                let _ = writeln!(t, "| {} | error: {} | | | | | |", code(&s.site), code(e));
            }
            None => {
                let _ = writeln!(
                    t,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    code(&s.site),
                    c.phones,
                    c.current,
                    c.pending,
                    c.error,
                    c.silent,
                    c.never
                );
            }
        }
    }
    t.push('\n');
    t
}

fn site_block(site: &SitePhones) -> String {
    let mut md = format!("### Phones of {}\n\n", code(&site.site));
    if let Some(e) = &site.error {
        let _ = writeln!(md, "Error: {}\n", code(e));
        return md;
    }
    let times = site.times.map_or(String::new(), |t| {
        format!(
            " Times by {}, to the {}.",
            t.source.word(),
            t.precision.word()
        )
    });
    let _ = writeln!(md, "{}.{times}\n", site.summary.line());
    if site.phones.is_empty() {
        return md;
    }
    md.push_str("| phone | model | extension | status | last boot | last heard | newest change | why |\n|---|---|---|---|---|---|---|---|\n");
    for p in &site.phones {
        let _ = writeln!(md, "{}", phone_row(p));
    }
    md.push('\n');
    for p in site
        .phones
        .iter()
        .filter(|p| !p.errors.is_empty() || !p.unreadable.is_empty())
    {
        md.push_str(&details(p));
    }
    md
}

fn phone_row(p: &PhoneReport) -> String {
    let time = |t: Option<String>| t.map_or_else(|| "—".to_owned(), |t| code(&t));
    let status = match p.status {
        Status::Current => p.status.word().to_owned(),
        other => format!("**{}**", other.word()),
    };
    format!(
        "| {} | {} | {} | {status} | {} | {} | {} | {} |",
        code(&p.mac),
        code(&p.model),
        code(&p.extension),
        time(p.last_boot.map(|t| t.display())),
        time(p.last_heard.map(|t| t.display())),
        time(p.newest_change.as_ref().map(FileTime::display)),
        code(&p.reason)
    )
}

/// A phone's error lines and unreadable logs, collapsed.
fn details(p: &PhoneReport) -> String {
    let mut md = format!(
        "<details><summary>{} ({}): {} error line{}{}</summary>\n\n",
        code(&p.mac),
        code(&p.extension),
        p.errors.len(),
        if p.errors.len() == 1 { "" } else { "s" },
        if p.unreadable.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable log", p.unreadable.len())
        }
    );
    for u in &p.unreadable {
        let _ = writeln!(md, "- unreadable {}: {}", code(&u.file), code(&u.why));
    }
    if !p.errors.is_empty() {
        if !p.unreadable.is_empty() {
            md.push('\n');
        }
        md.push_str("| time | component | level | text |\n|---|---|---:|---|\n");
        for e in &p.errors {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                e.time.as_deref().map_or_else(|| "—".to_owned(), code),
                code(&e.component),
                e.level,
                code(&e.text)
            );
        }
    }
    md.push_str("\n</details>\n\n");
    md
}
