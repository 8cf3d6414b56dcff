//! The judgments of doctor's checks: what a server's answers mean, and
//! what to change on the server when something is wrong. Pure functions of
//! what was found, so each is tested without a server.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Check, CERTIFICATE_WARN_DAYS, CLOCK_SKEW};
use crate::error::{Account, Hint, Stop};
use crate::polycom::reader::application;
use crate::remote::ftp::probe::{Certificate, Passive};
use crate::site::model::Site;

/// Where the pure-ftpd listing stops unless `-L` says otherwise.
const PURE_FTPD_LISTING: usize = 10_000;

/// A duration as a person says it: `45 s`, `7 min 12 s`, `3 h 5 min`,
/// `2 days 4 h`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!(
            "{} day{} {} h",
            s / 86400,
            if s / 86400 == 1 { "" } else { "s" },
            s % 86400 / 3600
        ),
    }
}

fn date(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Why logging in failed, and where to look: the table every command's
/// error shares (`crate::error::Stop`).
pub fn login_failed(message: &str, site: &Site) -> Check {
    let hint = match Stop::of(message) {
        Some(stop) => {
            let hint = Hint {
                stop,
                account: Account::of_site(&site.target),
                doctor: None,
            };
            let mut text = hint.what_to_check();
            if stop == Stop::Tls {
                text.push_str(": see the tls line");
            }
            text
        }
        None => "check the target's URL, user and password".to_owned(),
    };
    Check::fail("login", format!("{message}; {hint}"))
}

/// The PASV reply and the listing that used a data connection.
pub fn passive(p: &Passive, listed: Result<usize, String>, listing_command: &str) -> Check {
    let cmd = p.command;
    match listed {
        Err(e) => Check::fail(
            "passive",
            format!(
                "{cmd} was answered ({}), but the data connection failed: {e}; open the server's passive ports between this machine and the server, and set their range (vsftpd: pasv_min_port, pasv_max_port; proftpd: PassivePorts; pure-ftpd: -p)",
                p.reply
            ),
        ),
        Ok(n) => match p.named {
            Some(named) if named != p.peer => Check::warn(
                "passive",
                format!(
                    "{cmd} names {named}, not the server's {}: polyops connects to {} anyway (as curl and lftp do), but a phone may follow the reply; set the server's passive address to the one the phones reach it at (vsftpd: pasv_address; proftpd: MasqueradeAddress; pure-ftpd: -P)",
                    p.peer, p.peer
                ),
            ),
            _ => Check::ok(
                "passive",
                format!("{cmd} opened a data connection; {listing_command} listed {n} entries"),
            ),
        },
    }
}

/// Whether one listing shows every name at the root, now and once the site
/// and its phones' own files are all there.
pub fn listing(entries: usize, cut: Option<&str>, greeting: &str, expected: usize) -> Check {
    if let Some(reply) = cut {
        return Check::warn(
            "listing",
            format!(
                "the server cut its listing short ({reply}): polyops still checks every file it manages by name, but does not see the phones' own files or unmanaged files past the cut; raise the server's limit (pure-ftpd: -L FILES:DEPTH)"
            ),
        );
    }
    if greeting.to_ascii_lowercase().contains("pure-ftpd") && expected > PURE_FTPD_LISTING {
        return Check::warn(
            "listing",
            format!(
                "pure-ftpd lists at most {PURE_FTPD_LISTING} names unless told otherwise, and this site's root will hold up to {expected}; start it with -L {}:5",
                expected.next_multiple_of(1000)
            ),
        );
    }
    Check::ok(
        "listing",
        format!(
            "one listing showed all {entries} entries; the site's root will hold up to {expected} (its files, the state file and the files its phones write)"
        ),
    )
}

/// The server's MDTM of a file written between `before` and `after`.
pub fn clock(server: SystemTime, before: SystemTime, after: SystemTime) -> Check {
    // MDTM has whole seconds: a server in step may say up to 1 s less.
    // Behind, the amount is measured from `after`: the server's whole
    // seconds are at most its true time, so a write that crossed a second
    // boundary does not make a whole time-zone step look a minute short.
    let slack = Duration::from_secs(2);
    let (skew, way) = if let Ok(d) = before.duration_since(server + slack) {
        (after.duration_since(server).unwrap_or(d + slack), "behind")
    } else if let Ok(d) = server.duration_since(after) {
        (d, "ahead of")
    } else {
        (Duration::ZERO, "")
    };
    if skew <= CLOCK_SKEW {
        return Check::ok(
            "clock",
            format!(
                "the server's time of the file it stored agrees with this machine's clock (within {})",
                human(skew.max(Duration::from_secs(1)))
            ),
        );
    }
    let half_hours = (skew.as_secs() + 60) / 1800;
    let zone = if half_hours >= 1 && skew.as_secs().abs_diff(half_hours * 1800) <= 60 {
        " That is a whole time-zone step: the server may give MDTM in local time instead of UTC (vsftpd: use_localtime=NO)."
    } else {
        ""
    };
    Check::warn(
        "clock",
        format!(
            "the server's clock is {} {way} this machine's; set it by NTP: the times of the files there (the phones' logs too) are off by as much, and tools that compare times (lftp, rclone, backups) are misled.{zone}",
            human(skew)
        ),
    )
}

/// The server's certificate, as of `now`.
pub fn certificate(
    c: &Certificate,
    host: &str,
    now: SystemTime,
    clean: &dyn Fn(&str) -> String,
) -> Check {
    let Some(der) = &c.der else {
        return Check::fail(
            "tls",
            format!(
                "the TLS handshake failed before a certificate came: {}; the server must offer explicit TLS (AUTH TLS) with a certificate (vsftpd: ssl_enable=YES, rsa_cert_file)",
                clean(c.verified.as_ref().err().map_or("", String::as_str))
            ),
        );
    };
    let parsed = x509_parser::parse_x509_certificate(der);
    let Ok((_, cert)) = parsed else {
        return Check::fail(
            "tls",
            "the server's certificate is not a readable X.509 certificate; give the server a proper one",
        );
    };
    let at = |t: i64| UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0));
    let not_before = at(cert.validity().not_before.timestamp());
    let not_after = at(cert.validity().not_after.timestamp());
    let who = format!(
        "issued to {} by {}",
        clean(&cert.subject().to_string()),
        clean(&cert.issuer().to_string())
    );
    if not_after <= now {
        return Check::fail(
            "tls",
            format!(
                "the server's certificate expired on {} ({who}); renew it: plan and apply refuse it",
                date(not_after)
            ),
        );
    }
    if not_before > now {
        return Check::fail(
            "tls",
            format!(
                "the server's certificate is valid only from {} ({who}); check this machine's clock and the server's",
                date(not_before)
            ),
        );
    }
    if let Err(e) = &c.verified {
        return Check::fail(
            "tls",
            format!(
                "the server's certificate is not trusted: {} ({who}, valid until {}); set target.ca_file to the CA that signed it, or give the server a certificate for {host} from a CA this machine trusts",
                clean(e),
                date(not_after)
            ),
        );
    }
    let left = not_after.duration_since(now).unwrap_or_default();
    let days = left.as_secs() / 86400;
    if days < CERTIFICATE_WARN_DAYS {
        return Check::warn(
            "tls",
            format!(
                "the server's certificate expires on {}, in {} ({who}); renew it before then: plan and apply refuse an expired one",
                date(not_after),
                human(left)
            ),
        );
    }
    Check::ok(
        "tls",
        format!(
            "the certificate is trusted for {host}, {who}, valid until {} ({days} days)",
            date(not_after)
        ),
    )
}

