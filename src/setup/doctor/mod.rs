//! A check of a site's FTP target the way apply and the phones use it: one
//! line per check, `ok`, `warn` or `fail`, saying what to change on the
//! server when something is wrong. `examine` runs the checks in order
//! through a [`session::Session`]; `judgments` says what each answer means.
//!
//! The checks write only polyops's own temporary names
//! (`.polyops-doctor-<pid>-<n>….polyops-tmp`, never a name that is already
//! on the target) and remove them before they end. Everything the server
//! says passes the site's masker before it is printed.

mod judgments;
pub mod session;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use judgments::*;
use session::Session;

use crate::mask::Masker;
use crate::remote::ftp::probe::{self, Passive, Rename};
use crate::remote::{RemoteError, RemoteName, TEMP_SUFFIX};
use crate::render::inputs::{sha256_hex, Inputs};
use crate::render::render;
use crate::site::model::{is_master_config, Site, TargetUrl};
use crate::site::secret::Secret;

/// What one check found: all is well, something to look at, or something
/// apply or the phones will trip over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
        })
    }
}

/// One check's outcome: what was found and, unless all is well, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub verdict: Verdict,
    pub name: &'static str,
    pub text: String,
}

impl Check {
    pub(super) fn ok(name: &'static str, text: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Ok,
            name,
            text: text.into(),
        }
    }
    pub(super) fn warn(name: &'static str, text: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Warn,
            name,
            text: text.into(),
        }
    }
    pub(super) fn fail(name: &'static str, text: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Fail,
            name,
            text: text.into(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.verdict, self.name, self.text)
    }
}

/// Certificates this close to their end are a warning.
pub const CERTIFICATE_WARN_DAYS: u64 = 14;
/// A server clock further off than this is a warning.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// The files a phone may write at the root beside the site's own:
/// `<mac>-phone.cfg`, `-web.cfg`, `-boot.log`, `-app.log`,
/// `-directory.xml`, `-calls.xml`.
const PHONE_FILES: usize = 6;
/// The guide's permissions step for FileZilla Server, the server it uses.
const FILEZILLA: &str =
    "FileZilla Server: every Files and Directories permission, guide §4 step 2e";

/// The files the site puts at the root and its phones' master files, as
/// rendered. Neither depends on a secret (a `<mac>.cfg` names files, it
/// holds no password), so no secret is resolved for them.
pub fn declared(site: &Site) -> (BTreeSet<String>, Vec<(String, Vec<u8>)>) {
    let none = Inputs {
        passwords: BTreeMap::new(),
        params: BTreeMap::new(),
        firmware: BTreeMap::new(),
    };
    let rendered = render(site, &none);
    let mut names: BTreeSet<String> = rendered.keys().cloned().collect();
    names.extend(site.blobs().map(|b| b.name.clone()));
    let masters = rendered
        .into_iter()
        .filter(|(n, _)| is_master_config(n))
        .collect();
    (names, masters)
}

/// polyops's own names for the checks' files: a fresh prefix no entry at
/// the root starts with.
fn test_names(listed: &BTreeSet<String>) -> Option<[RemoteName; 3]> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for n in 0..10u32 {
        let prefix = format!(
            ".polyops-doctor-{}-{}",
            std::process::id(),
            nanos.wrapping_add(n) % 1_000_000
        );
        if listed.iter().any(|l| l.starts_with(&prefix)) {
            continue;
        }
        let name = |s: &str| RemoteName::new(&format!("{prefix}{s}{TEMP_SUFFIX}")).ok();
        return Some([name("")?, name("-new")?, name("-lock")?]);
    }
    None
}

/// The bytes of a test file.
fn test_bytes(name: &RemoteName, what: &str) -> Vec<u8> {
    format!("polyops doctor: {what} test file {name}, removed when the check ends\n").into_bytes()
}

/// The checks so far; each is also handed on as it is made (a slow server
/// shows its lines one by one).
struct Checks<'a> {
    list: Vec<Check>,
    each: &'a mut dyn FnMut(&Check),
}

impl Checks<'_> {
    fn push(&mut self, check: Check) {
        (self.each)(&check);
        self.list.push(check);
    }
}

/// Every check of `site`'s FTP target, in order; `each` hears each one as
/// it is made. `password` logs in; `masker` cleans what the server says.
pub fn examine(
    site: &Site,
    password: &Secret,
    masker: &Masker,
    each: &mut dyn FnMut(&Check),
) -> Vec<Check> {
    let mut checks = Checks {
        list: Vec::new(),
        each,
    };
    let TargetUrl::Ftp { tls, host, .. } = &site.target.url else {
        checks.push(Check::fail(
            "target",
            format!(
                "{} is a local folder: doctor checks the FTP server the phones boot from",
                site.target.display
            ),
        ));
        return checks.list;
    };
    let doctor = Doctor { site, masker };
    let session = doctor.login(session::connect(&site.target, password), *tls, &mut checks);
    if *tls {
        doctor.tls(host, &mut checks);
    }
    if let Some((mut session, greeting)) = session {
        doctor.on_target(&mut *session, &greeting, &mut checks);
    }
    checks.list
}

