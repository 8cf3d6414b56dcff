//! A page run from top to bottom in one [`Session`], and what a few pages
//! need that a reader brings along: their own FTP server, a hand-made
//! root, the firmware's files. Each such page says here what it stands
//! for and how the test stands it up.

use super::markdown::{self, Block};
use super::session::{repository, Session};
use super::vsftpd::{self, Vsftpd};
use crate::ftp_support::{self, FtpServer};
use crate::handmade::small_site;
use crate::scripted::{Script, Scripted};

/// What a page needs beyond the default session.
pub trait Page {
    fn setup(&mut self, _s: &mut Session) {}

    /// Before each block. `Err(why)` when the rest of the page cannot run
    /// on this machine.
    fn before(&mut self, _s: &mut Session, _b: &Block) -> Result<(), String> {
        Ok(())
    }

    /// A `file=` block naming a file of the machine (an absolute path),
    /// not of the work folder.
    fn system_file(&mut self, _s: &mut Session, path: &str, b: &Block) -> Result<(), String> {
        panic!("{}: this test has nothing that stands for {path}", b.at())
    }

    fn after(&mut self, _s: &mut Session) {}
}

/// A page that needs nothing but the session.
pub struct Plain;
impl Page for Plain {}

pub fn read(page: &str) -> String {
    std::fs::read_to_string(repository().join(page)).unwrap_or_else(|e| panic!("{page}: {e}"))
}

/// The rest of the page cannot run here: a note, or a failure under
/// `CI=true`, where everything it needs is installed.
fn cannot_run_here(page: &str, why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{page}: {why}; under CI every block must run"
    );
    eprintln!("note: {page}: the rest of the page was not run: {why}");
}

/// Run every block of `path` that runs, in order, in one session.
pub fn run(path: &str, page: &mut dyn Page) {
    let text = read(path);
    let mut s = Session::new();
    page.setup(&mut s);
    for b in markdown::blocks(path, &text) {
        if let Err(why) = page.before(&mut s, &b) {
            return cannot_run_here(path, &why);
        }
        match (b.lang.as_str(), b.has("no-run")) {
            ("sh" | "bash", false) => s.run_sh(&b),
            ("console", false) => s.run_console(&b),
            _ => {}
        }
        if let Some(file) = b.attr("file") {
            if file.starts_with('/') {
                if let Err(why) = page.system_file(&mut s, file, &b) {
                    return cannot_run_here(path, &why);
                }
            } else {
                s.write_file(file, &b);
            }
        }
        if let Some(file) = b.attr("output") {
            s.compare_file(file, &b);
        }
    }
    page.after(&mut s);
    s.finish(path);
}

/// The address the pages give a reader's FTP server (TEST-NET-1, which
/// no machine has).
const PAGE_SERVER: &str = "ftp://192.0.2.10/";

/// README.md: the example, then "Your first site on your own FTP server"
/// on a vsftpd started from the README's own configuration.
#[derive(Default)]
pub struct Readme {
    server: Option<Vsftpd>,
}

impl Page for Readme {
    fn system_file(&mut self, s: &mut Session, path: &str, b: &Block) -> Result<(), String> {
        assert_eq!(path, "/etc/vsftpd.conf", "{}", b.at());
        let server = vsftpd::start(&b.text)?;
        s.substitute(PAGE_SERVER, &server.url);
        // The guide's password for the phones' account; the test's account
        // has a password of its own.
        s.substitute(
            "POLYOPS_FTP_PASSWORD=PlcmSpIp",
            &format!("POLYOPS_FTP_PASSWORD='{}'", server.password),
        );
        assert_eq!(server.user, "PlcmSpIp", "the README's account");
        self.server = Some(server);
        Ok(())
    }

    /// The firmware download the README unzips is Polycom's: its files'
    /// stand-ins go where the README puts them.
    fn before(&mut self, _s: &mut Session, b: &Block) -> Result<(), String> {
        if b.has("no-run") && b.text.contains("unzip") {
            if let Some(server) = &self.server {
                ftp_support::firmware_package(&server.root);
            }
        }
        Ok(())
    }

    fn after(&mut self, _s: &mut Session) {
        let server = self.server.as_ref().expect("the README starts its server");
        for name in [
            ".polyops-state.json",
            "altigen.cfg",
            "201.cfg",
            "0004f2000607.cfg",
        ] {
            assert!(
                server.root.join(name).is_file(),
                "after the README's apply, {name} is not on the server"
            );
        }
    }
}

/// docs/import.md: the guide's hand-made root (`tests/handmade/`) on an
/// FTP server, which the page calls ftp://192.0.2.10/.
pub struct Import {
    server: FtpServer,
}

