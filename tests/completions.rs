//! Shell completions and man pages, made from the clap definitions: each
//! script passes its shell's own syntax check (bash -n, zsh -n,
//! fish --no-execute) and names every command; each man page renders with
//! groff without a warning, lists every command and shows EXAMPLES.

use crate::common;
use crate::tools;

use std::path::Path;

use common::Test;

/// The commands `polyops --help` lists (but `help`).
fn commands() -> Vec<String> {
    let help = Test::new().args(["--help"]).run().status(0).stdout;
    let list: Vec<String> = help
        .split("Commands:\n")
        .nth(1)
        .expect("--help lists commands")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect();
    for c in [
        "validate",
        "plan",
        "apply",
        "dhcp",
        "doctor",
        "completions",
        "man",
    ] {
        assert!(list.iter().any(|l| l == c), "{c} is not in {list:?}");
    }
    list
}

/// The words of `text`: runs of letters, digits, `-` and `_`.
fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

fn script(shell: &str) -> String {
    Test::new()
        .args(["completions", shell])
        .run()
        .status(0)
        .stdout
}

/// `shell`'s script names every command and passes `tool args… FILE`.
fn check(shell: &str, tool: Option<(&Path, &[&str])>) {
    let text = script(shell);
    let found = words(&text);
    for c in commands() {
        // bash and zsh name a command's own function `polyops__plan`.
        assert!(
            found
                .iter()
                .any(|w| *w == c || w.ends_with(&format!("__{c}"))),
            "the {shell} script does not mention {c}"
        );
    }
    let Some((tool, args)) = tool else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(format!("polyops.{shell}"));
    std::fs::write(&file, &text).expect("script written");
    let mut all: Vec<&str> = args.to_vec();
    let file = file.display().to_string();
    all.push(&file);
    let out = tools::run(tool, &all);
    assert!(
        out.status.success(),
        "{} refused the {shell} script:\n{}",
        tool.display(),
        tools::said(&out)
    );
    // The check can fail: the script with a quote left open does not pass.
    let broken = dir.path().join("broken");
    std::fs::write(&broken, format!("{text}\necho 'unterminated\n"))
        .expect("broken script written");
    all.pop();
    let broken = broken.display().to_string();
    all.push(&broken);
    assert!(
        !tools::run(tool, &all).status.success(),
        "{} accepted a {shell} script with a quote left open",
        tool.display()
    );
}

#[test]
fn bash_completion_passes_bash_n_and_names_every_command() {
    let bash = tools::require("bash", "bash");
    check("bash", bash.as_deref().map(|b| (b, &["-n"][..])));
}

#[test]
fn zsh_completion_passes_zsh_n_and_names_every_command() {
    let zsh = tools::require("zsh", "zsh");
    check("zsh", zsh.as_deref().map(|z| (z, &["-n"][..])));
}

#[test]
fn fish_completion_passes_fish_no_execute_and_names_every_command() {
    let fish = tools::require("fish", "fish");
    check("fish", fish.as_deref().map(|f| (f, &["--no-execute"][..])));
}

#[test]
fn powershell_completion_names_every_command() {
    let text = script("powershell");
    assert!(text.contains("Register-ArgumentCompleter"), "{text}");
    check("powershell", None);
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    Test::new()
        .args(["completions", "tcsh"])
        .run()
        .status(1)
        .stderr_contains("invalid value 'tcsh'");
}

/// `groff -man -Tutf8 -ww` on `page`: what it prints, after asserting it
/// warned of nothing.
fn render(groff: &Path, page: &Path) -> String {
    let page = page.display().to_string();
    let out = tools::run(groff, &["-man", "-Tutf8", "-ww", &page]);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "groff warned about {page}:\n{}",
        tools::said(&out)
    );
    // Bold and underline as overstrikes (`X\x08X`): the plain text.
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut plain = String::new();
    for c in text.chars() {
        if c == '\u{8}' {
            plain.pop();
        } else {
            plain.push(c);
        }
    }
    // Justified lines space words unevenly: one space between words.
    plain.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_man_page_renders_without_warnings_and_lists_every_command() {
    let out = Test::new().args(["man"]).run().status(0);
    let roff = out.stdout.clone();
    assert!(
        roff.starts_with(".ie \\n(.g .ds Aq \\(aq") || roff.contains(".TH polyops 1"),
        "{roff}"
    );
    assert!(
        roff.is_ascii(),
        "groff reads Latin-1 unless told otherwise: keep the page ASCII"
    );
    let Some(groff) = tools::require("groff", "groff-base") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("polyops.1");
    std::fs::write(&file, &roff).expect("page written");
    let text = render(&groff, &file);
    assert!(text.contains("SUBCOMMANDS"), "{text}");
    for c in commands() {
        assert!(
            text.contains(&format!("polyops-{c}(1)")),
            "the page does not list {c}:\n{text}"
        );
    }
    // The guide's sections read as they should.
    assert!(text.contains("(guide §7.2-7.3)"), "{text}");
}

#[test]
fn man_out_writes_a_page_per_command() {
    let out = Test::new()
        .args(["man", "--out", "man"])
        .run()
        .status(0)
        .stdout_contains("man pages to man");
    let pages = out.files_in("man");
    let mut expected: Vec<String> = commands()
        .iter()
        .map(|c| format!("polyops-{c}.1"))
        .collect();
    expected.push("polyops.1".to_owned());
    expected.sort();
    assert_eq!(pages.keys().cloned().collect::<Vec<_>>(), expected);
    let Some(groff) = tools::require("groff", "groff-base") else {
        return;
    };
    for c in commands() {
        let text = render(&groff, &out.path().join(format!("man/polyops-{c}.1")));
        assert!(text.contains(&format!("polyops-{c} - ")), "{c}:\n{text}");
        assert!(text.contains(&format!("polyops {c}")), "{c}:\n{text}");
        let examples = text
            .split(" EXAMPLES ")
            .nth(1)
            .unwrap_or_else(|| panic!("polyops-{c}(1) has no EXAMPLES:\n{text}"));
        assert!(
            examples.contains("polyops ") && examples.contains(&format!(" {c}")),
            "polyops-{c}(1)'s EXAMPLES show no polyops {c}:\n{examples}"
        );
    }
    let top = render(&groff, &out.path().join("man/polyops.1"));
    let examples = top
        .split(" EXAMPLES ")
        .nth(1)
        .expect("polyops(1) has EXAMPLES");
    for line in [
        "polyops validate",
        "polyops doctor hq",
        "polyops plan hq",
        "polyops apply --auto-approve hq",
    ] {
        assert!(examples.contains(line), "{line} is not among:\n{examples}");
    }
}
