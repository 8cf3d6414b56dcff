//! The report as a merge-request comment: summary line first, deletes above
//! the fold, every diff in `<details>`, never over 65,000 characters (it says
//! what it left out).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{boot_heading, closing_line, override_effect, summary_line, Mode, Report};
use crate::reconcile::boot::phones_line;
use crate::reconcile::plan::{Action, FileChange};

/// A name or value as inline code that nothing in it can break out of:
/// file names may come from the target's state file and parameters from
/// its files, and `<`, `&`, a backtick or `|` in one must not become markup
/// or end a table cell. Markdown still reads inside `<code>`, so emphasis,
/// link brackets and backslash escapes are entities too (a digit map's `*`
/// is shown, not made italic).
pub(super) fn code(name: &str) -> String {
    let mut out = String::from("<code>");
    for c in name.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '~' => out.push_str("&#126;"),
            '\\' => out.push_str("&#92;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
}

/// The parameters an update changes, as a table to read before its diff
/// (empty when the plan has no parameter diff for the file). Every cell is
/// [`code`]: names and values may come from the target.
fn params_table(f: &FileChange, site: &str) -> String {
    let Some(params) = &f.params else {
        return String::new();
    };
    if params.is_empty() {
        return format!(
            "{} ({site}): formatting only, no parameter changes.\n\n",
            code(&f.name)
        );
    }
    let mut table = format!(
        "Parameters of {} ({site}): {}\n\n| parameter | before | after |\n|---|---|---|\n",
        code(&f.name),
        params.counts()
    );
    let cell = |v: Option<&str>| v.map_or_else(|| "—".to_owned(), code);
    for (name, before, after) in params.rows() {
        let _ = writeln!(
            table,
            "| {} | {} | {} |",
            code(name),
            cell(before),
            cell(after)
        );
    }
    table.push('\n');
    table
}

/// Every site in one row: its counts, drift, the files the phones miss,
/// its error.
fn sites_table(report: &Report) -> String {
    let mut t = String::from(
        "| site | create | update | delete | unchanged | drifted | status |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for site in &report.sites {
        let status = match &site.error {
            Some(e) => {
                let short: String = e.replace('\n', " ").chars().take(160).collect();
                format!("**error:** {}", code(&short))
            }
            None if !site.boot.is_complete() => {
                format!("ok; {} missing for the phones", site.boot.missing.len())
            }
            None if site.apply_would_refuse.is_some() => "ok; apply would refuse".to_owned(),
            None => "ok".to_owned(),
        };
        let s = &site.summary;
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {status} |",
            code(&site.site),
            s.create,
            s.update,
            s.delete,
            s.unchanged,
            s.drifted
        );
    }
    t.push('\n');
    t
}

/// GitHub and GitLab cut comments near 65,536 characters.
pub const LIMIT: usize = 65_000;

pub fn write(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(render(report, LIMIT).as_bytes())
}

