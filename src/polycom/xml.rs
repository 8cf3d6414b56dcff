//! A small writer for the configuration XML the phones read: elements with
//! attributes, every value escaped. One attribute per line when there are
//! several, so a plan's diff shows exactly the parameter that changed.

/// Escape an attribute value (quoted with `"`). Tabs and line breaks become
/// character references so XML attribute normalisation keeps them.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether XML 1.0 can carry `value` at all: its `Char` production excludes
/// the C0 controls other than tab, line feed and carriage return, and the
/// noncharacters U+FFFE and U+FFFF, escaped or not.
pub fn can_carry(value: &str) -> bool {
    value.chars().all(|c| match c {
        '\t' | '\n' | '\r' => true,
        '\u{FFFE}' | '\u{FFFF}' => false,
        c => c >= ' ',
    })
}

pub struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    /// A document with the XML declaration and a leading comment.
    pub fn new(comment: &str) -> Self {
        let mut out =
            String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
        out.push_str("<!-- ");
        out.push_str(&comment.replace("--", "- -"));
        out.push_str(" -->\n");
        Self {
            out,
            open: Vec::new(),
        }
    }

    fn indent(&mut self, extra: usize) {
        for _ in 0..(self.open.len() + extra) {
            self.out.push_str("  ");
        }
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)], close: &str) {
        self.indent(0);
        self.out.push('<');
        self.out.push_str(name);
        if attrs.len() == 1 {
            self.out.push(' ');
            self.attr(attrs[0]);
        } else {
            for a in attrs {
                self.out.push('\n');
                self.indent(1);
                self.attr(*a);
            }
        }
        self.out.push_str(close);
        self.out.push('\n');
    }

    fn attr(&mut self, (name, value): (&str, &str)) {
        self.out.push_str(name);
        self.out.push_str("=\"");
        self.out.push_str(&escape(value));
        self.out.push('"');
    }

    /// `<name attrs…>` and descend.
    pub fn open(&mut self, name: &'static str, attrs: &[(&str, &str)]) -> &mut Self {
        self.tag(name, attrs, ">");
        self.open.push(name);
        self
    }

    /// `<name attrs…/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.tag(name, attrs, "/>");
        self
    }

    /// `</name>` of the innermost open element.
    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.indent(0);
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_character_is_escaped() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("Zoë 東京"), "Zoë 東京");
    }

    #[test]
    fn only_characters_of_xml_1_0_can_be_carried() {
        assert!(can_carry("Zoë & <Bob>\t\r\n東京 \u{7f} 😀"));
        for bad in ["a\u{0}b", "\u{1}", "\u{1b}[0m", "\u{FFFE}", "x\u{FFFF}"] {
            assert!(!can_carry(bad), "{bad:?}");
        }
    }
}
