//! The report as a merge-request comment: summary line first, deletes above
//! the fold, every diff in `<details>`, never over 65,000 characters (it says
//! what it left out).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{boot_heading, closing_line, override_effect, summary_line, Mode, Report};
use crate::reconcile::boot::phones_line;
use crate::reconcile::plan::Action;

/// A name as inline code that nothing in it can break out of: file
/// names may come from the target's state file, and `<`, `&`, a backtick
/// or `|` in one must not become markup or end a table cell.
fn code(name: &str) -> String {
    let mut out = String::from("<code>");
    for c in name.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '|' => out.push_str("&#124;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out.push_str("</code>");
    out
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
            let _ = writeln!(
                head,
                "> **Warning:** apply refuses this plan without `--allow-mass-delete`: {reason}.\n"
            );
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
                let note = match (f.drift_note(), f.adopted) {
                    (Some(note), _) => note,
                    (None, true) => "taken over (not written by polyops before)",
                    _ => "",
                };
                let _ = writeln!(head, "| {action} | {} | {note} |", code(&f.name));
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
            let block = format!(
                "<details><summary>{} {} ({})</summary>\n\n```diff\n{}```\n\n</details>\n\n",
                f.action.word(),
                code(&f.name),
                site.site,
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
    use super::code;

    #[test]
    fn names_cannot_break_out_of_their_code_span_or_table_cell() {
        assert_eq!(
            code("a|b`<img src=x>&"),
            "<code>a&#124;b&#96;&lt;img src=x&gt;&amp;</code>"
        );
    }
}
