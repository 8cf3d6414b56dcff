//! What polyops may publish of a file's hash (docs/threat-model.md). The plaintext of
//! a file that carries a secret has little entropy (a 4-digit SIP password
//! and a template anyone can read), so its sha256 in a plan file or in JSON
//! output could be brute-forced: such a file's hash is published only as an
//! HMAC under a key from the secret store, or not at all.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::Sha256;

use crate::mask::Masker;
use crate::polycom;
use crate::site::secret::Secret;

/// The key of the published HMACs. Its `Debug` prints `********`, like
/// every secret's.
#[derive(Clone, Debug)]
pub struct HashKey(Secret);

impl HashKey {
    pub fn new(key: Secret) -> Self {
        Self(key)
    }

    /// HMAC-SHA256 under this key of a file's sha256 as lowercase hex (the
    /// 64 characters), in lowercase hex. Of the sha256 rather than of the
    /// bytes: a file hashed by the server, or too large to keep, is known
    /// by its sha256 only, and the same file must give the same HMAC
    /// however it was read, or a saved plan would go stale for nothing.
    pub fn hmac(&self, sha256: &str) -> String {
        // HMAC takes a key of any length; `new_from_slice` fails for none.
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose().as_bytes())
            .expect("HMAC-SHA256 accepts a key of any length");
        mac.update(sha256.as_bytes());
        let mut out = String::with_capacity(64);
        for b in mac.finalize().into_bytes() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// What is known of one side (on the target, or rendered) of a file.
#[derive(Debug, Clone, Copy)]
pub enum Side<'a> {
    /// There is no such file.
    Absent,
    /// These are its bytes.
    Bytes(&'a [u8]),
    /// It exists, but its bytes were not kept (too large, or hashed by
    /// the server): they could hold anything.
    Unread,
}

/// Whether a file carries a secret, so that its hash must not be published
/// as is: an extension file (`<number>.cfg`), or either side parsing as a
/// configuration file with a parameter whose name holds `password`, or
/// holding a `…password=` attribute or one of the site's secret values
/// anywhere. A side polyops could not read is taken to carry one: in doubt,
/// the hash is withheld.
pub fn carries_secret(name: &str, masker: &Masker, before: Side<'_>, after: Side<'_>) -> bool {
    is_extension_file(name)
        || [before, after].into_iter().any(|side| match side {
            Side::Absent => false,
            Side::Unread => true,
            Side::Bytes(bytes) => bytes_carry_secret(bytes, masker),
        })
}

/// `<digits>.cfg`: an extension's file, whether or not the site still
/// declares it (an extension number is digits only, and a file the site no
/// longer declares still holds the password it was written with).
fn is_extension_file(name: &str) -> bool {
    name.strip_suffix(".cfg")
        .is_some_and(|stem| !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_digit()))
}

fn bytes_carry_secret(bytes: &[u8], masker: &Masker) -> bool {
    let password_parameter = polycom::reader::parameters(bytes).is_ok_and(|params| {
        params
            .iter()
            .any(|(n, _)| n.to_ascii_lowercase().contains("password"))
    });
    password_parameter || masker.holds_secret_in(bytes)
}

/// The hashes of one file as published: plain sha256 for a file that
/// carries no secret; for one that does, `sha256_*` are `null` and
/// `hmac_sha256_*` hold the HMACs, or are `null` too, with `redacted`,
/// when there is no key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedHashes {
    pub sha256_before: Option<String>,
    pub sha256_after: Option<String>,
    /// Present (maybe `null`) exactly for a file that carries a secret.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub hmac_sha256_before: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub hmac_sha256_after: Option<Option<String>>,
    /// The file carries a secret and there was no key: nothing of its
    /// hashes is published.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// A field that is there, `null` or not, is `Some`: `null` and absent
/// mean different things (a file without a hash, a file without a
/// secret), and a plan read back must compare equal to the one written.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl PublishedHashes {
    /// Publish a file's sha256 before and after.
    pub fn publish(
        before: Option<&str>,
        after: Option<&str>,
        secret: bool,
        key: Option<&HashKey>,
    ) -> PublishedHashes {
        if !secret {
            return PublishedHashes {
                sha256_before: before.map(str::to_owned),
                sha256_after: after.map(str::to_owned),
                ..PublishedHashes::default()
            };
        }
        PublishedHashes {
            sha256_before: None,
            sha256_after: None,
            hmac_sha256_before: Some(keyed(before, key)),
            hmac_sha256_after: Some(keyed(after, key)),
            redacted: key.is_none(),
        }
    }
}

