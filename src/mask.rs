//! Secret masking for every output: the value of any attribute whose name
//! holds "password" (whatever its source, even one found on a target that
//! polyops never knew), and every declared secret wherever it appears.

use crate::secret::MASK;
use crate::xml::escape;

#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Secret values, longest first so a secret containing another is
    /// masked whole.
    values: Vec<String>,
}

impl Masker {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut values: Vec<String> = Vec::new();
        for s in secrets.into_iter().filter(|s| !s.is_empty()) {
            let escaped = escape(&s);
            if escaped != s {
                values.push(escaped);
            }
            values.push(s);
        }
        values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        values.dedup();
        Self { values }
    }

    /// Text from outside (a server's reply, a name or owner file read from
    /// a target) made fit to print: control characters (terminal escapes,
    /// CR, LF) and direction overrides dropped first, so none can split a
    /// secret, then every secret masked.
    pub fn clean(&self, text: &str) -> String {
        self.mask(&printable(text))
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = mask_password_attributes(text);
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

/// `text` without control characters or the Unicode marks that reorder
/// what a terminal shows; for anything that came from outside.
pub fn printable(text: &str) -> String {
    text.chars()
        .filter(|&c| !crate::target::name::is_unprintable(c))
        .collect()
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
        if crlf || c == '\n' || c == '\t' || !crate::target::name::is_unprintable(c) {
            out.push(c);
        } else if u32::from(c) < 0x100 {
            out.push_str(&format!("\\x{:02x}", u32::from(c)));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        }
    }
    out
}

/// `…password="x"` / `…Password='x'` → `…password="********"`.
fn mask_password_attributes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((name_end, quote_at, quote)) = next_attribute(rest) {
        let name = name_before(&rest[..name_end]);
        let value_start = quote_at + 1;
        let value_len = rest[value_start..]
            .find(quote)
            .unwrap_or(rest.len() - value_start);
        out.push_str(&rest[..value_start]);
        if name.to_ascii_lowercase().contains("password") {
            out.push_str(MASK);
        } else {
            out.push_str(&rest[value_start..value_start + value_len]);
        }
        rest = &rest[value_start + value_len..];
    }
    out.push_str(rest);
    out
}

/// The next `name=` followed by a quote: (end of name, index of quote, quote).
fn next_attribute(s: &str) -> Option<(usize, usize, char)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            if j < bytes.len() && (bytes[j] == b'"' || bytes[j] == b'\'') {
                return Some((i, j, bytes[j] as char));
            }
        }
        i += 1;
    }
    None
}

/// The attribute name that ends `before` (the text up to its `=`),
/// spaces before the `=` allowed.
fn name_before(before: &str) -> &str {
    let trimmed = before.trim_end();
    let start = trimmed
        .rfind(|c: char| !is_name_char(c))
        .map_or(0, |i| i + 1);
    &trimmed[start..]
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':')
}

/// Attribute names of an XML-ish text, in order (for override reports).
pub fn attribute_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some((name_end, quote_at, quote)) = next_attribute(rest) {
        let name = name_before(&rest[..name_end]);
        if !name.is_empty() {
            names.push(name.to_owned());
        }
        let after = &rest[quote_at + 1..];
        rest = match after.find(quote) {
            Some(end) => &after[end + 1..],
            None => "",
        };
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_attributes_are_masked_whatever_their_value() {
        let m = Masker::default();
        assert_eq!(
            m.mask(r#"<reg reg.1.auth.password="unknown-to-us" reg.1.label="201"/>"#),
            r#"<reg reg.1.auth.password="********" reg.1.label="201"/>"#
        );
        assert_eq!(m.mask("x.Password = 'a'"), "x.Password = '********'");
    }

    #[test]
    fn declared_secrets_are_masked_anywhere_raw_or_escaped() {
        let m = Masker::new(["s&cret".to_owned()]);
        assert_eq!(m.mask("a s&cret b s&amp;cret"), "a ******** b ********");
    }

    #[test]
    fn text_from_outside_loses_control_characters_before_masking() {
        let m = Masker::new(["hunter2".to_owned()]);
        assert_eq!(
            m.clean("530 \x1b[2Jbad\r\nDELE x\u{202e}"),
            "530 [2JbadDELE x"
        );
        assert_eq!(
            m.clean("530 PASS hunt\rer2 refused"),
            "530 PASS ******** refused"
        );
        assert_eq!(printable("a\x07b\tc"), "abc");
    }

    #[test]
    fn file_contents_keep_their_lines_and_show_escapes() {
        assert_eq!(
            visible("a\tb\n\x1b[2J\r\n\u{202e}x\ry"),
            "a\tb\n\\x1b[2J\r\n\\u{202e}x\\x0dy"
        );
    }

    #[test]
    fn attribute_names_are_listed() {
        assert_eq!(
            attribute_names(r#"<a x.y="1" b='2'/><c d="3"/>"#),
            vec!["x.y", "b", "d"]
        );
    }
}
