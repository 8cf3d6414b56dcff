//! A real browser for the HTML report's tests: headless Chromium (Debian's
//! `chromium`, which `.ci/run` installs) loads a page from disk with the
//! network off, and hands back the DOM it built (`--dump-dom`) and a
//! screenshot. Under `CI=true` a missing Chromium fails the test;
//! elsewhere the test is skipped with a line saying why.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What the browser made of a page.
pub struct Loaded {
    /// The DOM as Chromium serialises it.
    pub dom: String,
    /// A PNG of the page.
    pub screenshot: PathBuf,
}

/// The Chromium on PATH, if any.
pub fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| which(name));
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chromium is not installed: .ci/run installs it (apt-get install chromium)"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium)");
    }
    found
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Load `page` in `browser` with the network off: in a network namespace
/// of its own where the tests run as root (as CI does), and with every
/// host name unresolvable and a proxy that goes nowhere in any case.
pub fn load(browser: &Path, page: &Path, work: &Path) -> Loaded {
    let url = format!("file://{}", page.display());
    let screenshot = work.join("page.png");
    let run = |extra: &[String]| {
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--window-size=1280,1600",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.push(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ));
        args.extend(extra.iter().cloned());
        args.push(url.clone());
        let mut command = if offline_namespace() {
            let mut c = Command::new("unshare");
            c.arg("--net").arg(browser);
            c
        } else {
            Command::new(browser)
        };
        let out = command.args(&args).output().expect("chromium runs");
        assert!(
            out.status.success(),
            "chromium failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dom = String::from_utf8(run(&["--dump-dom".to_owned()]).stdout).expect("UTF-8 DOM");
    run(&[format!("--screenshot={}", screenshot.display())]);
    Loaded { dom, screenshot }
}

/// Whether the browser can run in a network namespace of its own (root,
/// with `unshare`).
fn offline_namespace() -> bool {
    Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// One element of a serialised DOM: its name and its attribute names.
#[derive(Debug)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
}

/// The elements of a DOM as Chromium serialises it (every attribute
/// value in double quotes, `<` in text and `"` in values escaped), in
/// document order.
pub fn elements(dom: &str) -> Vec<Element> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('/') || rest.starts_with('!') {
            continue;
        }
        let end = tag_end(rest);
        let tag = &rest[..end];
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        out.push(Element {
            attributes: attributes(&tag[name.len()..]),
            name: name.to_ascii_lowercase(),
        });
        rest = &rest[end..];
    }
    out
}

/// Where a start tag ends: the first `>` outside a quoted value.
fn tag_end(tag: &str) -> usize {
    let mut quoted = false;
    for (i, c) in tag.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return i,
            _ => {}
        }
    }
    tag.len()
}

fn attributes(mut text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        text = text.trim_start_matches([' ', '\n', '\t', '/']);
        let name: String = text
            .chars()
            .take_while(|c| !matches!(c, '=' | ' ' | '>' | '/' | '\n' | '\t'))
            .collect();
        if name.is_empty() {
            return out;
        }
        text = &text[name.len()..];
        let mut value = String::new();
        if let Some(after) = text.strip_prefix("=\"") {
            let close = after.find('"').unwrap_or(after.len());
            value = after[..close].to_owned();
            text = after.get(close + 1..).unwrap_or_default();
        }
        out.push((name.to_ascii_lowercase(), value));
    }
}

/// The text of a DOM: its tags left out and its entities read back.
pub fn text(dom: &str) -> String {
    let mut out = String::new();
    let mut rest = dom;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tag = &rest[at + 1..];
        rest = &tag[tag_end(tag).saturating_add(1).min(tag.len())..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}
