//! An emulated SoundPoint for the tests of `polyops phones`: it boots
//! against a real FTP server the way a phone does (docs/phones.md). It
//! logs in with the phones' account, fetches `<mac>.cfg`, then every file
//! its APPLICATION element names (APP_FILE_PATH, each CONFIG_FILES entry),
//! and appends (APPE; STOR where the server refuses APPE) what it did
//! to `<mac>-boot.log` and
//! `<mac>-app.log` in Polycom's line format, `TIME|COMPONENT|LEVEL|MISSED|TEXT`
//! with `log.render.type` 2 times (`MMDDHHMMSS`, its clock in UTC). A
//! fetch that fails, or that it is told to fail, is an error line
//! (LEVEL 4) naming the file.
//!
//! Its clock is the test's: the lines carry the time it is given, and the
//! test sets the logs' times on the server's disk to match
//! ([`set_time`]), so no test waits for a clock to move.

use std::io::Cursor;
use std::path::Path;

use suppaftp::types::FileType;
use suppaftp::FtpStream;

use crate::ftp_support::FtpServer;

pub struct EmulatedPhone {
    pub mac: String,
    host: String,
    folder: String,
    user: String,
    password: String,
    /// Names whose fetch fails as if the server refused it.
    fail: Vec<String>,
}

/// What one boot did.
#[derive(Debug)]
pub struct Booted {
    pub fetched: Vec<String>,
    pub failed: Vec<String>,
}

impl EmulatedPhone {
    /// A phone of `server`'s scenario folder with the phones' account.
    pub fn new(server: &FtpServer, mac: &str) -> Self {
        let rest = server
            .url
            .strip_prefix("ftp://")
            .expect("a plain ftp:// server");
        let (host, folder) = rest.split_once('/').unwrap_or((rest, ""));
        EmulatedPhone {
            mac: mac.to_owned(),
            host: host.to_owned(),
            folder: folder.trim_end_matches('/').to_owned(),
            user: server.user.clone(),
            password: server.password.clone(),
            fail: Vec::new(),
        }
    }

    /// Fail the fetch of `name` (and log the error) at every boot.
    pub fn failing(mut self, name: &str) -> Self {
        self.fail.push(name.to_owned());
        self
    }

    /// Boot at `clock` (seconds since 1970, UTC): fetch, then append both
    /// logs.
    pub fn boot(&self, clock: i64) -> Booted {
        let mut ftp = FtpStream::connect(&self.host).expect("the phone reaches its boot server");
        ftp.set_passive_nat_workaround(true);
        ftp.login(self.user.as_str(), self.password.as_str())
            .expect("the phone logs in");
        ftp.transfer_type(FileType::Binary).expect("binary mode");
        if !self.folder.is_empty() {
            ftp.cwd(&self.folder).expect("the phone's folder");
        }
        let t = |offset: i64| line_time(clock + offset);
        let mut boot = vec![format!(
            "{}|boot |2|00|BootROM 4.2.1 SPIP650 booting from FTP {}",
            t(0),
            self.host
        )];
        let mut app = vec![format!(
            "{}|so   |2|00|SIP 3.2.7 application starting",
            t(2)
        )];
        let mut booted = Booted {
            fetched: Vec::new(),
            failed: Vec::new(),
        };
        let master = format!("{}.cfg", self.mac);
        let names = match self.fetch(&mut ftp, &master) {
            Ok(bytes) => {
                boot.push(format!("{}|boot |2|00|Downloaded {master}", t(1)));
                booted.fetched.push(master.clone());
                application(&bytes)
            }
            Err(why) => {
                boot.push(format!(
                    "{}|boot |4|00|Could not load {master}: {why}",
                    t(1)
                ));
                app.push(format!(
                    "{}|cfg  |4|00|Could not load {master}: {why}",
                    t(3)
                ));
                booted.failed.push(master);
                Vec::new()
            }
        };
        for name in names {
            match self.fetch(&mut ftp, &name) {
                Ok(_) => {
                    app.push(format!("{}|cfg  |2|00|Loaded {name}", t(3)));
                    booted.fetched.push(name);
                }
                Err(why) => {
                    app.push(format!("{}|cfg  |4|00|Could not load {name}: {why}", t(3)));
                    booted.failed.push(name);
                }
            }
        }
        app.push(format!("{}|sip  |2|00|Registering lines", t(4)));
        self.append(&mut ftp, &format!("{}-boot.log", self.mac), &boot);
        self.append(&mut ftp, &format!("{}-app.log", self.mac), &app);
        let _ = ftp.quit();
        booted
    }

    fn fetch(&self, ftp: &mut FtpStream, name: &str) -> Result<Vec<u8>, String> {
        if self.fail.iter().any(|f| f == name) {
            return Err("550 Failed to open file.".to_owned());
        }
        ftp.retr_as_buffer(name)
            .map(Cursor::into_inner)
            .map_err(|e| e.to_string().lines().next().unwrap_or_default().to_owned())
    }

    /// Append `lines` to `name` (APPE), as a phone does with
    /// `log.render.file.upload.append` on (the default). A server that
    /// refuses appending (ProFTPD without `AllowStoreRestart on`) gets
    /// what a phone with that option off sends: the lines alone (STOR).
    fn append(&self, ftp: &mut FtpStream, name: &str, lines: &[String]) {
        let mut text = String::new();
        for l in lines {
            text.push_str(l);
            text.push_str("\r\n");
        }
        if ftp.append_file(name, &mut text.as_bytes()).is_err() {
            ftp.put_file(name, &mut text.as_bytes())
                .unwrap_or_else(|e| panic!("the phone uploads {name}: {e}"));
        }
    }
}

/// `MMDDHHMMSS` of a UTC time.
pub fn line_time(seconds: i64) -> String {
    let c = polyops::clock::Civil::from_seconds(seconds);
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The files a master file's APPLICATION element names: APP_FILE_PATH
/// first, then CONFIG_FILES left to right.
fn application(master: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(master);
    let doc = roxmltree::Document::parse(&text).expect("the master file is XML");
    let app = doc
        .descendants()
        .find(|n| n.has_tag_name("APPLICATION"))
        .expect("an APPLICATION element");
    let mut names = vec![app
        .attribute("APP_FILE_PATH")
        .unwrap_or_default()
        .to_owned()];
    names.extend(
        app.attribute("CONFIG_FILES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
    );
    names
}

/// Set a file's modification time on the server's disk (seconds since
/// 1970, UTC): how a test says when something happened.
pub fn set_time(path: &Path, seconds: i64) {
    let at = std::time::UNIX_EPOCH
        + std::time::Duration::from_secs(u64::try_from(seconds).expect("after 1970"));
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(at))
        .unwrap_or_else(|e| panic!("setting the time of {}: {e}", path.display()));
}
