//! A small FTP server for the tests of what no real server does on purpose:
//! it greets late or never, trickles its replies, answers without end,
//! echoes the password, lists hostile names. Otherwise it serves an
//! in-memory folder well enough for plan, drift and apply, and logs every
//! command line it receives, exactly as received, so a test can prove what
//! polyops did and did not send. 127.0.0.1 only.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const USER: &str = "PlcmSpIp";

/// How the server misbehaves.
#[derive(Clone, Default)]
pub struct Script {
    /// Accept connections but never send the greeting.
    pub silent: bool,
    /// Send every reply one byte at a time, this far apart.
    pub trickle: Option<Duration>,
    /// Answer FEAT with continuation lines that never end.
    pub endless_feat: bool,
    /// Refuse every login with a 530 that quotes the password sent.
    pub echo_pass: bool,
    /// Refuse the first RETR with a 421 that quotes the password and
    /// carries terminal escapes, then behave.
    pub echo_pass_on_retr: bool,
    /// Send every file's data one byte at a time, this far apart.
    pub trickle_data: Option<Duration>,
    /// Extra names in every listing (no such files exist).
    pub hostile_names: Vec<String>,
    /// Names left out of every listing though the files exist, as past the
    /// cut of a listing cut short.
    pub unlisted: Vec<String>,
    /// The host every PASV reply names (the data port is always opened
    /// on 127.0.0.1).
    pub pasv_host: Option<[u8; 4]>,
    /// Wait this long before answering each RETR.
    pub delay_retr: Option<Duration>,
    /// Names whose upload (STOR) is refused with 553.
    pub refuse_stor: Vec<String>,
    /// Names whose upload the server keeps only the first half of, and
    /// says 226 all the same (a full disk, a broken server).
    pub truncate_stor: Vec<String>,
    /// Names whose upload the server keeps with its bytes in reverse
    /// order: the same size, other bytes (another file's, say).
    pub reverse_stor: Vec<String>,
    /// Refuse RNTO onto a file that exists, as FileZilla Server does.
    pub refuse_rename_onto_existing: bool,
    /// Answer MDTM with the time now plus this many seconds (`None`: no
    /// MDTM, "500 Unknown command").
    pub mdtm_offset: Option<i64>,
    /// The final reply of every listing instead of "226 Directory send OK."
    pub listing_done: Option<String>,
    /// The greeting's text after "220 " (default: one no client knows).
    pub greeting: Option<&'static str>,
    /// Files' modification times (`YYYYMMDDHHMMSS`, UTC) that listings
    /// show: MLSD's `modify` fact, or a LIST line's month, day and time.
    pub modify: Vec<(String, String)>,
    /// List as `ls -l` does (LIST, no MLSD in FEAT), as vsftpd does.
    pub unix_list: bool,
    /// On the first command line that starts with this text, before it is
    /// carried out: cut every session's control connection (as killed
    /// session processes do), and close every connection that arrives for
    /// the time given (a listener restarting); then serve as before.
    pub outage: Option<(String, Duration)>,
    /// The port every PASV reply names instead of the server's own: one
    /// that another session (another site's upload) listens on.
    pub foreign_pasv: Option<u16>,
    /// End the session at every STOR, without a reply, as a server whose
    /// session process was killed does.
    pub drop_on_stor: bool,
    /// Take every upload's data, then say `426` (transfer aborted) and
    /// keep an empty file under the name, as a server whose upload broke
    /// off may.
    pub abort_stor: bool,
    /// The first session to answer a PASV after a RETR ends right after
    /// that reply, and the port it named goes to another session at once:
    /// the connections made to it are counted ([`Scripted::foreign`]).
    pub first_session_dies_after_pasv: bool,
    /// End a session that sends no command for this long with
    /// `421 Timeout.`, then close it, as vsftpd's idle_session_timeout
    /// does.
    pub idle_timeout: Option<Duration>,
    /// At the first STOR of this name (its temporary name, that is), the
    /// server takes another connection's bytes for it, as when another
    /// session reached the passive port first: a stray connection is
    /// made to the port, read to its end and stored, and the client's own
    /// connection is closed with its bytes unread (a reset, as a queued
    /// connection gets when the port closes). The reply still says 226.
    pub stray_stor: Option<String>,
}