/// The reply a plain session got to `USER`: whether a phone, which does not
/// speak FTPS, can log in.
pub fn phones_login(reply: Result<(u32, String), String>, user: &str) -> Check {
    match reply {
        Ok((331 | 230, _)) => Check::ok(
            "phones",
            format!(
                "the server takes a plain FTP login for {user} (no TLS), as the phones log in"
            ),
        ),
        Ok((_, text)) => Check::warn(
            "phones",
            format!(
                "the server refuses plain FTP logins ({}); the phones of the guide's firmware fetch their files over FTP, TFTP, HTTP or HTTPS, not FTPS: let the phones' account log in without TLS (vsftpd: force_local_logins_ssl=NO; proftpd: TLSRequired off; pure-ftpd: -Y 1), or give the phones another boot server",
                text.trim()
            ),
        ),
        Err(e) => Check::warn("phones", format!("could not ask for a plain login: {e}")),
    }
}

/// The files the phones' master files name that are neither on the target
/// nor rendered by polyops.
pub fn boot(
    masters: &[(String, Vec<u8>)],
    rendered: &BTreeSet<String>,
    on_target: &BTreeSet<String>,
    listing_cut: bool,
    clean: &dyn Fn(&str) -> String,
) -> Check {
    if masters.is_empty() {
        return Check::ok("boot", "the site declares no phone");
    }
    let mut missing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (mut there, mut coming) = (BTreeSet::new(), BTreeSet::new());
    for (name, bytes) in masters {
        let mac = name.trim_end_matches(".cfg").to_owned();
        let Ok(app) = application(bytes) else {
            continue;
        };
        for file in app.app_file_path.into_iter().chain(app.config_files) {
            if on_target.contains(&file) {
                there.insert(file);
            } else if rendered.contains(&file) {
                coming.insert(file);
            } else {
                missing.entry(file).or_default().push(mac.clone());
            }
        }
    }
    if missing.is_empty() {
        let coming = if coming.is_empty() {
            String::new()
        } else {
            format!(", {} more land with the next apply", coming.len())
        };
        return Check::ok(
            "boot",
            format!(
                "every file the {} phones' <mac>.cfg name is on the target or rendered by polyops ({} there{coming})",
                masters.len(),
                there.len()
            ),
        );
    }
    let lower: BTreeMap<String, &String> =
        on_target.iter().map(|n| (n.to_lowercase(), n)).collect();
    let mut parts = Vec::new();
    let mut release = false;
    for (file, macs) in &missing {
        release |= matches!(file.as_str(), "sip.ld" | "sip.cfg" | "phone1.cfg");
        let shown: Vec<&str> = macs.iter().take(3).map(String::as_str).collect();
        let more = if macs.len() > 3 { ", …" } else { "" };
        let case = match lower.get(&file.to_lowercase()) {
            Some(other) => format!(
                "; the target has {}: the phones ask for {file}, rename it",
                clean(other)
            ),
            None => String::new(),
        };
        parts.push(format!(
            "{file} (named by {} phone{}: {}{more}{case})",
            macs.len(),
            if macs.len() == 1 { "" } else { "s" },
            shown.join(", ")
        ));
    }
    let fix = if release {
        "put the SIP 3.2.7 release files (sip.ld, sip.cfg, phone1.cfg) at the target's root (guide §5), or list them in firmware.files; upload any other file or list it in files"
    } else {
        "upload them to the target's root, or list them in files"
    };
    let text = format!(
        "{} on neither the target nor rendered by polyops: {}; the phones cannot boot without them, and apply refuses while one is missing; {fix}",
        if missing.len() == 1 { "a file is" } else { "files are" },
        parts.join(", ")
    );
    if listing_cut {
        Check::warn(
            "boot",
            format!(
                "not in the listing, which the server cut short, so maybe there after all: {text}"
            ),
        )
    } else {
        Check::fail("boot", text)
    }
}

