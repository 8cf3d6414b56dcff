//! The morning report: one self-contained HTML page (docs/outputs.md
//! "HTML"). Inline CSS, no script, nothing fetched from anywhere (a
//! Content-Security-Policy says so to the browser too), every section
//! readable with `<details>` alone. Every piece of text passes [`esc`]:
//! names, values and diff lines may come from a target anyone with the
//! phones' account can write.

use std::fmt::Write as _;

pub mod phones;
mod plan;

pub use plan::Html;

/// Text as HTML that nothing in it can break out of: the five characters
/// that mean something in markup become entities, and characters that
/// would hide or reorder what is shown (bidirectional overrides,
/// zero-width marks, line and paragraph separators, other controls) are
/// shown as `\u{…}` instead.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if hides_text(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether `c` is a control or an invisible formatting character: what a
/// reader of the page could not see, or what would reorder the text
/// around it.
fn hides_text(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200b}'..='\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}')
}

/// A name as inline code.
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(text))
}

/// An `id` for a site's section: site names are `[a-z0-9-]` already, but
/// the id is made safe whatever it is given.
pub fn anchor(site: &str) -> String {
    let safe: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("site-{safe}")
}

/// The page around `body`: its title, the CSS, and the policy that
/// forbids scripts and every fetch.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        esc(title)
    )
}

/// One diff, each line classed by what it does (added, removed, hunk
/// header, file header) so the page colours it.
pub fn diff_block(diff: &str) -> String {
    let mut out = String::from("<pre class=\"diff\">");
    for line in diff.lines() {
        let class = if line.starts_with("+++") || line.starts_with("---") {
            "head"
        } else if line.starts_with('+') {
            "add"
        } else if line.starts_with('-') {
            "del"
        } else if line.starts_with("@@") {
            "hunk"
        } else {
            "ctx"
        };
        let _ = writeln!(out, "<span class=\"{class}\">{}</span>", esc(line));
    }
    out.push_str("</pre>\n");
    out
}

const CSS: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em auto;max-width:72em;padding:0 1em;color:#1b1f23;background:#fff}
h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.8em 0 .4em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0 1em}th,td{border:1px solid #d0d7de;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;padding:0 .25em;border-radius:3px;overflow-wrap:anywhere}
details{margin:.4em 0;border:1px solid #d0d7de;border-radius:4px;padding:.3em .6em}summary{cursor:pointer}
pre.diff{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-x:auto;margin:.5em 0;white-space:pre}
.phones td:first-child code{white-space:nowrap}
pre.diff span{display:block}.add{background:#e6ffec}.del{background:#ffebe9}.hunk{color:#0550ae}.head{font-weight:bold}
.ok{color:#1a7f37}.warn{color:#9a6700}.err{color:#cf222e;font-weight:bold}
.note{border-left:4px solid #d4a72c;background:#fff8c5;padding:.4em .8em;margin:.6em 0}
.refuse{border-left:4px solid #cf222e;background:#ffebe9;padding:.4em .8em;margin:.6em 0}
@media (prefers-color-scheme:dark){body{color:#e6edf3;background:#0d1117}th{background:#161b22}th,td,details{border-color:#30363d}
code{background:#161b22}.add{background:#12261e}.del{background:#25171c}.hunk{color:#79c0ff}
.note{background:#272115}.refuse{background:#25171c}}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_stays_text() {
        assert_eq!(
            esc("</details><script>alert('x')</script>\"&"),
            "&lt;/details&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"
        );
    }

    #[test]
    fn characters_that_hide_or_reorder_text_are_shown_as_escapes() {
        assert_eq!(esc("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(
            esc("a\u{2028}b\u{200b}c\u{1b}[31m"),
            "a\\u{2028}b\\u{200b}c\\u{1b}[31m"
        );
        assert_eq!(esc("déjà vu\n"), "déjà vu\n");
    }

    #[test]
    fn section_anchors_hold_only_safe_characters() {
        assert_eq!(anchor("hq-2"), "site-hq-2");
        assert_eq!(anchor("a\"><b"), "site-a___b");
    }

    #[test]
    fn diff_lines_are_classed_and_escaped() {
        let block = diff_block("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-<a/>\n+<b/>\n same\n");
        assert!(
            block.contains("<span class=\"del\">-&lt;a/&gt;</span>"),
            "{block}"
        );
        assert!(
            block.contains("<span class=\"add\">+&lt;b/&gt;</span>"),
            "{block}"
        );
        assert!(
            block.contains("<span class=\"hunk\">@@ -1 +1 @@</span>"),
            "{block}"
        );
        assert!(
            block.contains("<span class=\"head\">--- a/x</span>"),
            "{block}"
        );
    }
}
