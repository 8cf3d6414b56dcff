//! The outcomes of a run as a merge-request comment: summary line first, deletes above
//! the fold, every diff in `<details>`, never over 65,000 characters (it says
//! what it left out).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{boot_heading, override_effect, summary_line, Mode, Outcomes, Renderer};
use crate::reconcile::boot::phones_line;
use crate::reconcile::plan::{Action, FileChange, Plan};

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
fn sites_table(outcomes: &Outcomes) -> String {
    let mut t = String::from(
        "| site | create | update | delete | unchanged | drifted | status |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    let none = crate::reconcile::plan::Summary::default();
    for site in outcomes.sites {
        let status = match (site.plan(), site.error_line()) {
            (None, e) => {
                let e = e.unwrap_or_default();
                let short: String = e.replace('\n', " ").chars().take(160).collect();
                format!("**error:** {}", code(&short))
            }
            (Some(plan), _) if !plan.boot.is_complete() => {
                format!("ok; {} missing for the phones", plan.boot.missing.len())
            }
            (Some(plan), _) if outcomes.would_refuse(plan).is_some() => {
                "ok; apply would refuse".to_owned()
            }
            (Some(_), _) => "ok".to_owned(),
        };
        let s = site.plan().map_or(&none, |p| &p.summary);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {status} |",
            code(&site.site.name),
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

/// A merge-request comment of at most `limit` characters.
#[derive(Debug, Clone, Copy)]
pub struct Markdown {
    pub limit: usize,
}

impl Default for Markdown {
    fn default() -> Self {
        Self { limit: LIMIT }
    }
}

impl Renderer for Markdown {
    fn write(&self, outcomes: &Outcomes, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(render(outcomes, self.limit).as_bytes())
    }
}

/// The whole comment, at most `limit` characters: the summary, then
/// above the fold what changes per site, then as many diffs as fit.
pub fn render(outcomes: &Outcomes, limit: usize) -> String {
    let title = match outcomes.mode {
        Mode::Plan => "polyops plan",
        Mode::Drift => "polyops drift",
        Mode::Apply => "polyops apply",
    };
    let mut head = match outcomes.closing_line() {
        Some(line) => format!("**{title}:** {line}\n\n"),
        None => format!("**{title}:** every site failed\n\n"),
    };
    // Over many sites, one table of every site first: what a reviewer
    // scans before the details.
    if outcomes.sites.len() > 1 {
        head.push_str(&sites_table(outcomes));
    }
    for site in outcomes.sites {
        match (site.plan(), site.error_line()) {
            (Some(plan), _) => head.push_str(&plan_section(outcomes, plan)),
            (None, error) => {
                // An error may quote a server and a target is written in a
                // site file: as code, neither can become markup or a mention.
                let _ = writeln!(
                    head,
                    "### {} → {}\n\n**error:** {}\n",
                    site.site.name,
                    code(&site.site.target),
                    code(&error.unwrap_or_default().replace('\n', " "))
                );
            }
        }
    }
    let (body, left_out) = diffs(outcomes, head.len(), limit);
    let mut text = head;
    text.push_str(&body);
    if left_out > 0 {
        let _ = writeln!(
            text,
            "_{left_out} diff{} left out to stay under {limit} characters; run `polyops plan` to see them._",
            if left_out == 1 { "" } else { "s" }
        );
    }
    cut_to(text, limit)
}

/// Above the fold for a site that has a plan: its summary, why apply would
/// refuse it, the boot check, a table of every change (deletes first), its
/// override files.
fn plan_section(outcomes: &Outcomes, plan: &Plan) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "### {} → {}\n\n{}\n",
        plan.site.name,
        code(&plan.site.target),
        summary_line(&plan.summary, outcomes.mode)
    );
    if let Some(reason) = outcomes.would_refuse(plan) {
        let _ = writeln!(head, "> **Warning:** apply refuses this plan: {reason}.\n");
    }
    if !plan.boot.is_complete() {
        let _ = writeln!(
            head,
            "> **Boot check:** {}:\n>",
            boot_heading(&plan.boot, outcomes.mode, "`--allow-incomplete`")
        );
        for (file, phones) in &plan.boot.missing {
            let _ = writeln!(head, "> - {}: {}", code(file), phones_line(phones, code));
        }
        head.push('\n');
    }
    head.push_str(&changes_table(plan));
    for o in &plan.overrides {
        let _ = writeln!(
            head,
            "- {} of phone {}{}",
            code(&o.file),
            code(&o.phone),
            override_effect(o, code)
        );
    }
    if !plan.overrides.is_empty() {
        head.push('\n');
    }
    head
}

/// Every change of a plan in a table, deletes first (empty when nothing
/// changes).
fn changes_table(plan: &Plan) -> String {
    let mut changed: Vec<&FileChange> = plan.changes().collect();
    if changed.is_empty() {
        return String::new();
    }
    changed.sort_by_key(|f| (f.action != Action::Delete, f.name.clone()));
    let mut table = String::from("| action | file | note |\n|---|---|---|\n");
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
            table,
            "| {action} | {} | {} |",
            code(&f.name),
            notes.join("; ")
        );
    }
    table.push('\n');
    table
}

