//! Printable text: what of a text from outside (a server's reply, a name
//! read from a target, a cell of an inventory) a terminal may be shown.
//! A leaf that uses nothing of polyops, so that every stage, from the site
//! file's checks to the outputs, can say it the same way.

/// Control characters (terminal escapes, CR, LF, NUL, NEL…), the Unicode
/// line and paragraph separators (a line break to many terminals and
/// editors), the marks that reorder what a terminal shows, and the
/// invisible ones that make two names look alike (zero-width space, word
/// joiner, byte order mark): never in a name, never printed.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `text` without control characters or the Unicode marks that reorder
/// what a terminal shows; for anything that came from outside.
pub fn printable(text: &str) -> String {
    text.chars().filter(|&c| !is_unprintable(c)).collect()
}

/// `c` written as an escape (`\x1b`, `\u{202e}`).
fn push_escape(out: &mut String, c: char) {
    if u32::from(c) < 0x100 {
        out.push_str(&format!("\\x{:02x}", u32::from(c)));
    } else {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    }
}

/// `text` with line breaks (LF, CR LF) and tabs kept and every other
/// unprintable character shown as an escape (`\x1b`, `\u{202e}`, a lone
/// `\x0d`): for file contents from a target, whose diff a terminal would
/// otherwise obey.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let crlf = c == '\r' && chars.peek() == Some(&'\n');
        if crlf || c == '\n' || c == '\t' || !is_unprintable(c) {
            out.push(c);
        } else {
            push_escape(&mut out, c);
        }
    }
    out
}

/// `text` on one line: every unprintable character, line breaks and tabs
/// included, shown as an escape; for a value from a target printed inside
/// a line or a table cell.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unprintable(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_reordering_marks_are_dropped() {
        assert_eq!(printable("a\x07b\tc"), "abc");
        assert_eq!(printable("x\u{202e}y\u{2066}z"), "xyz");
        assert!(is_unprintable('\0') && !is_unprintable('é'));
    }

    #[test]
    fn file_contents_keep_their_lines_and_show_escapes() {
        assert_eq!(
            visible("a\tb\n\x1b[2J\r\n\u{202e}x\ry"),
            "a\tb\n\\x1b[2J\r\n\\u{202e}x\\x0dy"
        );
    }
}
