//! Shell blocks as a reader types them: the commands of an `sh` block, the
//! steps of a `console` transcript, and whether output is what a page
//! shows, `…` standing for what it leaves out.

use super::markdown::Block;

/// One command of a block: a line, with the lines a trailing `\` or a
/// here-document carries on to.
#[derive(Debug, Clone)]
pub struct Command {
    /// Line in the page, from 1.
    pub line: usize,
    pub text: String,
    /// The exit status the page documents with a `# exit N` comment, 0
    /// when it names none.
    pub exit: i32,
}

/// The commands of an `sh` block; blank lines and comment lines are none.
pub fn commands(block: &Block) -> Vec<Command> {
    let lines: Vec<&str> = block.text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let first = i;
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let mut text = lines[i].to_owned();
        while text.ends_with('\\') && i + 1 < lines.len() {
            i += 1;
            text.push('\n');
            text.push_str(lines[i]);
        }
        if let Some(end) = heredoc_end(&text) {
            loop {
                i += 1;
                assert!(
                    i < lines.len(),
                    "{}: the here-document of line {} never ends ({end})",
                    block.page,
                    block.line + 1 + first
                );
                text.push('\n');
                text.push_str(lines[i]);
                if lines[i].trim_start_matches('\t') == end {
                    break;
                }
            }
        }
        i += 1;
        out.push(Command {
            line: block.line + 1 + first,
            exit: documented_exit(&text),
            text,
        });
    }
    out
}

/// The word that ends a here-document the command opens (`<<EOF`,
/// `<<'EOF'`, `<<-EOF`).
fn heredoc_end(text: &str) -> Option<String> {
    let at = text.find("<<")?;
    let rest = text[at + 2..].trim_start_matches('-').trim_start();
    let word: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

/// `# exit N` in the command's comment.
fn documented_exit(text: &str) -> i32 {
    let Some(at) = text.rfind("# exit ") else {
        return 0;
    };
    let digits: String = text[at + 7..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or(0)
}

/// A command of a `console` transcript and the output shown under it.
#[derive(Debug)]
pub struct Step {
    pub line: usize,
    pub command: String,
    pub output: Vec<String>,
}

/// The steps of a transcript: a line starting with `$ ` is a command (a
/// trailing `\` carries it on to the next line); the lines up to the next
/// command are its output.
pub fn transcript(block: &Block) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continued = false;
    for (n, line) in block.text.lines().enumerate() {
        if continued {
            let step = steps.last_mut().expect("a continued command");
            step.command.push('\n');
            step.command.push_str(line);
            continued = line.ends_with('\\');
        } else if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: block.line + 1 + n,
                command: command.to_owned(),
                output: Vec::new(),
            });
            continued = command.ends_with('\\');
        } else {
            let step = steps.last_mut().unwrap_or_else(|| {
                panic!(
                    "{}: a console block starts with output, not a `$ ` command",
                    block.at()
                )
            });
            step.output.push(line.to_owned());
        }
    }
    steps
}

/// A line that stands for any number of lines: `…` alone (after spaces
/// and a comment's `#`).
fn is_gap(line: &str) -> bool {
    line.trim().trim_start_matches('#').trim() == "…"
}

/// Whether `line` is what `pattern` shows: `…` in it stands for any text.
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let (pattern, line) = (pattern.trim_end(), line.trim_end());
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the output `actual` is what `expected` shows.
pub fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if is_gap(first) => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => match actual.split_first() {
            Some((line, more)) => line_matches(first, line) && output_matches(rest, more),
            None => false,
        },
    }
}

/// Commands a block may show without being run here, and why: each
/// changes the machine as root, or needs what a test has not got.
pub const NOT_RUN_HERE: &[(&str, &str)] = &[
    ("sudo", "changes the machine as root"),
    ("apt-get", "installs packages on the machine"),
    ("systemctl", "manages the machine's services"),
    ("docker", "needs a container engine and a registry"),
    (
        "cargo install",
        "builds a release binary for minutes; the tests run their own build",
    ),
    ("cargo test", "is the test suite this check runs in"),
];

/// The programs of the command's pipeline stages (after `VAR=value`
/// words), each with its first argument.
fn programs(command: &str) -> Vec<String> {
    command
        .split(['|', ';', '&'])
        .filter_map(|stage| {
            let mut words = stage
                .split_whitespace()
                .skip_while(|w| w.contains('=') && !w.starts_with('-'));
            let program = words.next()?;
            Some(match words.next() {
                Some(arg) => format!("{program} {arg}"),
                None => program.to_owned(),
            })
        })
        .collect()
}

/// Why the command cannot run in a test, if it is one of
/// [`NOT_RUN_HERE`]'s.
pub fn not_run_here(command: &str) -> Option<&'static str> {
    programs(command).iter().find_map(|p| {
        NOT_RUN_HERE.iter().find_map(|(name, why)| {
            (p == name || p.starts_with(&format!("{name} "))).then_some(*why)
        })
    })
}
