//! What a reviewer sees of a file's bytes: a unified diff with every
//! secret masked, or, for a file too large or binary, its sizes and (when
//! it holds no secret) its hashes. Bounded in time and memory whatever the
//! input.

use std::time::{Duration, Instant};

use similar::TextDiff;

use crate::mask::{has_password_attribute, Masker};
use crate::render::inputs::sha256_hex;

/// Files larger than this (on either side) are compared by hash, not
/// diffed: a line diff's time and memory grow faster than the file, and a
/// diff of megabytes is no use to a reviewer anyway. Polycom configuration
/// files are a few kilobytes.
pub const DIFF_MAX_BYTES: usize = 1024 * 1024;

/// What stands for the diff of a file whose bytes on the target were too
/// large to keep (over `remote::KEEP_BYTES`, read only for its sha256):
/// the same note as [`unified`] gives for any side over the cap. No hash
/// is shown of a file that `carries_secret` (docs/threat-model.md).
pub fn too_large(
    name: &str,
    size: u64,
    before_sha: Option<&str>,
    after: Option<&[u8]>,
    masker: &Masker,
    carries_secret: bool,
) -> String {
    let mut sizes = vec![format!(
        "{} on the target",
        human_size(usize::try_from(size).unwrap_or(usize::MAX))
    )];
    sizes.extend(after.map(|b| format!("{} rendered", human_size(b.len()))));
    let holds_secret =
        carries_secret || after.is_some_and(|b| masker.holds_secret(&String::from_utf8_lossy(b)));
    too_large_note(
        name,
        &sizes,
        holds_secret,
        before_sha.map(str::to_owned),
        after.map(sha256_hex),
    )
}

/// "NAME: too large to diff (SIZES); compared by sha256 A → B", or, for a
/// file that holds a secret, without the hashes.
fn too_large_note(
    name: &str,
    sizes: &[String],
    holds_secret: bool,
    before_sha: Option<String>,
    after_sha: Option<String>,
) -> String {
    let compared = if holds_secret {
        "it holds a secret, so no hash is shown".to_owned()
    } else {
        let absent = || "absent".to_owned();
        format!(
            "compared by sha256 {} → {}",
            before_sha.unwrap_or_else(absent),
            after_sha.unwrap_or_else(absent)
        )
    };
    format!(
        "{name}: too large to diff ({}); {compared}\n",
        sizes.join(", ")
    )
}

/// How long one file's diff may take; past it similar settles for a
/// coarser diff (still correct, just less minimal).
pub const DIFF_DEADLINE: Duration = Duration::from_secs(2);

/// A unified diff of one file, secrets masked; binary files, and files
/// over [`DIFF_MAX_BYTES`] on either side, by hash only. Bounded in time
/// and memory whatever the input.
pub fn unified(name: &str, before: Option<&[u8]>, after: Option<&[u8]>, masker: &Masker) -> String {
    let too_large = |b: Option<&[u8]>| b.is_some_and(|b| b.len() > DIFF_MAX_BYTES);
    if too_large(before) || too_large(after) {
        return too_large_to_diff(name, before, after, masker);
    }
    let text = |b: Option<&[u8]>| -> Option<Option<String>> {
        match b {
            None => Some(Some(String::new())),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(s) if !s.contains('\0') => Some(Some(s.to_owned())),
                _ => None,
            },
        }
    };
    match (text(before), text(after)) {
        (Some(Some(a)), Some(Some(b))) => {
            let old = if before.is_some() {
                format!("a/{name}")
            } else {
                "/dev/null".to_owned()
            };
            let new = if after.is_some() {
                format!("b/{name}")
            } else {
                "/dev/null".to_owned()
            };
            // The old side is what the target holds: a terminal must not
            // obey its escapes.
            crate::mask::visible(&masker.mask_diff(
                before.is_some().then_some(a.as_str()),
                &b,
                |a, b| {
                    TextDiff::configure()
                        .deadline(Instant::now() + DIFF_DEADLINE)
                        .diff_lines(a, b)
                        .unified_diff()
                        .context_radius(3)
                        .header(&old, &new)
                        .to_string()
                },
            ))
        }
        // Like a file too large to diff: no hash of a file that holds a
        // secret (a binary file on the target, and the rendered text with
        // a password in it, whose sha256 can be brute-forced).
        _ if [before, after]
            .into_iter()
            .flatten()
            .any(|b| masker.holds_secret_in(b)) =>
        {
            format!("binary file {name}: it holds a secret, so no hash is shown\n")
        }
        _ => format!(
            "binary file {name}: {} → {}\n",
            before
                .map(sha256_hex)
                .unwrap_or_else(|| "absent".to_owned()),
            after.map(sha256_hex).unwrap_or_else(|| "absent".to_owned())
        ),
    }
}