/// Below the fold: each diff in `<details>`, as many as fit in `limit`
/// after a head of `head_len` characters; and how many were left out.
fn diffs(outcomes: &Outcomes, head_len: usize, limit: usize) -> (String, usize) {
    let mut body = String::new();
    let mut left_out = 0usize;
    let reserve = 200;
    for plan in outcomes.sites.iter().filter_map(|s| s.plan()) {
        for f in &plan.files {
            let Some(diff) = &f.diff else { continue };
            let mut block = params_table(f, &plan.site.name);
            let _ = write!(
                block,
                "<details><summary>{} {} ({}){}</summary>\n\n```diff\n{}```\n\n</details>\n\n",
                f.action.word(),
                code(&f.name),
                plan.site.name,
                if f.formatting_only {
                    ": formatting only"
                } else {
                    ""
                },
                diff.replace("```", "`\u{200b}``")
            );
            if head_len + body.len() + block.len() + reserve <= limit {
                body.push_str(&block);
            } else {
                left_out += 1;
            }
        }
    }
    (body, left_out)
}

/// `text` when it is at most `limit` characters; else cut at a line
/// boundary, saying so (even the tables were too long).
fn cut_to(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let note =
        "\n_…output cut to stay under the comment size limit; run `polyops plan` for the rest._\n";
    let mut cut = limit.saturating_sub(note.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = text[..cut].rfind('\n').unwrap_or(cut);
    text.truncate(cut);
    text.push_str(note);
    text
}

#[cfg(test)]
mod tests {
    use super::{code, render, LIMIT};
    use crate::error::Error;
    use crate::output::{Mode, Outcomes};
    use crate::reconcile::outcome::{Outcome, SiteOutcome};
    use crate::reconcile::plan::SiteId;

    fn failed_sites(n: usize) -> Vec<SiteOutcome> {
        (0..n)
            .map(|i| {
                let site = SiteId {
                    name: format!("site-{i:04}"),
                    file: "s.yaml".to_owned(),
                    target: "dir:r".to_owned(),
                };
                let error = Error::Remote {
                    site: site.name.clone(),
                    target: site.target.clone(),
                    message: format!("connect to 192.0.2.{} timed out", i % 250),
                    hint: None,
                };
                SiteOutcome::new(site, Outcome::Failed(error))
            })
            .collect()
    }

    fn drift(sites: &[SiteOutcome]) -> Outcomes<'_> {
        Outcomes::new(Mode::Drift, sites)
    }

    #[test]
    fn many_sites_start_with_a_table_of_every_site() {
        let md = render(&drift(&failed_sites(3)), LIMIT);
        let table = md.find("| site | create |").expect("a table");
        let first_detail = md.find("### site-0000").expect("details");
        assert!(table < first_detail, "{md}");
        assert!(md.contains("| <code>site-0002</code> | 0 | 0 | 0 | 0 | 0 | **error:** <code>site site-0002: target dir:r: connect to 192.0.2.2 timed out</code> |"), "{md}");
    }

    #[test]
    fn however_many_sites_the_comment_stays_under_the_limit() {
        for n in [1, 50, 700, 3000] {
            let md = render(&drift(&failed_sites(n)), LIMIT);
            assert!(md.len() <= LIMIT, "{n} sites: {} characters", md.len());
        }
        let md = render(&drift(&failed_sites(3000)), LIMIT);
        assert!(md.contains("output cut to stay under"), "says it was cut");
        assert!(md.contains("site-0000"));
    }

    #[test]
    fn a_servers_words_and_a_target_cannot_become_markup_or_a_mention() {
        let site = SiteId {
            name: "site-0000".to_owned(),
            file: "s.yaml".to_owned(),
            target: "ftp://a@b/`x`".to_owned(),
        };
        let error = Error::Remote {
            site: site.name.clone(),
            target: site.target.clone(),
            message: "530 @all see [here](http://x) <img src=y>".to_owned(),
            hint: None,
        };
        let sites = vec![SiteOutcome::new(site, Outcome::Failed(error))];
        let md = render(&drift(&sites), LIMIT);
        assert!(
            md.contains("### site-0000 → <code>ftp://a@b/&#96;x&#96;</code>\n\n**error:** <code>site site-0000: target ftp://a@b/&#96;x&#96;: 530 @all see &#91;here&#93;(http://x) &lt;img src=y&gt;</code>\n"),
            "{md}"
        );
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