/// The site whose target is checked, and the masker of what its server
/// says.
struct Doctor<'a> {
    site: &'a Site,
    masker: &'a Masker,
}

impl Doctor<'_> {
    fn clean(&self, text: &str) -> String {
        self.masker.clean(text)
    }

    /// A failure's message, fit to print.
    fn said(&self, e: RemoteError) -> String {
        self.masker.clean(&e.message)
    }

    /// The login check; the session and the first line of its greeting
    /// when it logged in.
    fn login(
        &self,
        login: Result<Box<dyn Session>, RemoteError>,
        tls: bool,
        checks: &mut Checks,
    ) -> Option<(Box<dyn Session>, String)> {
        let t = match login {
            Ok(t) => t,
            Err(err) => {
                checks.push(login_failed(&self.said(err), self.site));
                return None;
            }
        };
        let greeting = t.greeting().unwrap_or_default();
        let greeting = greeting
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        checks.push(Check::ok(
            "login",
            format!(
                "logged in as {}{}{}",
                self.site.target.user,
                if tls { " over TLS" } else { "" },
                if greeting.is_empty() {
                    String::new()
                } else {
                    format!(" (\"{}\")", self.clean(&greeting))
                }
            ),
        ));
        Some((t, greeting))
    }

    /// The server's certificate, and whether a phone (which does not speak
    /// FTPS) can log in.
    fn tls(&self, host: &str, checks: &mut Checks) {
        let target = &self.site.target;
        let clean = |t: &str| self.clean(t);
        checks.push(match probe::certificate(target) {
            Ok(c) => certificate(&c, host, SystemTime::now(), &clean),
            Err(err) => Check::fail(
                "tls",
                format!("{}; ftps:// needs a server that offers explicit TLS (AUTH TLS): turn it on (vsftpd: ssl_enable=YES) or use ftp://", self.said(err)),
            ),
        });
        checks.push(phones_login(
            probe::plain_login(target)
                .map(|(code, text)| (code, self.clean(&text)))
                .map_err(|e| self.said(e)),
            &target.user,
        ));
    }

    /// Everything checked through the logged-in session: passive mode and
    /// the listing, writing, hashing, the clock, renaming, deleting, the
    /// lock, the boot files, and that nothing of the checks' stays.
    fn on_target(&self, t: &mut dyn Session, greeting: &str, checks: &mut Checks) {
        let (rendered, masters) = declared(self.site);
        let Some(listed) = self.passive_and_listing(t, checks) else {
            return;
        };
        let cut = t.stats().listing_cut.map(|c| self.clean(&c));
        let expected = rendered.len() + 1 + PHONE_FILES * self.site.phones.len();
        checks.push(listing(listed.len(), cut.as_deref(), greeting, expected));
        let Some(names) = test_names(&listed) else {
            checks.push(Check::fail("write", "found no free name for a test file"));
            return;
        };
        self.files(t, &names, rendered.len(), checks);
        checks.push(self.lock(t, &names[2]));
        let clean = |s: &str| self.clean(s);
        checks.push(boot(&masters, &rendered, &listed, cut.is_some(), &clean));
        checks.push(self.cleanup(t, &names));
    }

    /// A PASV and a listing over the data connection it opens: the names
    /// at the root.
    fn passive_and_listing(
        &self,
        t: &mut dyn Session,
        checks: &mut Checks,
    ) -> Option<BTreeSet<String>> {
        let p = match t.passive_reply() {
            Ok(p) => p,
            Err(err) => {
                checks.push(Check::fail(
                    "passive",
                    format!("{}; polyops and the phones use passive mode: turn it on (vsftpd: pasv_enable=YES)", self.said(err)),
                ));
                return None;
            }
        };
        let p = Passive {
            reply: self.clean(&p.reply),
            ..p
        };
        let cmd = t.listing_command();
        match t.list() {
            Ok(entries) => {
                checks.push(passive(&p, Ok(entries.len()), cmd));
                Some(entries.iter().map(|x| x.name.as_str().to_owned()).collect())
            }
            Err(err) => {
                checks.push(passive(&p, Err(self.said(err)), cmd));
                None
            }
        }
    }

    /// Write a test file, have the server hash it and date it, rename onto
    /// it and delete it.
    fn files(
        &self,
        t: &mut dyn Session,
        names: &[RemoteName; 3],
        files: usize,
        checks: &mut Checks,
    ) {
        let [a, b, _] = names;
        let first = test_bytes(a, "a");
        let before = SystemTime::now();
        let wrote = t.write(a, &first);
        let after = SystemTime::now();
        if let Err(err) = wrote {
            checks.push(Check::fail(
                "write",
                format!("{}; the account must be able to create files in the folder (vsftpd: write_enable=YES; {FILEZILLA}); the rename, delete, hashing and clock checks need a stored file and were not run", self.said(err)),
            ));
            return;
        }
        checks.push(Check::ok(
            "write",
            format!("stored {a} ({} bytes)", first.len()),
        ));
        let hashed = match t.hash_command() {
            Some(_) => t
                .hash_many(std::slice::from_ref(a))
                .map(|h| h.and_then(|h| h.into_iter().next().and_then(|(_, sha)| sha)))
                .map_err(|e| self.said(e)),
            None => Ok(None),
        };
        checks.push(hashing(
            t.hash_command(),
            hashed,
            &sha256_hex(&first),
            files,
        ));
        checks.push(match t.modified(a) {
            Ok(Some(at)) => clock(at, before, after),
            Ok(None) => Check::warn(
                "clock",
                "the server has no MDTM, so its clock cannot be checked",
            ),
            Err(err) => Check::warn(
                "clock",
                format!("cannot read the time of {a}: {}", self.said(err)),
            ),
        });
        checks.push(rename_check(t, a, b, &|e| self.said(e)));
        checks.push(match t.delete(a) {
            Ok(()) => Check::ok("delete", format!("deleted {a}")),
            Err(err) => Check::fail(
                "delete",
                format!("{}; the account must be able to delete files: apply deletes the files a site no longer declares ({FILEZILLA})", self.said(err)),
            ),
        });
    }

    /// apply's lock is a folder: make one and remove it.
    fn lock(&self, t: &mut dyn Session, lock: &RemoteName) -> Check {
        match t.make_dir(lock) {
            Err(err) => Check::fail(
                "lock",
                format!("{}; apply's lock is a folder (.polyops-lock): the account must be able to create and remove folders ({FILEZILLA})", self.said(err)),
            ),
            Ok(()) => match t.remove_dir(lock) {
                Ok(()) => Check::ok("lock", format!("created and removed the folder {lock}, as apply's lock does")),
                Err(err) => Check::fail(
                    "lock",
                    format!("{}; apply's lock is a folder (.polyops-lock): the account must be able to remove folders ({FILEZILLA})", self.said(err)),
                ),
            },
        }
    }

    /// Nothing of the checks' may stay behind.
    fn cleanup(&self, t: &mut dyn Session, names: &[RemoteName; 3]) -> Check {
        let ours = |n: &str| names.iter().any(|o| o.as_str() == n);
        let left: Vec<String> = match t.list() {
            Ok(entries) => entries
                .into_iter()
                .filter(|x| ours(x.name.as_str()))
                .filter_map(|x| {
                    let gone = if x.is_dir {
                        t.remove_dir(&x.name)
                    } else {
                        t.delete(&x.name)
                    };
                    gone.err().map(|_| x.name.as_str().to_owned())
                })
                .collect(),
            Err(err) => vec![format!("(the final listing failed: {})", self.said(err))],
        };
        if left.is_empty() {
            Check::ok("cleanup", "no test file is left; no other file was touched")
        } else {
            Check::fail(
                "cleanup",
                format!("could not remove {}: remove them by hand", left.join(", ")),
            )
        }
    }
}

