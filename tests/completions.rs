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

// ------------------------------------------------------ site names, in the shells

/// A folder with two sites starting `ex`, one that does not, the defaults
/// (no site), and `other/` with a site of its own; the script of `shell`
/// written beside them.
fn site_folders(shell: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in [
        "sites/example-hq.yaml",
        "sites/example-branch.yaml",
        "sites/warehouse.yaml",
        "sites/_defaults.yaml",
        "sites/exit-notes.txt",
        "other/exotic.yaml",
    ] {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
        std::fs::write(&path, "site: x\n").expect("file");
    }
    let file = dir.path().join(format!("polyops.{shell}"));
    std::fs::write(&file, script(shell)).expect("script written");
    (dir, file.display().to_string())
}

/// Run `shell args…` in `dir`, with the polyops under test first on PATH
/// (the scripts call `polyops`); its standard output.
fn in_shell(shell: &Path, args: &[&str], dir: &Path) -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_polyops"))
        .parent()
        .expect("the binary's folder")
        .to_owned();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
        .expect("a PATH");
    let out = std::process::Command::new(shell)
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("POLYOPS_SECRETS_FILE")
        .output()
        .expect("the shell runs");
    assert!(out.status.success(), "{}", tools::said(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What `line` completes to, one candidate a line (bash: the completion
/// function `complete -p polyops` names, called as readline calls it).
fn bash_completes(bash: &Path, dir: &Path, script: &str, line: &str) -> Vec<String> {
    let program = format!(
        r#"source {script:?}
line={line:?}
read -ra COMP_WORDS <<< "$line"
[[ "$line" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="$line"; COMP_POINT=${{#line}}
fn=$(complete -p polyops | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMPREPLY=()
"$fn" polyops "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#
    );
    in_shell(bash, &["--norc", "--noprofile", "-c", &program], dir)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_site_names_from_the_sites_folder() {
    let Some(bash) = tools::require("bash", "bash") else {
        return;
    };
    let (dir, script) = site_folders("bash");
    let got = bash_completes(&bash, dir.path(), &script, "polyops plan ex");
    assert!(got.contains(&"example-hq".to_owned()), "{got:?}");
    assert!(got.contains(&"example-branch".to_owned()), "{got:?}");
    assert!(
        !got.iter()
            .any(|c| c.contains("warehouse") || c.contains("defaults")),
        "{got:?}"
    );
    let got = bash_completes(&bash, dir.path(), &script, "polyops --sites other plan ");
    assert!(got.contains(&"exotic".to_owned()), "{got:?}");
    assert!(!got.contains(&"example-hq".to_owned()), "{got:?}");
    let got = bash_completes(&bash, dir.path(), &script, "polyops doctor --sites other e");
    assert_eq!(got, ["exotic"], "{got:?}");
    // A new site's name is not one of the folder's.
    let got = bash_completes(&bash, dir.path(), &script, "polyops import ex");
    assert!(!got.contains(&"example-hq".to_owned()), "{got:?}");
    // Commands still complete as before.
    let got = bash_completes(&bash, dir.path(), &script, "polyops pl");
    assert_eq!(got, ["plan"], "{got:?}");
}

#[test]
fn fish_completes_site_names_from_the_sites_folder() {
    let Some(fish) = tools::require("fish", "fish") else {
        return;
    };
    let (dir, script) = site_folders("fish");
    let completes = |line: &str| -> Vec<String> {
        let program = format!("source {script:?}; complete -C {line:?}");
        in_shell(&fish, &["--no-config", "-c", &program], dir.path())
            .lines()
            .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
            .collect()
    };
    let got = completes("polyops plan ex");
    assert!(got.contains(&"example-hq".to_owned()), "{got:?}");
    assert!(got.contains(&"example-branch".to_owned()), "{got:?}");
    assert!(
        !got.iter()
            .any(|c| c.contains("warehouse") || c.contains("_defaults")),
        "{got:?}"
    );
    let got = completes("polyops plan --sites other ");
    assert!(got.contains(&"exotic".to_owned()), "{got:?}");
    assert!(!got.contains(&"example-hq".to_owned()), "{got:?}");
    let got = completes("polyops import ex");
    assert!(!got.contains(&"example-hq".to_owned()), "{got:?}");
}

/// Types a line and two TABs into an interactive zsh (on a pseudo
/// terminal, through zsh's own zpty) that sourced the script; prints what
/// the terminal showed once it matches the pattern (or after 10 s).
const ZSH_TAB: &str = r#"zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "PS1='READY> '; autoload -Uz compinit; compinit -u; source ${(q)1}; setopt nobeep; print -r -- SOURCED"
out=
wait_for() {
  local line tries=0
  while (( tries++ < 100 )); do
    while zpty -r -t z line; do out+=$line; done
    [[ $out == $~1 ]] && return 0
    sleep 0.1
  done
  return 1
}
wait_for '*SOURCED*READY> *' || { print -r -- "no prompt: $out"; exit 1 }
out=
zpty -w -n z "$2"$'\t\t'
wait_for "$3"
print -r -- "$out"
zpty -d z
"#;

#[test]
fn zsh_completes_site_names_from_the_sites_folder() {
    let Some(zsh) = tools::require("zsh", "zsh") else {
        return;
    };
    let (dir, script) = site_folders("zsh");
    let driver = dir.path().join("tab.zsh");
    std::fs::write(&driver, ZSH_TAB).expect("driver written");
    let driver = driver.display().to_string();
    let shown = |line: &str, pattern: &str| {
        in_shell(&zsh, &["-f", &driver, &script, line, pattern], dir.path())
    };
    let seen = shown("polyops plan ex", "*example-branch*example-hq*");
    assert!(
        seen.contains("example-branch") && seen.contains("example-hq"),
        "{seen}"
    );
    assert!(!seen.contains("warehouse"), "{seen}");
    let seen = shown("polyops --sites other apply e", "*exotic*");
    assert!(seen.contains("exotic"), "{seen}");
    assert!(!seen.contains("example-hq"), "{seen}");
}