/// What every session shares to fail together (`Script::outage`).
#[derive(Default)]
struct Sessions {
    /// The control connections of the sessions being served.
    control: Mutex<Vec<TcpStream>>,
    /// Until when new connections are closed at once.
    down_until: Mutex<Option<Instant>>,
}

impl Sessions {
    fn down(&self) -> bool {
        let until = *self.down_until.lock().expect("down");
        until.is_some_and(|t| Instant::now() < t)
    }

    /// Cut every control connection, and refuse sessions for `down`.
    fn fail(&self, down: Duration) {
        *self.down_until.lock().expect("down") = Some(Instant::now() + down);
        for c in self.control.lock().expect("sessions").drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
    }
}

#[derive(Default)]
struct Folder {
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeSet<String>,
    /// Names holding a stray connection's bytes (`Script::stray_stor`),
    /// and how many times one of them was renamed.
    strays: BTreeSet<String>,
    strays_renamed: usize,
}

/// The bytes a stray connection carries (`Script::stray_stor`).
pub const STRAY_BYTES: &[u8] = b"<another session's file/>";

pub struct Scripted {
    pub port: u16,
    folder: Arc<Mutex<Folder>>,
    log: Arc<Mutex<Vec<String>>>,
    script: Arc<Mutex<Script>>,
    sessions: Arc<Sessions>,
    /// Connections made to a data port after its session ended.
    foreign: Arc<std::sync::atomic::AtomicUsize>,
}

impl Scripted {
    pub fn start(password: &str, script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("address").port();
        let server = Scripted {
            port,
            folder: Arc::default(),
            log: Arc::default(),
            script: Arc::new(Mutex::new(script)),
            sessions: Arc::default(),
            foreign: Arc::default(),
        };
        let foreign = Arc::clone(&server.foreign);
        let (folder, log, script, password, sessions) = (
            Arc::clone(&server.folder),
            Arc::clone(&server.log),
            Arc::clone(&server.script),
            password.to_owned(),
            Arc::clone(&server.sessions),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if sessions.down() {
                    drop(conn);
                    continue;
                }
                let outage = script.lock().expect("script").outage.is_some();
                if let Ok(control) = conn.try_clone().map_err(drop).and_then(|c| {
                    // Only a script with an outage to come holds them.
                    outage.then_some(c).ok_or(())
                }) {
                    sessions.control.lock().expect("sessions").push(control);
                }
                let session = Session {
                    folder: Arc::clone(&folder),
                    log: Arc::clone(&log),
                    script: script.lock().expect("script").clone(),
                    shared_script: Arc::clone(&script),
                    password: password.clone(),
                    sessions: Arc::clone(&sessions),
                    foreign: Arc::clone(&foreign),
                };
                std::thread::spawn(move || session.serve(conn));
            }
        });
        server
    }

    /// Change the script of the sessions that start from now on.
    pub fn rescript(&self, change: impl FnOnce(&mut Script)) {
        change(&mut self.script.lock().expect("script"));
    }

    /// Whether `first_session_dies_after_pasv` is still waiting for its
    /// session.
    pub fn rescripted_pending(&self) -> bool {
        self.script
            .lock()
            .expect("script")
            .first_session_dies_after_pasv
    }

    /// How many times a name holding a stray connection's bytes was
    /// renamed (`Script::stray_stor`).
    pub fn strays_renamed(&self) -> usize {
        self.folder.lock().expect("folder").strays_renamed
    }

    /// Whether `stray_stor` is still waiting for its STOR.
    pub fn stray_pending(&self) -> bool {
        self.script.lock().expect("script").stray_stor.is_some()
    }

    /// How many connections reached a data port after its session ended.
    pub fn foreign(&self) -> usize {
        self.foreign.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn url(&self) -> String {
        format!("ftp://127.0.0.1:{}/", self.port)
    }

    pub fn put(&self, name: &str, bytes: &[u8]) {
        self.folder
            .lock()
            .expect("folder")
            .files
            .insert(name.to_owned(), bytes.to_vec());
    }

    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.folder.lock().expect("folder").files.get(name).cloned()
    }

    pub fn make_dir(&self, name: &str) {
        self.folder
            .lock()
            .expect("folder")
            .dirs
            .insert(name.to_owned());
    }

    pub fn remove_dir(&self, name: &str) {
        self.folder.lock().expect("folder").dirs.remove(name);
    }

    pub fn remove(&self, name: &str) {
        self.folder.lock().expect("folder").files.remove(name);
    }

    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        self.folder.lock().expect("folder").files.clone()
    }

    pub fn dirs(&self) -> BTreeSet<String> {
        self.folder.lock().expect("folder").dirs.clone()
    }

    /// Every command line received so far, as received (CR LF removed).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().expect("log").clear();
    }
}

