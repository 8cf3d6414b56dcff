//! docs/development.md, "Docs that run": every command block of README.md
//! and docs/*.md runs here, as a reader would run it, and every other
//! block is checked for what it is. A fence's info string says what a
//! block is:
//!
//! - `sh` / `bash`: commands, run one by one in a page's session
//!   (`pages::run`); each must exit 0, or as its `# exit N` comment says;
//! - `console`: a transcript; each `$ ` command runs and must print the
//!   lines shown under it, `…` standing for text or for lines left out;
//! - `… no-run`: shown, not run, and allowed only where every command is
//!   one a test cannot run (`shell::NOT_RUN_HERE`);
//! - `… file=PATH`: a file the reader writes: the test writes it there;
//! - `… output=PATH`: a file a command wrote: compared with it;
//! - `yaml`, `json`, `text`, `csv`, `ini`: shown; YAML and JSON must
//!   parse, and a YAML block that is a whole site file (or
//!   `sites/_defaults.yaml`) must pass `polyops --strict validate`.

mod gitlab;
mod markdown;
mod pages;
mod session;
mod shell;
pub mod vsftpd;

use markdown::Block;
use session::{repository, Session};

/// README.md and every page of docs/.
fn all_pages() -> Vec<String> {
    let mut pages = vec!["README.md".to_owned()];
    let mut docs: Vec<String> = std::fs::read_dir(repository().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

fn all_blocks() -> Vec<Block> {
    all_pages()
        .iter()
        .flat_map(|page| markdown::blocks(page, &pages::read(page)))
        .collect()
}

const RUN: [&str; 3] = ["sh", "bash", "console"];
const SHOWN: [&str; 5] = ["yaml", "json", "text", "csv", "ini"];

/// The commands of a block, as the test would run them.
fn commands_of(b: &Block) -> Vec<String> {
    if b.lang == "console" {
        shell::transcript(b)
            .into_iter()
            .map(|s| s.command)
            .collect()
    } else {
        shell::commands(b).into_iter().map(|c| c.text).collect()
    }
}

// ------------------------------------------------------------------ what a block is

#[test]
fn every_block_says_what_it_is_and_only_commands_that_cannot_run_here_are_not_run() {
    for b in all_blocks() {
        let at = b.at();
        assert!(
            RUN.contains(&b.lang.as_str()) || SHOWN.contains(&b.lang.as_str()),
            "{at}: a block of {:?}: say what it is ({} run; {} are shown)",
            b.lang,
            RUN.join(", "),
            SHOWN.join(", ")
        );
        for attr in &b.attrs {
            let known =
                attr == "no-run" || attr.starts_with("file=") || attr.starts_with("output=");
            assert!(known, "{at}: unknown block attribute {attr:?}");
        }
        if b.has("no-run") {
            assert!(
                RUN.contains(&b.lang.as_str()),
                "{at}: no-run on a {} block",
                b.lang
            );
            for command in commands_of(&b) {
                assert!(
                    shell::not_run_here(&command).is_some(),
                    "{at}: `{command}` can run in a test: take the block's no-run away"
                );
            }
        }
        if SHOWN.contains(&b.lang.as_str()) {
            assert!(
                !b.text.lines().any(|l| l.starts_with("$ ")),
                "{at}: a transcript in a {} block: make it a console block, which runs",
                b.lang
            );
        }
    }
}

#[test]
fn every_yaml_and_json_block_parses() {
    for b in all_blocks() {
        if b.attr("output").is_some() {
            continue; // compared with the file instead
        }
        match b.lang.as_str() {
            "yaml" => {
                if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(&b.text) {
                    panic!("{}: not YAML: {e}\n{}", b.at(), b.text);
                }
            }
            "json" => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&b.text) {
                    panic!("{}: not JSON: {e}\n{}", b.at(), b.text);
                }
            }
            _ => {}
        }
    }
}

