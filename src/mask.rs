//! Secret masking for every output: the value of any attribute whose name
//! holds "password" (whatever its source, even one found on a target that
//! polyops never knew), and every declared secret wherever it appears.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use crate::polycom::xml::escape;
/// What of outside text may be printed: the one place it is said, used by
/// the stages from `remote` on through this module.
pub use crate::printable::{escaped, printable, visible};
use crate::site::secret::MASK;

/// The most characters of outside text one message prints.
pub const MAX_OUTSIDE_CHARS: usize = 500;

#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Secret values, longest first so a secret containing another is
    /// masked whole.
    values: Vec<String>,
    /// All of them at once: one pass over a text finds every occurrence of
    /// every secret (a site with 2,000 extensions has 2,000 secrets and
    /// 4,000 files to mask).
    finder: Option<aho_corasick::AhoCorasick>,
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
        // Building fails only past the automaton's size limits; then every
        // secret is searched for one by one.
        let finder = (!values.is_empty())
            .then(|| aho_corasick::AhoCorasick::new(&values).ok())
            .flatten();
        Self { values, finder }
    }

    /// Text from outside (a server's reply, a name or owner file read from
    /// a target) made fit to print: control characters (terminal escapes,
    /// CR, LF) and direction overrides dropped first, so none can split a
    /// secret, then every secret masked, then cut to [`MAX_OUTSIDE_CHARS`]
    /// (a reply or a state file may quote anything at any length).
    pub fn clean(&self, text: &str) -> String {
        cut(self.mask(&printable(text)))
    }

    /// Whether a parameter's value is a secret: the parameter's name holds
    /// "password" (any case), or the value holds anything [`Masker::mask`]
    /// would hide. Such a value is shown whole as `********`: masking only
    /// the secret inside it would show the rest, and so its length.
    pub fn is_secret_parameter(&self, name: &str, value: &str) -> bool {
        name.to_ascii_lowercase().contains("password") || self.holds_secret(value)
    }

    /// A parameter's value fit to print on one line: `********` for a
    /// secret ([`Masker::is_secret_parameter`]), else every unprintable
    /// character (CR, LF, tab, terminal escapes) shown as an escape, not
    /// dropped, so that two values that differ only there still look
    /// different; cut to [`MAX_OUTSIDE_CHARS`].
    pub fn parameter_value(&self, name: &str, value: &str) -> String {
        if self.is_secret_parameter(name, value) {
            MASK.to_owned()
        } else {
            cut(escaped(value))
        }
    }

    /// A parameter's name fit to print on one line, the same way (a name
    /// read from a target is as untrusted as its value), declared secrets
    /// masked.
    pub fn parameter_name(&self, name: &str) -> String {
        cut(self.mask(&escaped(name)))
    }

    pub fn mask(&self, text: &str) -> String {
        rebuild(text, &self.spans(text), |_| MASK.to_owned())
    }

    /// Whether `text` holds anything [`Masker::mask`] would hide.
    pub fn holds_secret(&self, text: &str) -> bool {
        has_password_attribute(text.as_bytes())
            || match &self.finder {
                Some(f) => f.is_match(text),
                None => self.values.iter().any(|v| text.contains(v.as_str())),
            }
    }

    /// Whether `bytes` (text or not, of any size) hold a `…password=`
    /// attribute or a declared secret: [`Masker::holds_secret`] without
    /// copying a firmware image into a string first.
    pub fn holds_secret_in(&self, bytes: &[u8]) -> bool {
        has_password_attribute(bytes)
            || match &self.finder {
                Some(f) => f.is_match(bytes),
                None => {
                    let text = String::from_utf8_lossy(bytes);
                    self.values.iter().any(|v| text.contains(v.as_str()))
                }
            }
    }

    /// Mask the diff of two texts so that a secret whose value changed
    /// says so: `diff` is run on the texts with every secret replaced by a
    /// placeholder that stands for its value (equal values, equal
    /// placeholders), and in what it returns each placeholder becomes
    /// `********`, or `******** (changed)` on an inserted (`+`) line when
    /// `before` exists and held the same attribute with another value (a
    /// declared secret outside a password attribute: when `before` did not
    /// hold that value). Neither a value nor its length reaches the result.
    pub fn mask_diff(
        &self,
        before: Option<&str>,
        after: &str,
        diff: impl FnOnce(&str, &str) -> String,
    ) -> String {
        let mut table = Placeholders::default();
        let (old, seen) = table.hide(self, before.unwrap_or(""));
        let (new, _) = table.hide(self, after);
        let raw = diff(&old, &new);
        let mut out = String::with_capacity(raw.len());
        for line in raw.split_inclusive('\n') {
            let inserted = line.starts_with('+') && before.is_some();
            let mut parts = line.split(PLACEHOLDER);
            out.push_str(parts.next().unwrap_or(""));
            // Then pairs: a placeholder, the text up to the next one.
            while let (Some(id), Some(text)) = (parts.next(), parts.next()) {
                out.push_str(MASK);
                if inserted && table.changed(id, &seen) {
                    out.push_str(" (changed)");
                }
                out.push_str(text);
            }
        }
        // The lines the diff adds (file names, hunk headers) were not in
        // the texts: declared secrets are masked there too. (Every other
        // line came from a text, whose secrets are placeholders by now.)
        let mut masked = String::with_capacity(out.len());
        for line in out.split_inclusive('\n') {
            if line.starts_with("---") || line.starts_with("+++") || line.starts_with("@@") {
                masked.push_str(&rebuild(line, &self.value_spans(line), |_| MASK.to_owned()));
            } else {
                masked.push_str(line);
            }
        }
        masked
    }

    /// Where the secrets of `text` are: byte ranges, sorted and disjoint,
    /// each with the attribute it is the value of (`None`: a declared
    /// secret found elsewhere).
    fn spans(&self, text: &str) -> Vec<Span> {
        let mut spans = password_attribute_values(text);
        spans.extend(self.value_spans(text));
        spans.sort_by_key(|s| (s.range.start, s.range.end));
        let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
        for span in spans {
            match merged.last_mut() {
                Some(last)
                    if span.range.start < last.range.end
                        || span.range.start == last.range.start =>
                {
                    last.range.end = last.range.end.max(span.range.end);
                    if last.attribute.is_none() {
                        last.attribute = span.attribute;
                    }
                }
                _ => merged.push(span),
            }
        }
        merged
    }

    /// Every occurrence of a declared secret, sorted (they may overlap).
    fn value_spans(&self, text: &str) -> Vec<Span> {
        let mut spans: Vec<Span> = Vec::new();
        match &self.finder {
            Some(f) => spans.extend(f.find_overlapping_iter(text).map(|m| Span {
                range: m.range(),
                attribute: None,
            })),
            None => {
                for v in &self.values {
                    spans.extend(text.match_indices(v.as_str()).map(|(i, m)| Span {
                        range: i..i + m.len(),
                        attribute: None,
                    }));
                }
            }
        }
        spans.sort_by_key(|s| (s.range.start, s.range.end));
        spans
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

/// A secret's place in a text.
#[derive(Debug)]
struct Span {
    range: Range<usize>,
    attribute: Option<String>,
}

/// `text` with each span replaced by what `replace` makes of it; a span
/// overlapping an earlier one is skipped (that one covered it).
fn rebuild(text: &str, spans: &[Span], mut replace: impl FnMut(&Span) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.range.start < at {
            continue;
        }
        out.push_str(&text[at..span.range.start]);
        out.push_str(&replace(span));
        at = span.range.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Delimits a placeholder. A text holding it is binary, never diffed as
/// text, so a placeholder cannot be confused with content.
const PLACEHOLDER: char = '\0';

/// The secrets of the two sides of one diff, numbered by value and by
/// attribute.
#[derive(Default)]
struct Placeholders {
    values: BTreeMap<String, usize>,
    attributes: BTreeMap<String, usize>,
    /// What each placeholder stands for: (value, attribute).
    ids: BTreeMap<String, (usize, Option<usize>)>,
}

/// The (attribute, value) pairs one side of a diff holds.
type Seen = BTreeSet<(Option<usize>, usize)>;

impl Placeholders {
    /// `text` with its secrets replaced by placeholders, and what it held.
    fn hide(&mut self, masker: &Masker, text: &str) -> (String, Seen) {
        let mut seen = Seen::new();
        let hidden = rebuild(text, &masker.spans(text), |span| {
            let next = self.values.len();
            let value = *self
                .values
                .entry(text[span.range.clone()].to_owned())
                .or_insert(next);
            let attribute = span.attribute.as_ref().map(|a| {
                let next = self.attributes.len();
                *self.attributes.entry(a.clone()).or_insert(next)
            });
            seen.insert((attribute, value));
            let id = match attribute {
                Some(a) => format!("{value}.{a}"),
                None => value.to_string(),
            };
            self.ids.insert(id.clone(), (value, attribute));
            format!("{PLACEHOLDER}{id}{PLACEHOLDER}")
        });
        (hidden, seen)
    }

    /// Whether the secret behind placeholder `id` took the place of another
    /// value the old side held (`old`).
    fn changed(&self, id: &str, old: &Seen) -> bool {
        let Some(&(value, attribute)) = self.ids.get(id) else {
            return false;
        };
        match attribute {
            Some(a) => old.iter().any(|&(oa, _)| oa == Some(a)) && !old.contains(&(Some(a), value)),
            None => !old.iter().any(|&(_, v)| v == value),
        }
    }
}

/// The values of `…password="x"` / `…Password='x'` attributes (an
/// unterminated value runs to the end of the text).
fn password_attribute_values(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut offset = 0;
    let mut rest = text;
    while let Some((name_end, quote_at, quote)) = next_attribute(rest) {
        let name = name_before(&rest[..name_end]);
        let value_start = quote_at + 1;
        let value_len = rest[value_start..]
            .find(quote)
            .unwrap_or(rest.len() - value_start);
        if name.to_ascii_lowercase().contains("password") {
            spans.push(Span {
                range: offset + value_start..offset + value_start + value_len,
                attribute: Some(name.to_owned()),
            });
        }
        offset += value_start + value_len;
        rest = &rest[value_start + value_len..];
    }
    spans
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

/// `text` cut to [`MAX_OUTSIDE_CHARS`], with `…` where it was cut.
fn cut(text: String) -> String {
    match text.char_indices().nth(MAX_OUTSIDE_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_and_nested_secrets_are_masked_whole() {
        let m = Masker::new(["abc".to_owned(), "bcd".to_owned(), "b".to_owned()]);
        assert_eq!(m.mask("x abcd y b z"), "x ******** y ******** z");
        assert!(m.holds_secret("..bcd.."));
        assert!(!m.holds_secret("ac"));
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
        let long = m.clean(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_OUTSIDE_CHARS + 1);
    }

    #[test]
    fn unicode_line_breaks_bidi_and_invisible_marks_are_dropped_or_escaped() {
        let hostile = "a\u{2028}b\u{2029}c\u{85}d\u{61c}e\u{2067}f\u{200b}g\u{feff}h";
        assert_eq!(printable(hostile), "abcdefgh");
        assert_eq!(Masker::default().clean(hostile), "abcdefgh");
        assert_eq!(
            escaped(hostile),
            "a\\u{2028}b\\u{2029}c\\x85d\\u{61c}e\\u{2067}f\\u{200b}g\\u{feff}h"
        );
        assert_eq!(visible("a\u{2028}b\n"), "a\\u{2028}b\n");
        assert_eq!(
            Masker::default().parameter_value("reg.1.label", "x\u{2029}y"),
            "x\\u{2029}y"
        );
        // What a person writes is kept: accents, other scripts, emoji
        // (a zero-width joiner binds an emoji sequence).
        let written = "Zoë 東京 👩\u{200d}💻";
        assert_eq!(printable(written), written);
    }

    #[test]
    fn a_parameter_value_is_one_line_and_a_secret_one_is_masked_whole() {
        let m = Masker::new(["1212".to_owned()]);
        assert_eq!(
            m.parameter_value("reg.1.label", "a\r\n\tb\x1b[2J"),
            "a\\x0d\\x0a\\x09b\\x1b[2J"
        );
        assert_eq!(m.parameter_value("reg.1.label", "x1212y"), MASK);
        assert_eq!(m.parameter_value("x.Password", "anything"), MASK);
        assert_eq!(m.parameter_value("x.password", ""), MASK);
        assert_eq!(m.parameter_name("a\u{202e}b"), "a\\u{202e}b");
        let long = m.parameter_value("a.b", &"x".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_OUTSIDE_CHARS + 1);
    }

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
}