struct Session {
    folder: Arc<Mutex<Folder>>,
    log: Arc<Mutex<Vec<String>>>,
    script: Script,
    shared_script: Arc<Mutex<Script>>,
    password: String,
    sessions: Arc<Sessions>,
    foreign: Arc<std::sync::atomic::AtomicUsize>,
}

impl Session {
    /// Whether this STOR is the one `stray_stor` names (once).
    fn stray_now(&self, arg: &str) -> bool {
        let mut script = self.shared_script.lock().expect("script");
        let now = script
            .stray_stor
            .as_deref()
            .is_some_and(|name| arg == format!("{name}.polyops-tmp"));
        if now {
            script.stray_stor = None;
        }
        now
    }

    /// A stray connection to `l` delivers [`STRAY_BYTES`], read to its end;
    /// `own`, the client's connection, is closed once its bytes have
    /// arrived, unread: the client sees a reset.
    fn take_stray(&self, l: &TcpListener, own: TcpStream) -> std::io::Result<()> {
        let mut stray = TcpStream::connect(l.local_addr()?)?;
        stray.write_all(STRAY_BYTES)?;
        stray.shutdown(Shutdown::Write)?;
        let (mut taken, _) = l.accept()?;
        taken.read_to_end(&mut Vec::new())?;
        own.set_read_timeout(Some(Duration::from_secs(5)))?;
        let _ = own.peek(&mut [0u8; 1]);
        // The client writes the whole of a small file at once; give it
        // the moment to finish and close its side.
        std::thread::sleep(Duration::from_millis(200));
        drop(own);
        Ok(())
    }