/// Validate the files the block shows (`sites/` of a fresh session) as a
/// reader would; `polyops --strict validate` must pass without a word on
/// standard error.
fn validates(b: &Block, files: &[(&str, &str)]) {
    let mut s = Session::new();
    for (name, text) in files {
        std::fs::write(s.path().join("sites").join(name), text).expect("write a site file");
    }
    let (code, out) = s.run("polyops --strict validate 2>&1 >/dev/null");
    assert_eq!(
        code,
        Some(0),
        "{}: does not validate as pasted:\n{out}",
        b.at()
    );
    assert_eq!(out, "", "{}: validating it warns", b.at());
}

/// A site file the docs show whole passes validation as pasted, and so do
/// shared defaults (beside the example site).
#[test]
fn every_whole_site_file_in_the_docs_validates_as_pasted() {
    let example = pages::read("examples/example.yaml");
    let mut checked = 0;
    for b in all_blocks() {
        if b.lang != "yaml" || b.attr("output").is_some() {
            continue;
        }
        let value: serde_yaml::Value = serde_yaml::from_str(&b.text).unwrap_or_default();
        let first = b.text.lines().next().unwrap_or_default();
        if let Some(site) = value.get("site").and_then(|s| s.as_str()) {
            validates(&b, &[(&format!("{site}.yaml"), &b.text)]);
        } else if first.contains("sites/_defaults.yaml") {
            validates(
                &b,
                &[("_defaults.yaml", &b.text), ("example.yaml", &example)],
            );
        } else {
            continue;
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} whole site files in the docs");
}

#[test]
fn every_link_between_pages_resolves() {
    for page in all_pages() {
        let text = pages::read(&page);
        let folder = std::path::Path::new(&page)
            .parent()
            .expect("a page's folder")
            .to_owned();
        for link in markdown::links(&text) {
            let target = link.target.as_str();
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let at = format!("{page}:{}", link.line);
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            let path = if file.is_empty() {
                std::path::PathBuf::from(&page)
            } else {
                folder.join(file)
            };
            let full = repository().join(&path);
            assert!(full.exists(), "{at}: {target}: no such file");
            if !anchor.is_empty() {
                let anchors = markdown::anchors(&std::fs::read_to_string(&full).expect("read"));
                assert!(
                    anchors.iter().any(|a| a == anchor),
                    "{at}: {target}: no such heading; there are {anchors:?}"
                );
            }
        }
    }
}

/// The README is the way in; the reference is docs/.
#[test]
fn the_readme_stays_a_door_of_at_most_250_lines() {
    let lines = pages::read("README.md").lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines: move reference into docs/"
    );
}

// ------------------------------------------------------------------ the harness itself

#[test]
fn headings_get_the_anchors_github_gives_them() {
    let page =
        "# Adopting a site: `polyops import`\n## In CI\n```sh\n# not a heading\n```\n## In CI\n";
    assert_eq!(
        markdown::anchors(page),
        ["adopting-a-site-polyops-import", "in-ci", "in-ci-1"]
    );
}

#[test]
fn an_ellipsis_stands_for_text_in_a_line_or_for_lines() {
    assert!(shell::line_matches(
        "wrote … (mode 0600)",
        "wrote a and b (mode 0600)"
    ));
    assert!(!shell::line_matches(
        "wrote … (mode 0600)",
        "wrote a (mode 0644)"
    ));
    let page: Vec<String> = ["first", "…", "last"].map(str::to_owned).to_vec();
    assert!(shell::output_matches(&page, &["first", "a", "b", "last"]));
    assert!(shell::output_matches(&page, &["first", "last"]));
    assert!(!shell::output_matches(&page, &["first", "a"]));
}

#[test]
fn a_command_goes_on_after_a_backslash_and_through_a_here_document() {
    let b = markdown::blocks(
        "t.md",
        "```sh\n# a comment\npolyops plan \\\n  hq   # exit 2\ncat > f <<'EOF'\na\nEOF\n```\n",
    )
    .remove(0);
    let commands = shell::commands(&b);
    assert_eq!(commands.len(), 2);
    assert_eq!(commands[0].text, "polyops plan \\\n  hq   # exit 2");
    assert_eq!((commands[0].line, commands[0].exit), (3, 2));
    assert_eq!(commands[1].text, "cat > f <<'EOF'\na\nEOF");
    assert_eq!(commands[1].exit, 0);
}