/// The whole comment, at most `limit` characters.
pub fn render(report: &Report, limit: usize) -> String {
    let title = match report.mode {
        Mode::Plan => "polyops plan",
        Mode::Drift => "polyops drift",
        Mode::Apply => "polyops apply",
    };
    let mut head = match closing_line(report) {
        Some(line) => format!("**{title}:** {line}\n\n"),
        None => format!("**{title}:** every site failed\n\n"),
    };

    // Over many sites, one table of every site first: what a reviewer
    // scans before the details.
    if report.sites.len() > 1 {
        head.push_str(&sites_table(report));
    }

    // Above the fold: per-site tables of every change, deletes first.
    for site in &report.sites {
        if let Some(error) = &site.error {
            let _ = writeln!(
                head,
                "### {} → `{}`\n\n**error:** {}\n",
                site.site,
                site.target,
                error.replace('\n', " ")
            );
            continue;
        }
        let _ = writeln!(
            head,
            "### {} → `{}`\n\n{}\n",
            site.site,
            site.target,
            summary_line(&site.summary, report.mode)
        );
        if let Some(reason) = &site.apply_would_refuse {
            let _ = writeln!(head, "> **Warning:** apply refuses this plan: {reason}.\n");
        }
        if !site.boot.is_complete() {
            let _ = writeln!(
                head,
                "> **Boot check:** {}:\n>",
                boot_heading(&site.boot, report.mode, "`--allow-incomplete`")
            );
            for (file, phones) in &site.boot.missing {
                let _ = writeln!(head, "> - {}: {}", code(file), phones_line(phones, code));
            }
            head.push('\n');
        }
        let mut changed: Vec<_> = site
            .files
            .iter()
            .filter(|f| f.action != Action::Unchanged)
            .collect();
        changed.sort_by_key(|f| (f.action != Action::Delete, f.name.clone()));
        if !changed.is_empty() {
            head.push_str("| action | file | note |\n|---|---|---|\n");
            for f in changed {
                let action = match f.action {
                    Action::Delete => "**delete**",
                    other => other.word(),
                };
                let mut notes: Vec<&str> = match (f.drift_note(), f.adopted) {
                    (Some(note), _) => vec![note],
                    (None, true) => vec!["taken over (not written by polyops before)"],
                    _ => Vec::new(),
                };
                if f.formatting_only {
                    notes.push("formatting only");
                }
                let _ = writeln!(
                    head,
                    "| {action} | {} | {} |",
                    code(&f.name),
                    notes.join("; ")
                );
            }
            head.push('\n');
        }
        for o in &site.overrides {
            let _ = writeln!(
                head,
                "- `{}` of phone `{}`{}",
                o.file,
                o.phone,
                override_effect(o, |s| format!("`{s}`"))
            );
        }
        if !site.overrides.is_empty() {
            head.push('\n');
        }
    }

    // Below: the diffs, as many as fit.
    let mut body = String::new();
    let mut left_out = 0usize;
    let reserve = 200;
    for site in &report.sites {
        for f in &site.files {
            let Some(diff) = &f.diff else { continue };
            let mut block = params_table(f, &site.site);
            let _ = write!(
                block,
                "<details><summary>{} {} ({}){}</summary>\n\n```diff\n{}```\n\n</details>\n\n",
                f.action.word(),
                code(&f.name),
                site.site,
                if f.formatting_only {
                    ": formatting only"
                } else {
                    ""
                },
                diff.replace("```", "`\u{200b}``")
            );
            if head.len() + body.len() + block.len() + reserve <= limit {
                body.push_str(&block);
            } else {
                left_out += 1;
            }
        }
    }
    let mut text = head;
    text.push_str(&body);
    if left_out > 0 {
        let _ = writeln!(
            text,
            "_{left_out} diff{} left out to stay under {limit} characters; run `polyops plan` to see them._",
            if left_out == 1 { "" } else { "s" }
        );
    }
    if text.len() > limit {
        // Even the tables were too long: cut at a line boundary and say so.
        let note = "\n_…output cut to stay under the comment size limit; run `polyops plan` for the rest._\n";
        let mut cut = limit.saturating_sub(note.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = text[..cut].rfind('\n').unwrap_or(cut);
        text.truncate(cut);
        text.push_str(note);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::{code, render, LIMIT};
    use crate::output::{Mode, Report};
    use crate::reconcile::plan::SitePlan;

    fn failed_sites(n: usize) -> Report {
        let text =
            "site: s\ntarget: {url: dir:r}\nserver: {address: 10.0.0.1}\ntime: {zone: pacific}\n";
        let (sf, pos) = crate::site::load::parse_site("s.yaml", text).expect("valid");
        let base = crate::site::rules::check_site("s.yaml", &sf, &pos)
            .0
            .expect("valid");
        Report::new(
            Mode::Drift,
            (0..n)
                .map(|i| {
                    let mut site = base.clone();
                    site.name = format!("site-{i:04}");
                    SitePlan::failed(&site, format!("connect to 192.0.2.{} timed out", i % 250))
                })
                .collect(),
        )
    }

    #[test]
    fn many_sites_start_with_a_table_of_every_site() {
        let md = render(&failed_sites(3), LIMIT);
        let table = md.find("| site | create |").expect("a table");
        let first_detail = md.find("### site-0000").expect("details");
        assert!(table < first_detail, "{md}");
        assert!(md.contains("| <code>site-0002</code> | 0 | 0 | 0 | 0 | 0 | **error:** <code>connect to 192.0.2.2 timed out</code> |"), "{md}");
    }

    #[test]
    fn however_many_sites_the_comment_stays_under_the_limit() {
        for n in [1, 50, 700, 3000] {
            let md = render(&failed_sites(n), LIMIT);
            assert!(md.len() <= LIMIT, "{n} sites: {} characters", md.len());
        }
        let md = render(&failed_sites(3000), LIMIT);
        assert!(md.contains("output cut to stay under"), "says it was cut");
        assert!(md.contains("site-0000"));
    }

    #[test]
    fn names_cannot_break_out_of_their_code_span_or_table_cell() {
        assert_eq!(
            code("a|b`<img src=x>&"),
            "<code>a&#124;b&#96;&lt;img src=x&gt;&amp;</code>"
        );
        assert_eq!(
            code(r"*9x_*\|[a](b)~"),
            "<code>&#42;9x&#95;&#42;&#92;&#124;&#91;a&#93;(b)&#126;</code>"
        );
    }
}