    /// A file's line in a listing: MLSD facts, or `ls -l` with
    /// `unix_list`; with its time where `modify` gives one.
    fn listing_line(&self, name: &str, size: usize) -> String {
        let modify = self
            .script
            .modify
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str());
        if !self.script.unix_list {
            let fact = modify.map(|t| format!("modify={t};")).unwrap_or_default();
            return format!("type=file;size={size};{fact} {name}\r\n");
        }
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let t = modify.unwrap_or("20260101000000");
        let month: usize = t[4..6].parse().expect("a month");
        format!(
            "-rw-r--r--    1 1000     1000     {size:>8} {} {} {}:{} {name}\r\n",
            MONTHS[month - 1],
            &t[6..8],
            &t[8..10],
            &t[10..12]
        )
    }

    /// Whether `line` starts the outage of the script (once): every
    /// session is then cut, this one included.
    fn outage_on(&self, line: &str) -> bool {
        let outage = {
            let mut s = self.shared_script.lock().expect("script");
            match &s.outage {
                Some((on, _)) if line.starts_with(on.as_str()) => s.outage.take(),
                _ => None,
            }
        };
        let Some((_, down)) = outage else {
            return false;
        };
        self.sessions.fail(down);
        true
    }

    fn reply(&self, c: &mut TcpStream, text: &str) -> std::io::Result<()> {
        let bytes = format!("{text}\r\n");
        match self.script.trickle {
            None => c.write_all(bytes.as_bytes()),
            Some(gap) => {
                for b in bytes.bytes() {
                    c.write_all(&[b])?;
                    std::thread::sleep(gap);
                }
                Ok(())
            }
        }
    }

    fn serve(self, mut c: TcpStream) {
        if self.script.silent {
            // Hold the connection open, say nothing.
            std::thread::sleep(Duration::from_secs(120));
            return;
        }
        let _ = self.session(&mut c);
        let _ = c.shutdown(Shutdown::Both);
    }

    fn session(&self, c: &mut TcpStream) -> std::io::Result<()> {
        let greeting = self.script.greeting.unwrap_or("scripted test server");
        self.reply(c, &format!("220 {greeting}"))?;
        let mut reader = BufReader::new(c.try_clone()?);
        let mut passive: Option<TcpListener> = None;
        let mut rename_from: Option<String> = None;
        let mut user_ok = false;
        let mut retr_seen = false;
        c.set_read_timeout(self.script.idle_timeout)?;
        loop {
            let mut raw = Vec::new();
            match reader.read_until(b'\n', &mut raw) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return self.reply(c, "421 Timeout.");
                }
                Err(e) => return Err(e),
            }
            let line = String::from_utf8_lossy(&raw)
                .trim_end_matches(['\r', '\n'])
                .to_owned();
            self.log.lock().expect("log").push(line.clone());
            if self.outage_on(&line) {
                return Ok(());
            }
            let (verb, arg) = match line.split_once(' ') {
                Some((v, a)) => (v.to_ascii_uppercase(), a.to_owned()),
                None => (line.to_ascii_uppercase(), String::new()),
            };
            match verb.as_str() {
                "USER" => {
                    user_ok = arg == USER;
                    self.reply(c, "331 Please specify the password.")?;
                }
                "PASS" => {
                    if self.script.echo_pass {
                        self.reply(c, &format!("530 Login incorrect: bad password {arg}"))?;
                    } else if user_ok && arg == self.password {
                        self.reply(c, "230 Login successful.")?;
                    } else {
                        self.reply(c, "530 Login incorrect.")?;
                    }
                }
                "FEAT" if self.script.endless_feat => {
                    c.write_all(b"211-Features:\r\n")?;
                    let started = Instant::now();
                    while started.elapsed() < Duration::from_secs(60) {
                        c.write_all(b" MLSD\r\n")?;
                    }
                    return Ok(());
                }
                "FEAT" if self.script.unix_list => {
                    self.reply(c, "211-Features:\r\n SIZE\r\n211 End")?
                }
                "FEAT" => {
                    self.reply(c, "211-Features:\r\n MLST type*;size*;\r\n SIZE\r\n211 End")?
                }
                "TYPE" => self.reply(c, "200 Switching to Binary mode.")?,
                "OPTS" => self.reply(c, "200 OK")?,
                "CWD" => self.reply(c, "250 Directory successfully changed.")?,
                "NOOP" => self.reply(c, "200 NOOP ok.")?,
                "QUIT" => {
                    self.reply(c, "221 Goodbye.")?;
                    return Ok(());
                }
                "PASV" => {
                    let l = TcpListener::bind("127.0.0.1:0")?;
                    let p = l.local_addr()?.port();
                    passive = Some(l);
                    let p = self.script.foreign_pasv.unwrap_or(p);
                    let [a, b, h, d] = self.script.pasv_host.unwrap_or([127, 0, 0, 1]);
                    self.reply(
                        c,
                        &format!(
                            "227 Entering Passive Mode ({a},{b},{h},{d},{},{}).",
                            p >> 8,
                            p & 255
                        ),
                    )?;
                    let dies = retr_seen && {
                        let mut s = self.shared_script.lock().expect("script");
                        std::mem::take(&mut s.first_session_dies_after_pasv)
                    };
                    if let Some(l) = passive.take_if(|_| dies) {
                        // Another session owns the port now.
                        let foreign = Arc::clone(&self.foreign);
                        std::thread::spawn(move || {
                            for conn in l.incoming().flatten() {
                                foreign.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                drop(conn);
                            }
                        });
                        return Ok(());
                    }
                }
                "MLSD" | "LIST" => {
                    let Some(l) = passive.take() else {
                        self.reply(c, "425 Use PASV first.")?;
                        continue;
                    };
                    let (mut d, _) = l.accept()?;
                    self.reply(c, "150 Here comes the directory listing.")?;
                    let mut listing = String::new();
                    {
                        let f = self.folder.lock().expect("folder");
                        for (name, bytes) in f
                            .files
                            .iter()
                            .filter(|(n, _)| !n.contains('/') && !self.script.unlisted.contains(n))
                        {
                            listing.push_str(&self.listing_line(name, bytes.len()));
                        }
                        for name in &f.dirs {
                            listing.push_str(&format!("type=dir; {name}\r\n"));
                        }
                    }
                    for name in &self.script.hostile_names {
                        listing.push_str(&format!("type=file;size=1; {name}\r\n"));
                    }
                    d.write_all(listing.as_bytes())?;
                    drop(d);
                    let done = self.script.listing_done.as_deref();
                    self.reply(c, done.unwrap_or("226 Directory send OK."))?;
                }
                "RETR" => {
                    retr_seen = true;
                    if let Some(d) = self.script.delay_retr {
                        std::thread::sleep(d);
                    }
                    let Some(l) = passive.take() else {
                        self.reply(c, "425 Use PASV first.")?;
                        continue;
                    };
                    let echo = {
                        let mut s = self.shared_script.lock().expect("script");
                        std::mem::take(&mut s.echo_pass_on_retr)
                    };
                    if echo {
                        self.reply(
                            c,
                            &format!(
                                "421 \x1b[2J\x1b]0;pwned\x07 timeout for user {USER} pass {}",
                                self.password
                            ),
                        )?;
                        return Ok(());
                    }
                    let bytes = self.folder.lock().expect("folder").files.get(&arg).cloned();
                    match bytes {
                        None => {
                            drop(l);
                            self.reply(c, "550 Failed to open file.")?;
                        }
                        Some(bytes) => {
                            let (mut d, _) = l.accept()?;
                            self.reply(c, "150 Opening BINARY mode data connection.")?;
                            match self.script.trickle_data {
                                None => d.write_all(&bytes)?,
                                Some(gap) => {
                                    for b in bytes {
                                        if d.write_all(&[b]).is_err() {
                                            break;
                                        }
                                        std::thread::sleep(gap);
                                    }
                                }
                            }
                            drop(d);
                            self.reply(c, "226 Transfer complete.")?;
                        }
                    }
                }
                "STOR" if self.script.drop_on_stor => return Ok(()),
                "STOR" => {
                    let Some(l) = passive.take() else {
                        self.reply(c, "425 Use PASV first.")?;
                        continue;
                    };
                    if self.script.refuse_stor.contains(&arg) {
                        drop(l);
                        self.reply(c, "553 Could not create file.")?;
                        continue;
                    }
                    let (mut d, _) = l.accept()?;
                    self.reply(c, "150 Ok to send data.")?;
                    if self.stray_now(&arg) {
                        self.take_stray(&l, d)?;
                        let mut f = self.folder.lock().expect("folder");
                        f.files.insert(arg.clone(), STRAY_BYTES.to_vec());
                        f.strays.insert(arg);
                        drop(f);
                        self.reply(c, "226 Transfer complete.")?;
                        continue;
                    }
                    let mut bytes = Vec::new();
                    d.read_to_end(&mut bytes)?;
                    // The upload lands under a temporary name first: the
                    // name it is meant for is the one without the suffix.
                    let meant = arg.trim_end_matches(".polyops-tmp");
                    if self.script.truncate_stor.iter().any(|n| n == meant) {
                        bytes.truncate(bytes.len() / 2);
                    }
                    if self.script.reverse_stor.iter().any(|n| n == meant) {
                        bytes.reverse();
                    }
                    if self.script.abort_stor {
                        self.folder
                            .lock()
                            .expect("folder")
                            .files
                            .insert(arg, Vec::new());
                        self.reply(c, "426 Connection closed; transfer aborted.")?;
                        continue;
                    }
                    let mut f = self.folder.lock().expect("folder");
                    f.strays.remove(&arg);
                    f.files.insert(arg, bytes);
                    drop(f);
                    self.reply(c, "226 Transfer complete.")?;
                }
                "RNFR" => {
                    let exists = self.folder.lock().expect("folder").files.contains_key(&arg);
                    if exists {
                        rename_from = Some(arg);
                        self.reply(c, "350 Ready for RNTO.")?;
                    } else {
                        self.reply(c, "550 RNFR command failed.")?;
                    }
                }
                "RNTO" => match rename_from.take() {
                    Some(_)
                        if self.script.refuse_rename_onto_existing
                            && self.folder.lock().expect("folder").files.contains_key(&arg) =>
                    {
                        self.reply(c, "553 Rename failed: file exists")?;
                    }
                    Some(from) => {
                        let mut f = self.folder.lock().expect("folder");
                        if f.strays.remove(&from) {
                            f.strays_renamed += 1;
                        }
                        if let Some(b) = f.files.remove(&from) {
                            f.files.insert(arg, b);
                        }
                        drop(f);
                        self.reply(c, "250 Rename successful.")?;
                    }
                    None => self.reply(c, "503 RNFR required first.")?,
                },
                "SIZE" => {
                    let size = self
                        .folder
                        .lock()
                        .expect("folder")
                        .files
                        .get(&arg)
                        .map(Vec::len);
                    match size {
                        Some(n) => self.reply(c, &format!("213 {n}"))?,
                        None => self.reply(c, "550 Could not get file size.")?,
                    }
                }
                "MDTM" => match self.script.mdtm_offset {
                    None => self.reply(c, "500 Unknown command.")?,
                    Some(offset) => {
                        let exists = self.folder.lock().expect("folder").files.contains_key(&arg);
                        if exists {
                            let now = std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .expect("after 1970")
                                .as_secs();
                            let at = std::time::UNIX_EPOCH
                                + Duration::from_secs(now.saturating_add_signed(offset));
                            let stamp: String = humantime::format_rfc3339_seconds(at)
                                .to_string()
                                .chars()
                                .filter(char::is_ascii_digit)
                                .collect();
                            self.reply(c, &format!("213 {stamp}"))?;
                        } else {
                            self.reply(c, "550 No such file.")?;
                        }
                    }
                },
                "DELE" => {
                    let removed = self.folder.lock().expect("folder").files.remove(&arg);
                    if removed.is_some() {
                        self.reply(c, "250 Delete operation successful.")?;
                    } else {
                        self.reply(c, "550 Delete operation failed.")?;
                    }
                }
                "MKD" => {
                    let mut f = self.folder.lock().expect("folder");
                    if f.dirs.contains(&arg) || f.files.contains_key(&arg) {
                        drop(f);
                        self.reply(c, "550 Create directory operation failed.")?;
                    } else {
                        f.dirs.insert(arg.clone());
                        drop(f);
                        self.reply(c, &format!("257 \"{arg}\" created"))?;
                    }
                }
                "RMD" => {
                    let mut f = self.folder.lock().expect("folder");
                    let prefix = format!("{arg}/");
                    let empty = !f.files.keys().any(|k| k.starts_with(&prefix));
                    if empty && f.dirs.remove(&arg) {
                        drop(f);
                        self.reply(c, "250 Remove directory operation successful.")?;
                    } else {
                        drop(f);
                        self.reply(c, "550 Remove directory operation failed.")?;
                    }
                }
                _ => self.reply(c, "500 Unknown command.")?,
            }
        }
    }
}