#[test]
fn only_commands_a_test_cannot_run_may_go_unrun() {
    assert!(shell::not_run_here("sudo systemctl restart vsftpd").is_some());
    assert!(shell::not_run_here("echo PlcmSpIp | sudo tee /etc/x").is_some());
    assert!(shell::not_run_here("cargo install --locked --path .").is_some());
    assert!(shell::not_run_here("cargo test").is_some());
    assert!(shell::not_run_here("cargo build --release").is_none());
    assert!(shell::not_run_here("polyops plan hq").is_none());
}

// ------------------------------------------------------------------ the pages, run

#[test]
fn the_readme_runs_from_the_example_to_a_first_apply_on_its_own_vsftpd() {
    pages::run("README.md", &mut pages::Readme::default());
}

#[test]
fn the_import_page_runs_against_a_hand_made_root_on_ftp() {
    pages::run("docs/import.md", &mut pages::Import::new());
}

#[test]
fn the_explain_page_runs_on_the_example_site() {
    pages::run("docs/explain.md", &mut pages::Explain);
}

#[test]
fn the_setup_page_runs_dhcp_checklist_and_doctor() {
    pages::run("docs/setup.md", &mut pages::Setup::default());
}

/// The GitLab job that plans a merge request posts the markdown plan as a
/// note with one `curl` (the README's job and docs/ci.md's), and nothing
/// it prints shows the token.
#[test]
fn the_gitlab_plan_job_posts_the_plan_as_a_merge_request_note_without_showing_the_token() {
    let token = "glpat-doc-test-0123456789";
    let mut jobs = Vec::new();
    for b in all_blocks() {
        let Ok(doc) = serde_yaml::from_str::<serde_yaml::Value>(&b.text) else {
            continue;
        };
        let script: Vec<String> = doc
            .get("polyops-plan")
            .and_then(|job| job.get("script"))
            .and_then(|s| s.as_sequence())
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if !script.iter().any(|l| l.contains("/notes")) {
            continue;
        }
        jobs.push(b.page.clone());
        let api = gitlab::NotesApi::start();
        let mut s = Session::new();
        std::fs::copy(
            s.path().join("examples/example.yaml"),
            s.path().join("sites/example.yaml"),
        )
        .expect("the example as the repository's site");
        for (k, v) in [
            ("CI_API_V4_URL", api.url.as_str()),
            ("CI_PROJECT_ID", "42"),
            ("CI_MERGE_REQUEST_IID", "7"),
            ("POLYOPS_NOTE_TOKEN", token),
            ("POLYOPS_HASH_KEY", "a-hash-key-of-the-ci-store-0123456789"),
            ("EXT_201_PASSWORD", "1212"),
            ("EXT_202_PASSWORD", "2323"),
            ("EXT_203_PASSWORD", "3434"),
        ] {
            s.env(k, v);
        }
        for line in &script {
            let (code, out) = s.run(line);
            assert_eq!(code, Some(0), "{}: `{line}`:\n{out}", b.at());
            assert!(
                !out.contains(token),
                "{}: `{line}` shows the token:\n{out}",
                b.at()
            );
        }
        let request = api.request();
        assert_eq!(
            request.line,
            "POST /api/v4/projects/42/merge_requests/7/notes HTTP/1.1",
            "{}",
            b.at()
        );
        assert!(
            request.headers.contains(&format!("PRIVATE-TOKEN: {token}")),
            "{}: {:?}",
            b.at(),
            request.headers
        );
        let plan = std::fs::read(s.path().join("plan.md")).expect("plan.md");
        assert!(
            String::from_utf8_lossy(&plan).contains("example"),
            "{}",
            b.at()
        );
        assert_eq!(
            gitlab::form_value(&request.body, "body"),
            Some(plan),
            "{}",
            b.at()
        );
    }
    assert_eq!(jobs, ["README.md", "docs/ci.md"]);
}

/// Pages with a set-up of their own are run by the tests above.
const SET_UP: [&str; 4] = [
    "README.md",
    "docs/import.md",
    "docs/explain.md",
    "docs/setup.md",
];

#[test]
fn every_other_page_runs() {
    for page in all_pages() {
        if !SET_UP.contains(&page.as_str()) {
            pages::run(&page, &mut pages::Plain);
        }
    }
}