impl Import {
    pub fn new() -> Self {
        let server = ftp_support::in_process();
        for (name, bytes) in small_site().files() {
            let path = server.root.join(&name);
            std::fs::write(&path, bytes).expect("a hand-made file");
            ftp_support::chown_like(&path, &server.root);
        }
        Import { server }
    }
}

impl Page for Import {
    fn setup(&mut self, s: &mut Session) {
        s.substitute(PAGE_SERVER, &self.server.url);
        s.substitute(
            "POLYOPS_FTP_PASSWORD=…",
            &format!("POLYOPS_FTP_PASSWORD='{}'", self.server.password),
        );
    }
}

/// docs/explain.md: the example site applied to its `dir:` root, the SIP
/// 3.2.7 release's own `sip.cfg` and `phone1.cfg` there (as an installer
/// extracts them), and what phone 201's handset wrote.
pub struct Explain;

/// The handset's override file: someone cleared the dial plan on it and
/// set a label.
const HANDSET_201: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
<PHONE_CONFIG>\n\
<OVERRIDES\n\
  dialplan.digitmap=\"\"\n\
  reg.1.label=\"Lobby\"\n\
  up.backlight.idleIntensity=\"1\"/>\n\
</PHONE_CONFIG>\n";

impl Page for Explain {
    fn setup(&mut self, s: &mut Session) {
        for (k, v) in [
            ("EXT_201_PASSWORD", "1212"),
            ("EXT_202_PASSWORD", "2323"),
            ("EXT_203_PASSWORD", "3434"),
        ] {
            s.env(k, v);
        }
        let (code, out) =
            s.run("polyops --sites examples apply --auto-approve --allow-incomplete example");
        assert_eq!(code, Some(0), "{out}");
        let root = s.path().join("out/example-ftp-root");
        let fixtures = repository().join("tests/fixtures/explain");
        for name in ["sip.cfg", "phone1.cfg"] {
            std::fs::copy(fixtures.join(name), root.join(name)).expect("a release file");
        }
        std::fs::write(root.join("0004f2000607-phone.cfg"), HANDSET_201).expect("override");
    }
}

/// docs/setup.md: the site `hq` (two phones) the page's commands run on;
/// for `doctor`, the server is a FileZilla Server as the guide sets it up
/// (it will not rename onto an existing file), before the firmware package
/// is extracted to it.
#[derive(Default)]
pub struct Setup {
    server: Option<Scripted>,
}

const HQ: &str = "site: hq
target:
  url: ftp://192.0.2.10/
server:
  address: 10.100.2.127
time:
  zone: pacific
extensions:
  - {number: \"201\", name: Front Desk, password: {env: EXT_201_PASSWORD}}
  - {number: \"202\", password: {env: EXT_202_PASSWORD}}
phones:
  - {mac: 0004f2000607, model: IP650, extension: \"201\"}
  - {mac: 0004f2000608, model: IP331, extension: \"202\"}
";

impl Page for Setup {
    fn setup(&mut self, s: &mut Session) {
        std::fs::write(s.path().join("sites/hq.yaml"), HQ).expect("sites/hq.yaml");
        // doctor's test files are named after its process id.
        s.normalize(|text| {
            let mut out = String::new();
            let mut rest = text;
            while let Some(at) = rest.find(".polyops-doctor-") {
                let (head, tail) = rest.split_at(at + ".polyops-doctor-".len());
                out.push_str(head);
                let digits = |t: &str| t.chars().take_while(char::is_ascii_digit).count();
                let pid = digits(tail);
                let after_pid = &tail[pid..];
                if pid > 0 && after_pid.starts_with('-') && digits(&after_pid[1..]) > 0 {
                    out.push_str("4242-113097");
                    rest = &after_pid[1 + digits(&after_pid[1..])..];
                } else {
                    rest = tail;
                }
            }
            out.push_str(rest);
            out
        });
    }

    fn before(&mut self, s: &mut Session, b: &Block) -> Result<(), String> {
        if b.text.starts_with("$ polyops doctor") {
            let server = Scripted::start(
                "PlcmSpIp",
                Script {
                    refuse_rename_onto_existing: true,
                    mdtm_offset: Some(0),
                    greeting: Some("FileZilla Server 0.9.60 beta"),
                    ..Script::default()
                },
            );
            let site = HQ.replace(PAGE_SERVER, &server.url());
            std::fs::write(s.path().join("sites/hq.yaml"), site).expect("sites/hq.yaml");
            s.substitute(PAGE_SERVER, &server.url());
            self.server = Some(server);
        }
        Ok(())
    }
}