/// The server's hash of a file polyops stored, against its bytes.
pub fn hashing(
    command: Option<&str>,
    hashed: Result<Option<String>, String>,
    sha256: &str,
    files: usize,
) -> Check {
    match (command, hashed) {
        (None, _) | (Some(_), Ok(None)) => {
            let text = format!(
                "the server offers no HASH or XSHA256: plan downloads each of the site's {files} files to compare it"
            );
            if files >= 1000 {
                Check::warn(
                    "hashing",
                    format!("{text}; on a site this size a server that hashes makes plan much faster (proftpd with mod_digest: DigestEngine on)"),
                )
            } else {
                Check::ok("hashing", text)
            }
        }
        (Some(cmd), Ok(Some(got))) if got == sha256 => Check::ok(
            "hashing",
            format!("{cmd}: the server's SHA-256 of the file it stored matches its bytes, so plan reads unchanged files without downloading them"),
        ),
        (Some(cmd), Ok(Some(got))) => Check::fail(
            "hashing",
            format!("{cmd} answered {got} for a file whose SHA-256 is {sha256}: plan would trust wrong hashes; fix or turn off the server's digest module (proftpd: DigestEngine off)"),
        ),
        (Some(cmd), Err(e)) => Check::fail(
            "hashing",
            format!("the server offers {cmd} but it failed: {e}; fix or turn off the server's digest module (proftpd: DigestEngine off)"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Verdict;
    use super::*;
    use crate::render::inputs::sha256_hex;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn a_clock_in_step_is_ok_even_with_whole_seconds() {
        // Written at .9 s, reported as the whole second before.
        let before = at(100) + Duration::from_millis(900);
        assert_eq!(
            clock(at(100), before, before + Duration::from_millis(5)).verdict,
            Verdict::Ok
        );
        assert_eq!(clock(at(400), at(100), at(101)).verdict, Verdict::Ok);
    }

    #[test]
    fn a_clock_off_by_minutes_is_a_warning_that_says_by_how_much() {
        let c = clock(at(100 + 7 * 60 + 12), at(100), at(100));
        assert_eq!(c.verdict, Verdict::Warn);
        assert!(c.text.contains("7 min 12 s ahead of"), "{}", c.text);
        assert!(!c.text.contains("time-zone"), "{}", c.text);
        let c = clock(at(100), at(100 + 5 * 3600), at(100 + 5 * 3600));
        assert!(c.text.contains("5 h 0 min behind"), "{}", c.text);
        assert!(c.text.contains("use_localtime=NO"), "{}", c.text);
        // A write that crossed a second boundary: still a whole zone step.
        let before = at(100 + 5 * 3600) + Duration::from_millis(800);
        let after = at(101 + 5 * 3600) + Duration::from_millis(300);
        let c = clock(at(101), before, after);
        assert!(c.text.contains("5 h 0 min behind"), "{}", c.text);
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(432)), "7 min 12 s");
        assert_eq!(human(Duration::from_secs(3 * 3600 + 300)), "3 h 5 min");
        assert_eq!(human(Duration::from_secs(86400 + 7200)), "1 day 2 h");
        assert_eq!(human(Duration::from_secs(3 * 86400)), "3 days 0 h");
    }

    /// A certificate valid from `from` to `to` (year, month, day).
    fn cert(from: (i32, u8, u8), to: (i32, u8, u8)) -> Vec<u8> {
        let mut params =
            rcgen::CertificateParams::new(vec!["ftp.example.com".to_owned()]).expect("params");
        params.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        params.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        let key = rcgen::KeyPair::generate().expect("key");
        params.self_signed(&key).expect("cert").der().to_vec()
    }

    /// Judged on 2026-06-01.
    fn check_cert(der: Vec<u8>, verified: Result<(), String>) -> Check {
        let c = Certificate {
            der: Some(der),
            verified,
        };
        let now = humantime::parse_rfc3339("2026-06-01T00:00:00Z").expect("a time");
        certificate(&c, "ftp.example.com", now, &|t| t.to_owned())
    }

    #[test]
    fn certificates_are_judged_by_trust_and_expiry() {
        let ok = check_cert(cert((2026, 1, 1), (2026, 9, 1)), Ok(()));
        assert_eq!(ok.verdict, Verdict::Ok, "{}", ok.text);
        assert!(ok.text.contains("valid until"), "{}", ok.text);
        let soon = check_cert(cert((2026, 1, 1), (2026, 6, 6)), Ok(()));
        assert_eq!(soon.verdict, Verdict::Warn, "{}", soon.text);
        assert!(soon.text.contains("renew it before then"), "{}", soon.text);
        let gone = check_cert(
            cert((2026, 1, 1), (2026, 5, 1)),
            Err("certificate expired".to_owned()),
        );
        assert_eq!(gone.verdict, Verdict::Fail);
        assert!(gone.text.contains("expired on"), "{}", gone.text);
        let untrusted = check_cert(
            cert((2026, 1, 1), (2026, 9, 1)),
            Err("invalid peer certificate: UnknownIssuer".to_owned()),
        );
        assert_eq!(untrusted.verdict, Verdict::Fail);
        assert!(
            untrusted.text.contains("target.ca_file"),
            "{}",
            untrusted.text
        );
        let garbage = check_cert(b"not a certificate".to_vec(), Ok(()));
        assert_eq!(garbage.verdict, Verdict::Fail);
        let early = check_cert(cert((2026, 7, 1), (2027, 1, 1)), Ok(()));
        assert_eq!(early.verdict, Verdict::Fail);
        assert!(
            early.text.contains("valid only from 2026-07-01"),
            "{}",
            early.text
        );
        let none = certificate(
            &Certificate {
                der: None,
                verified: Err("handshake".to_owned()),
            },
            "h",
            SystemTime::now(),
            &|t| t.to_owned(),
        );
        assert_eq!(none.verdict, Verdict::Fail);
    }

    fn master(files: &str) -> Vec<u8> {
        format!("<APPLICATION APP_FILE_PATH=\"sip.ld\" CONFIG_FILES=\"{files}\"/>").into_bytes()
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn the_boot_check_names_each_missing_file_and_its_phones() {
        let masters = vec![
            (
                "0004f2000001.cfg".to_owned(),
                master("201.cfg, altigen.cfg, phone1.cfg, sip.cfg"),
            ),
            (
                "0004f2000002.cfg".to_owned(),
                master("202.cfg, altigen.cfg, phone1.cfg, sip.cfg"),
            ),
        ];
        let rendered = set(&[
            "201.cfg",
            "202.cfg",
            "altigen.cfg",
            "0004f2000001.cfg",
            "0004f2000002.cfg",
        ]);
        let c = boot(
            &masters,
            &rendered,
            &set(&["SIP.LD", "phone1.cfg"]),
            false,
            &|t| t.to_owned(),
        );
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(
            c.text
                .contains("sip.cfg (named by 2 phones: 0004f2000001, 0004f2000002)"),
            "{}",
            c.text
        );
        assert!(
            c.text
                .contains("the target has SIP.LD: the phones ask for sip.ld, rename it"),
            "{}",
            c.text
        );
        assert!(!c.text.contains("phone1.cfg (named"), "{}", c.text);
        assert!(c.text.contains("guide §5"), "{}", c.text);
        let cut = boot(&masters, &rendered, &set(&[]), true, &|t| t.to_owned());
        assert_eq!(cut.verdict, Verdict::Warn);
        let ok = boot(
            &masters,
            &rendered,
            &set(&["sip.ld", "sip.cfg", "phone1.cfg", "altigen.cfg"]),
            false,
            &|t| t.to_owned(),
        );
        assert_eq!(ok.verdict, Verdict::Ok, "{}", ok.text);
        assert!(
            ok.text.contains("4 there, 2 more land with the next apply"),
            "{}",
            ok.text
        );
        assert_eq!(
            boot(&[], &rendered, &set(&[]), false, &|t| t.to_owned()).verdict,
            Verdict::Ok
        );
    }

    #[test]
    fn a_pasv_reply_naming_another_host_is_a_warning() {
        let p = |named: &str| Passive {
            command: "PASV",
            reply: "227 ok".to_owned(),
            named: named.parse().ok(),
            peer: "192.0.2.10".parse().expect("an address"),
        };
        assert_eq!(
            passive(&p("192.0.2.10"), Ok(3), "MLSD").verdict,
            Verdict::Ok
        );
        let w = passive(&p("10.0.0.5"), Ok(3), "MLSD");
        assert_eq!(w.verdict, Verdict::Warn);
        assert!(
            w.text.contains("pasv_address") && w.text.contains("10.0.0.5"),
            "{}",
            w.text
        );
        assert_eq!(
            passive(&p("192.0.2.10"), Err("refused".to_owned()), "MLSD").verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn listing_limits_are_warned_of_before_they_bite() {
        assert_eq!(
            listing(10, None, "220 (vsFTPd 3.0.3)", 50_000).verdict,
            Verdict::Ok
        );
        let w = listing(
            10,
            None,
            "220---------- Welcome to Pure-FTPd [privsep] ----------",
            14_001,
        );
        assert_eq!(w.verdict, Verdict::Warn);
        assert!(w.text.contains("-L 15000:5"), "{}", w.text);
        let cut = listing(
            10_000,
            Some("226 Output truncated to 10000 matches"),
            "",
            20,
        );
        assert_eq!(cut.verdict, Verdict::Warn);
    }

    #[test]
    fn server_hashes_are_checked_against_the_bytes() {
        let sha = sha256_hex(b"x");
        assert_eq!(
            hashing(Some("XSHA256"), Ok(Some(sha.clone())), &sha, 5).verdict,
            Verdict::Ok
        );
        assert_eq!(
            hashing(Some("HASH"), Ok(Some("0".repeat(64))), &sha, 5).verdict,
            Verdict::Fail
        );
        assert_eq!(hashing(None, Ok(None), &sha, 5).verdict, Verdict::Ok);
        assert_eq!(hashing(None, Ok(None), &sha, 4001).verdict, Verdict::Warn);
    }

    #[test]
    fn a_plain_login_refused_is_a_warning_with_the_servers_setting() {
        assert_eq!(
            phones_login(Ok((331, "331 Password".to_owned())), "PlcmSpIp").verdict,
            Verdict::Ok
        );
        let w = phones_login(
            Ok((
                530,
                "530 Non-anonymous sessions must use encryption.".to_owned(),
            )),
            "PlcmSpIp",
        );
        assert_eq!(w.verdict, Verdict::Warn);
        assert!(w.text.contains("force_local_logins_ssl=NO"), "{}", w.text);
    }
}
