//! `phones` as the morning report's page: a table of every site (its
//! phones and how many are not current) first, then each site's phones in
//! a table, and each phone's error lines and unreadable logs collapsed.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{anchor, code, esc, page};
use crate::output::phones::closing_line;
use crate::phones::report::{FileTime, PhoneReport, PhonesReport, SitePhones};
use crate::phones::status::Status;

pub fn write(report: &PhonesReport, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(render(report).as_bytes())
}

/// The whole page.
pub fn render(report: &PhonesReport) -> String {
    let mut body = String::from("<h1>polyops phones</h1>\n");
    let closing = closing_line(report).unwrap_or_else(|| "every site failed".to_owned());
    let _ = writeln!(
        body,
        "<p>{}; compared with this machine's clock at {}</p>",
        esc(&closing),
        esc(&report.now)
    );
    body.push_str(&sites_table(report));
    for site in &report.sites {
        body.push_str(&site_section(site));
    }
    page("polyops phones", &body)
}

/// Every site in one row, linked to its section.
fn sites_table(report: &PhonesReport) -> String {
    let mut t = String::from(
        "<table class=\"sites\">\n<thead><tr><th>site</th><th>status</th><th>phones</th>\
         <th>not current</th><th>current</th><th>pending</th><th>error</th><th>silent</th>\
         <th>never</th></tr></thead>\n<tbody>\n",
    );
    for s in &report.sites {
        let name = format!("<a href=\"#{}\">{}</a>", anchor(&s.site), esc(&s.site));
        if let Some(e) = &s.error {
            let _ = writeln!(
                t,
                "<tr><td>{name}</td><td class=\"err\">error</td><td colspan=\"7\">{}</td></tr>",
                esc(e)
            );
            continue;
        }
        let c = &s.summary;
        let not_current = c.phones - c.current;
        let status = if not_current == 0 {
            "<span class=\"ok\">all current</span>"
        } else {
            "<span class=\"warn\">not all current</span>"
        };
        let counts: String = [
            c.phones,
            not_current,
            c.current,
            c.pending,
            c.error,
            c.silent,
            c.never,
        ]
        .iter()
        .map(|n| format!("<td class=\"n\">{n}</td>"))
        .collect();
        let _ = writeln!(t, "<tr><td>{name}</td><td>{status}</td>{counts}</tr>");
    }
    t.push_str("</tbody>\n</table>\n");
    t
}

/// One site: its error, or its phones.
fn site_section(site: &SitePhones) -> String {
    let mut s = format!(
        "<section id=\"{}\">\n<h2>{} → {}</h2>\n",
        anchor(&site.site),
        esc(&site.site),
        code(&site.target)
    );
    if let Some(e) = &site.error {
        let _ = writeln!(
            s,
            "<p class=\"refuse\"><span class=\"err\">error:</span> {}</p>\n</section>",
            esc(e)
        );
        return s;
    }
    let times = site.times.map_or(String::new(), |t| {
        format!(
            " Times by {}, to the {}.",
            t.source.word(),
            t.precision.word()
        )
    });
    let _ = writeln!(s, "<p>{}.{}</p>", esc(&site.summary.line()), esc(&times));
    if !site.phones.is_empty() {
        s.push_str(
            "<table class=\"phones\">\n<thead><tr><th>phone</th><th>model</th><th>extension</th>\
             <th>status</th><th>last boot</th><th>last heard</th><th>newest change</th>\
             <th>why</th></tr></thead>\n<tbody>\n",
        );
        for p in &site.phones {
            s.push_str(&phone_row(p));
        }
        s.push_str("</tbody>\n</table>\n");
    }
    for p in site
        .phones
        .iter()
        .filter(|p| !p.errors.is_empty() || !p.unreadable.is_empty() || !p.overrides.is_empty())
    {
        s.push_str(&phone_details(p));
    }
    s.push_str("</section>\n");
    s
}

fn phone_row(p: &PhoneReport) -> String {
    let time = |t: Option<String>| t.map_or_else(|| "—".to_owned(), |t| esc(&t));
    let class = match p.status {
        Status::Current => "ok",
        Status::Pending => "warn",
        Status::Silent | Status::Never | Status::Error => "err",
    };
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td><span class=\"{class}\">{}</span></td>\
         <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
        code(&p.mac),
        esc(&p.model),
        esc(&p.extension),
        esc(p.status.word()),
        time(p.last_boot.map(|t| t.display())),
        time(p.last_heard.map(|t| t.display())),
        time(p.newest_change.as_ref().map(FileTime::display)),
        esc(&p.reason)
    )
}

/// A phone's override files, unreadable logs and error lines, collapsed.
fn phone_details(p: &PhoneReport) -> String {
    let mut s = format!(
        "<details class=\"phone\"><summary>{} ({}): {} error line{}</summary>\n<ul>\n",
        code(&p.mac),
        esc(&p.extension),
        p.errors.len(),
        if p.errors.len() == 1 { "" } else { "s" }
    );
    for o in &p.overrides {
        let _ = writeln!(s, "<li>override file {}</li>", code(o));
    }
    for u in &p.unreadable {
        let _ = writeln!(s, "<li>unreadable {}: {}</li>", code(&u.file), esc(&u.why));
    }
    s.push_str("</ul>\n");
    if !p.errors.is_empty() {
        s.push_str(
            "<table class=\"errors\">\n<thead><tr><th>time</th><th>component</th><th>level</th>\
             <th>text</th></tr></thead>\n<tbody>\n",
        );
        for e in &p.errors {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                e.time.as_deref().map_or_else(|| "—".to_owned(), esc),
                esc(&e.component),
                e.level,
                code(&e.text)
            );
        }
        s.push_str("</tbody>\n</table>\n");
    }
    s.push_str("</details>\n");
    s
}
