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

impl Masker {
    /// Whether `text` holds anything [`Masker::mask`] would hide.
    pub fn holds_secret(&self, text: &str) -> bool {
        has_password_attribute(text.as_bytes())
            || self.values.iter().any(|v| text.contains(v.as_str()))
    }
}

/// Whether `bytes` hold a `…password=` attribute with a quoted value, in
/// one pass over them (any size; not necessarily UTF-8).
pub fn has_password_attribute(bytes: &[u8]) -> bool {
    let mut name_start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'=' {
            continue;
        }
        let quoted = bytes[i + 1..]
            .iter()
            .find(|&&c| c != b' ')
            .is_some_and(|&c| c == b'"' || c == b'\'');
        if quoted {
            let mut end = i;
            while end > name_start && bytes[end - 1] == b' ' {
                end -= 1;
            }
            let mut start = end;
            while start > name_start && is_name_char(char::from(bytes[start - 1])) {
                start -= 1;
            }
            let name = &bytes[start..end];
            if name.windows(8).any(|w| w.eq_ignore_ascii_case(b"password")) {
                return true;
            }
        }
        // A name never spans an `=`: the next one starts after it.
        name_start = i + 1;
    }
    false
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
    fn password_attributes_are_found_in_any_bytes() {
        assert!(has_password_attribute(b"<a reg.1.auth.Password = 'x'/>"));
        assert!(has_password_attribute(b"\xff\x00 password=\"\""));
        assert!(!has_password_attribute(b"<a reg.1.label=\"password\"/>"));
        assert!(!has_password_attribute(b"password"));
        assert!(Masker::new(["s3cret".to_owned()]).holds_secret("a s3cret"));
        assert!(!Masker::new(["s3cret".to_owned()]).holds_secret("a=\"b\""));
    }

    #[test]
    fn attribute_names_are_listed() {
        assert_eq!(
            attribute_names(r#"<a x.y="1" b='2'/><c d="3"/>"#),
            vec!["x.y", "b", "d"]
        );
    }
}