/// What stands for the sha256 of a file that carries a secret: its HMAC,
/// `None` without a key (or without a file).
pub fn keyed(sha256: Option<&str>, key: Option<&HashKey>) -> Option<String> {
    sha256.zip(key).map(|(sha, key)| key.hmac(sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_is_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe".
        let key = HashKey::new(Secret::new("Jefe"));
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("any key");
        mac.update(b"what do ya want for nothing?");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            expected,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(key.hmac("what do ya want for nothing?"), expected);
        assert!(!format!("{key:?}").contains("Jefe"));
    }

    #[test]
    fn extension_files_carry_a_secret_whatever_they_hold() {
        let m = Masker::default();
        let plain = Side::Bytes(b"<reg reg.1.label=\"201\"/>");
        assert!(carries_secret("201.cfg", &m, Side::Absent, plain));
        assert!(carries_secret("7777.cfg", &m, plain, Side::Absent));
        assert!(!carries_secret("altigen.cfg", &m, plain, plain));
        assert!(!carries_secret(".cfg", &m, plain, plain));
    }

    #[test]
    fn a_password_parameter_or_a_secret_value_on_either_side_is_a_secret() {
        let m = Masker::new(["s3cret-value".to_owned()]);
        let plain = Side::Bytes(b"<a b.c=\"1\"/>");
        for secret in [
            &b"<a x.Password=\"\"/>"[..],
            b"<a x.adminPASSWORD = 'q'/>",
            b"not xml but password=\"x\"",
            b"\xff\x00 s3cret-value",
            b"<a b.c=\"s3cret-value\"/>",
        ] {
            let side = Side::Bytes(secret);
            assert!(carries_secret("f.cfg", &m, side, plain), "{secret:?}");
            assert!(carries_secret("f.cfg", &m, plain, side), "{secret:?}");
        }
        assert!(!carries_secret("f.cfg", &m, plain, Side::Absent));
        assert!(!carries_secret(
            "sip.ld",
            &m,
            Side::Absent,
            Side::Bytes(b"\x7fELF\x00 label=\"password\"")
        ));
    }

    #[test]
    fn a_side_that_was_not_read_is_taken_to_carry_a_secret() {
        let plain = Side::Bytes(b"<a b.c=\"1\"/>");
        assert!(carries_secret(
            "big.cfg",
            &Masker::default(),
            Side::Unread,
            plain
        ));
    }

    #[test]
    fn a_secret_file_publishes_hmacs_or_nothing() {
        let key = HashKey::new(Secret::new("k"));
        let plain = PublishedHashes::publish(Some("aa"), Some("bb"), false, Some(&key));
        assert_eq!(plain.sha256_before.as_deref(), Some("aa"));
        assert_eq!(plain.sha256_after.as_deref(), Some("bb"));
        assert_eq!(plain.hmac_sha256_before, None);
        assert!(!plain.redacted);

        let keyed = PublishedHashes::publish(None, Some("bb"), true, Some(&key));
        assert_eq!((keyed.sha256_before, keyed.sha256_after), (None, None));
        assert_eq!(keyed.hmac_sha256_before, Some(None));
        assert_eq!(keyed.hmac_sha256_after, Some(Some(key.hmac("bb"))));
        assert!(!keyed.redacted);

        let redacted = PublishedHashes::publish(Some("aa"), Some("bb"), true, None);
        assert_eq!(redacted.hmac_sha256_after, Some(None));
        assert!(redacted.redacted);
    }

    #[test]
    fn published_hashes_read_back_as_written() {
        let key = HashKey::new(Secret::new("k"));
        for h in [
            PublishedHashes::publish(None, Some("bb"), true, Some(&key)),
            PublishedHashes::publish(Some("aa"), None, true, None),
            PublishedHashes::publish(Some("aa"), Some("bb"), false, None),
        ] {
            let text = serde_json::to_string(&h).expect("serialises");
            let back: PublishedHashes = serde_json::from_str(&text).expect("reads back");
            assert_eq!(back, h, "{text}");
        }
        let plain = serde_json::to_value(PublishedHashes::publish(Some("aa"), None, false, None))
            .expect("serialises");
        assert_eq!(
            plain,
            serde_json::json!({"sha256_before": "aa", "sha256_after": null})
        );
    }
}
