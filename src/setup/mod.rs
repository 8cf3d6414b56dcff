//! The phones' surroundings, beside their files: what they need besides them. Takes a checked
//! `Site` (and, for `doctor`, its FTP target) and hands on text to print:
//! the DHCP options that send the phones to their boot server, the PBX-side
//! steps of the guide, and a check of the target.

pub mod checklist;
pub mod dhcp;
pub mod doctor;

/// `text` wrapped at `width` columns, each line starting with `prefix`
/// (`# ` for a comment). Words are never split.
pub fn wrap(text: &str, width: usize, prefix: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && prefix.len() + line.len() + 1 + word.len() > width {
            out.push_str(prefix);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(prefix);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_words_whole_and_prefixes_every_line() {
        assert_eq!(
            wrap("one two three four", 11, "# "),
            "# one two\n# three\n# four\n"
        );
        assert_eq!(wrap("", 10, "# "), "");
        assert_eq!(
            wrap("averyveryverylongword x", 8, "# "),
            "# averyveryverylongword\n# x\n"
        );
    }
}
