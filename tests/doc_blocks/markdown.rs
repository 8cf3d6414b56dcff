//! What the doc tests read from a Markdown page: its fenced blocks (with
//! the info string that says what each one is), its headings as GitHub
//! turns them into anchors, and its links.

/// One fenced block: ```` ```LANG ATTR… ````, its text and where it starts.
#[derive(Debug, Clone)]
pub struct Block {
    pub page: String,
    /// Line of the opening fence, from 1.
    pub line: usize,
    pub lang: String,
    /// Words of the info string after the language (`no-run`,
    /// `file=PATH`, `output=PATH`).
    pub attrs: Vec<String>,
    /// The lines between the fences, without the fences' indentation.
    pub text: String,
}

impl Block {
    pub fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|a| a == attr)
    }

    /// The value of `key=VALUE` in the info string.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }

    pub fn at(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
}

/// A block whose closing fence is still to come.
struct Open<'a> {
    start: usize,
    indent: usize,
    lang: String,
    attrs: Vec<String>,
    lines: Vec<&'a str>,
}

/// The fenced blocks of `text`, in order. A fence may be indented (inside
/// a list item); the block's lines lose that indentation.
pub fn blocks(page: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Open> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let mut words = info.split_whitespace().map(str::to_owned);
                    open = Some(Open {
                        start: i + 1,
                        indent,
                        lang: words.next().unwrap_or_default(),
                        attrs: words.collect(),
                        lines: Vec::new(),
                    });
                }
            }
            Some(block) if trimmed == "```" => out.push(Block {
                page: page.to_owned(),
                line: block.start,
                lang: block.lang,
                attrs: block.attrs,
                text: block.lines.iter().map(|l| format!("{l}\n")).collect(),
            }),
            Some(mut block) => {
                let cut = line
                    .char_indices()
                    .take_while(|(n, c)| *n < block.indent && *c == ' ')
                    .count();
                block.lines.push(&line[cut..]);
                open = Some(block);
            }
        }
    }
    assert!(open.is_none(), "{page}: a fenced block is never closed");
    out
}

/// The page without its fenced blocks and inline code, for finding
/// headings and links in the prose.
fn prose(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        // Inline code spans hold examples, not links.
        let mut kept = String::new();
        for (n, part) in line.split('`').enumerate() {
            if n % 2 == 0 {
                kept.push_str(part);
            }
        }
        out.push((i + 1, kept));
    }
    out
}

/// The anchors GitHub gives the page's headings: lower case, punctuation
/// dropped, spaces as hyphens, `-1`, `-2`… for repeats.
pub fn anchors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let base = slug(title);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.push(anchor);
    }
    seen
}

pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            out.extend(c.to_lowercase());
        } else if c == ' ' {
            out.push('-');
        }
    }
    out
}

/// A link of the prose: `[text](target)`, and the line it is on.
pub struct Link {
    pub line: usize,
    pub target: String,
}

pub fn links(text: &str) -> Vec<Link> {
    let mut out = Vec::new();
    for (line, kept) in prose(text) {
        let mut rest = kept.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(Link {
                line,
                target: after[..end].trim().to_owned(),
            });
            rest = &after[end..];
        }
    }
    out
}
