//! docs/many-sites.md: `--shard K/N` splits the sites between CI jobs, every site in
//! exactly one shard; `--changed-since REF` takes only the sites whose
//! files changed in git.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::Test;

fn site(name: &str, n: usize, rest: &str) -> String {
    format!(
        "site: {name}\n\
         target: {{url: dir:root-{name}}}\n\
         server: {{address: 10.0.0.1}}\n\
         time: {{zone: pacific}}\n\
         extensions: [{{number: \"{ext}\", password: x}}]\n\
         phones: [{{mac: 0004f20000{n:02}, model: IP650, extension: \"{ext}\"}}]\n\
         {rest}",
        ext = 200 + n
    )
}

fn sites(count: usize) -> Test {
    (0..count).fold(Test::new(), |t, i| {
        t.site_bytes(&format!("s{i:02}"), site(&format!("s{i:02}"), i, ""))
    })
}

/// The sites `validate` reported ok, by name.
fn validated(out: &common::Output) -> BTreeSet<String> {
    out.stdout
        .lines()
        .filter_map(|l| l.split("ok: site ").nth(1))
        .filter_map(|rest| rest.split(',').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn shards_cover_every_site_exactly_once() {
    let mut t = sites(7);
    let mut seen = Vec::new();
    for k in 1..=3 {
        let out = t
            .args(["validate", "--shard", &format!("{k}/3")])
            .run()
            .status(0);
        let got = validated(&out);
        assert!(!got.is_empty(), "shard {k} is empty");
        seen.extend(got);
        t = out.then();
    }
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert_eq!(unique.len(), 7, "{seen:?}");
    // Before the command works too, and 1/1 is everything.
    let out = t.args(["--shard", "1/1", "validate"]).run().status(0);
    assert_eq!(validated(&out).len(), 7);
}

#[test]
fn a_shard_that_is_not_k_of_n_is_a_usage_error() {
    for bad in ["0/3", "4/3", "x", "1/0", "2"] {
        sites(2)
            .args(["validate", "--shard", bad])
            .run()
            .status(1)
            .stderr_contains("is not K/N");
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn changed_since_takes_the_sites_whose_files_changed() {
    let t = sites(4)
        .site_bytes(
            "fw",
            site(
                "fw",
                9,
                "firmware:\n  files:\n    - {path: firmware/sip.ld, sha256: \"0000000000000000000000000000000000000000000000000000000000000000\"}\n",
            ),
        )
        .file("firmware/sip.ld", b"image v1");
    let dir = t.path().to_owned();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "sites"]);

    // Nothing changed: no site.
    let out = t
        .args(["validate", "--changed-since", "HEAD"])
        .run()
        .status(0);
    assert_eq!(validated(&out), BTreeSet::new());

    // A site file edited, a firmware file another site uses, a new site.
    std::fs::write(
        dir.join("sites/s01.yaml"),
        site("s01", 1, "message_waiting_beep: true\n"),
    )
    .expect("write");
    std::fs::write(dir.join("firmware/sip.ld"), b"image v2").expect("write");
    std::fs::write(dir.join("sites/new.yaml"), site("new", 20, "")).expect("write");
    let out = out
        .then()
        .args(["validate", "--changed-since", "HEAD"])
        .run()
        .status(0);
    assert_eq!(
        validated(&out),
        ["fw", "new", "s01"].map(String::from).into_iter().collect()
    );

    // _defaults.yaml concerns every site.
    std::fs::write(
        dir.join("sites/_defaults.yaml"),
        "dialplan: {local_digits: 7}\n",
    )
    .expect("write");
    let out = out
        .then()
        .args(["validate", "--changed-since", "HEAD", "--shard", "1/1"])
        .run()
        .status(0);
    assert_eq!(validated(&out).len(), 6);
}

#[test]
fn changed_since_outside_a_git_repository_is_an_error() {
    sites(1)
        .args(["validate", "--changed-since", "HEAD"])
        .run()
        .status(1)
        .stderr_contains("--changed-since HEAD: ")
        .stderr_contains("not a git repository");
}

#[test]
fn changed_since_an_unknown_reference_is_an_error() {
    let t = sites(1);
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "-A"]);
    git(t.path(), &["commit", "-q", "-m", "x"]);
    t.args(["validate", "--changed-since", "no-such-ref"])
        .run()
        .status(1)
        .stderr_contains("--changed-since no-such-ref: ");
}