/// Store `b`, rename it onto the existing `a` without apply's fallback,
/// and read `a` back; where the server refuses, try apply's way.
fn rename_check(
    t: &mut dyn Session,
    a: &RemoteName,
    b: &RemoteName,
    e: &dyn Fn(RemoteError) -> String,
) -> Check {
    let second = test_bytes(b, "b");
    if let Err(err) = t.write(b, &second) {
        return Check::fail("rename", e(err));
    }
    let check = match t.rename_without_fallback(b, a) {
        Ok(Rename::Replaced) => match t.read(a, 4096) {
            Ok(bytes) if bytes == second => Check::ok(
                "rename",
                format!("renamed {b} onto the existing {a}, which now holds the new bytes: apply's uploads land whole, in one step"),
            ),
            Ok(_) => Check::fail(
                "rename",
                format!("the server said it renamed {b} onto {a}, but {a} does not hold {b}'s bytes; use a server whose rename replaces the file"),
            ),
            Err(err) => Check::fail("rename", format!("reading {a} back: {}", e(err))),
        },
        Ok(Rename::Refused(reply)) => match t.rename(b, a) {
            Ok(()) => Check::warn(
                "rename",
                format!("the server refuses to rename onto an existing file ({}), as FileZilla Server does: polyops copes by deleting the old file first, so for a moment a phone that boots finds no file under that name; to avoid it, let renames replace files (proftpd: AllowOverwrite on) or use a server that does (vsftpd, pure-ftpd)", e(RemoteError::new(crate::remote::Cause::Refused, reply))),
            ),
            Err(err) => Check::fail(
                "rename",
                format!("the server refuses to rename onto an existing file, and apply's way round it (delete, then rename) failed too: {}; grant the account rename and delete ({FILEZILLA})", e(err)),
            ),
        },
        Err(err) => Check::fail(
            "rename",
            format!("{}; apply uploads to a temporary name and renames it into place: the account must be able to rename files ({FILEZILLA})", e(err)),
        ),
    };
    let _ = t.delete(b);
    check
}