/// The note that stands in for the diff of a file too large to diff: the
/// sizes, and the hashes unless the file holds a secret (the hash of a
/// small file with a password in it can be brute-forced).
fn too_large_to_diff(
    name: &str,
    before: Option<&[u8]>,
    after: Option<&[u8]>,
    masker: &Masker,
) -> String {
    let sizes: Vec<String> = [(before, "on the target"), (after, "rendered")]
        .into_iter()
        .filter_map(|(b, side)| b.map(|b| format!("{} {side}", human_size(b.len()))))
        .collect();
    // A side over the cap is only scanned for password attributes: looking
    // for every declared secret in it would cost (size × secrets).
    let holds_secret = [before, after].into_iter().flatten().any(|b| {
        if b.len() > DIFF_MAX_BYTES {
            has_password_attribute(b)
        } else {
            masker.holds_secret(&String::from_utf8_lossy(b))
        }
    });
    too_large_note(
        name,
        &sizes,
        holds_secret,
        before.map(sha256_hex),
        after.map(sha256_hex),
    )
}

/// `1.5 KiB`, `16.0 MiB`: a size for people.
fn human_size(bytes: usize) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_cap_is_compared_by_hash_at_once() {
        let big = "<x a=\"1\"/>\n".repeat(2 * 1024 * 1024 / 11 + 1);
        assert!(big.len() > DIFF_MAX_BYTES);
        let started = std::time::Instant::now();
        let d = unified(
            "big.cfg",
            Some(big.as_bytes()),
            Some(b"<x a=\"2\"/>\n"),
            &Masker::default(),
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            d,
            format!(
                "big.cfg: too large to diff (2.0 MiB on the target, 11 B rendered); compared by sha256 {} → {}\n",
                sha256_hex(big.as_bytes()),
                sha256_hex(b"<x a=\"2\"/>\n")
            )
        );
    }

    #[test]
    fn a_file_over_the_cap_that_holds_a_secret_shows_sizes_only() {
        let big = "<x a=\"1\"/>\n".repeat(DIFF_MAX_BYTES / 11 + 1);
        let after = "<reg reg.1.auth.password=\"1212\"/>\n";
        let d = unified(
            "201.cfg",
            Some(big.as_bytes()),
            Some(after.as_bytes()),
            &Masker::new(["1212".to_owned()]),
        );
        assert!(
            d.starts_with("201.cfg: too large to diff (1.0 MiB on the target, 34 B rendered)"),
            "{d}"
        );
        assert!(!d.contains(&sha256_hex(after.as_bytes())), "{d}");
        assert!(!d.contains(&sha256_hex(big.as_bytes())), "{d}");
    }

    #[test]
    fn a_target_file_too_large_to_keep_that_carries_a_secret_shows_no_hash() {
        let before = "0".repeat(64);
        let d = too_large(
            "201.cfg",
            3 << 20,
            Some(&before),
            None,
            &Masker::default(),
            true,
        );
        assert!(d.contains("no hash is shown"), "{d}");
        assert!(!d.contains(&before), "{d}");
        let d = too_large(
            "big.cfg",
            3 << 20,
            Some(&before),
            None,
            &Masker::default(),
            false,
        );
        assert!(d.contains(&before), "{d}");
    }

    /// A 201.cfg with this password and label, one attribute a line.
    fn ext_cfg(password: &str, label: &str) -> String {
        format!(
            "<reg\n  reg.1.label=\"{label}\"\n  reg.1.auth.password=\"{password}\"\n  reg.1.auth.userId=\"201\"/>\n"
        )
    }

    #[test]
    fn a_changed_secret_is_marked_changed_without_its_value_or_length() {
        let diff = |old: &str, new: &str| {
            unified(
                "201.cfg",
                Some(ext_cfg(old, "201").as_bytes()),
                Some(ext_cfg(new, "201").as_bytes()),
                &Masker::new([new.to_owned()]),
            )
        };
        let d = diff("old-one", "new-secret");
        assert!(d.contains("\n-  reg.1.auth.password=\"********\"\n"), "{d}");
        assert!(
            d.contains("\n+  reg.1.auth.password=\"******** (changed)\"\n"),
            "{d}"
        );
        assert!(!d.contains("old-one") && !d.contains("new-secret"), "{d}");
        // Other values of other lengths: the very same text.
        assert_eq!(diff("o", "a-much-longer-new-secret"), d);
    }

    #[test]
    fn an_unchanged_secret_beside_a_change_is_only_masked() {
        let d = unified(
            "201.cfg",
            Some(ext_cfg("same", "201").as_bytes()),
            Some(ext_cfg("same", "Lobby").as_bytes()),
            &Masker::new(["same".to_owned()]),
        );
        assert!(d.contains("\n+  reg.1.label=\"Lobby\"\n"), "{d}");
        assert!(d.contains("\n   reg.1.auth.password=\"********\"\n"), "{d}");
        assert!(!d.contains("(changed)") && !d.contains("same"), "{d}");
    }

    #[test]
    fn a_new_file_or_a_new_secret_is_not_called_changed() {
        let masker = Masker::new(["pw".to_owned()]);
        let created = unified(
            "201.cfg",
            None,
            Some(ext_cfg("pw", "201").as_bytes()),
            &masker,
        );
        assert!(
            created.contains("+  reg.1.auth.password=\"********\"\n"),
            "{created}"
        );
        assert!(!created.contains("(changed)"), "{created}");
        let added = unified(
            "201.cfg",
            Some(b"<reg\n  reg.1.label=\"201\"/>\n"),
            Some(ext_cfg("pw", "201").as_bytes()),
            &masker,
        );
        assert!(
            added.contains("+  reg.1.auth.password=\"********\"\n"),
            "{added}"
        );
        assert!(!added.contains("(changed)"), "{added}");
    }
    #[test]
    fn a_binary_side_shows_no_hash_of_a_file_that_holds_a_secret() {
        let after = ext_cfg("1212", "201");
        let d = unified(
            "201.cfg",
            Some(b"\x00\x01 garbage"),
            Some(after.as_bytes()),
            &Masker::new(["1212".to_owned()]),
        );
        assert_eq!(
            d,
            "binary file 201.cfg: it holds a secret, so no hash is shown\n"
        );
        let d = unified(
            "logo.bin",
            Some(b"\x00\x01"),
            Some(b"\x00\x02"),
            &Masker::default(),
        );
        assert!(d.contains(&sha256_hex(b"\x00\x02")), "{d}");
    }

    #[test]
    fn a_declared_secret_is_masked_even_in_the_diff_header() {
        let d = unified(
            "201.cfg",
            Some(b"a\n"),
            Some(b"b\n"),
            &Masker::new(["201".to_owned()]),
        );
        assert!(!d.contains("201"), "{d}");
    }
}
