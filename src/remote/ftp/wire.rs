//! The FTP wire below suppaftp, on plain connections: many commands sent
//! before their replies are read, and downloads that open the next data
//! connection as they go. (Reading a reply, and what is read out of one:
//! `reply`. What may be sent on a data connection, and when: `data`.)
//!
//! All of it relies on FTP being strictly request/reply: between two
//! exchanges nothing is buffered on either side, so a reader made for one
//! exchange may be dropped after it.

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use suppaftp::{FtpError, FtpStream};

use super::reply::{read_reply, unexpected, Reply};
use super::watchdog::Watchdog;
use crate::remote::{Access, Fetched, RemoteName, Sink};
use crate::site::name::check_command_line;

/// The longest listing polyops reads (a 7,000-phone site's MLSD is about
/// 1.2 MB).
pub const MAX_LISTING_BYTES: u64 = 64 * 1024 * 1024;

/// What every exchange on one connection needs: what it may send, and the
/// watchdog that ends it at its deadline.
#[derive(Clone, Copy)]
pub struct Wire<'a> {
    pub access: Access,
    pub watchdog: &'a Watchdog,
    /// The deadline of an exchange, and the wait for each byte.
    pub timeout: Duration,
}

/// The commands that change a server: never sent on a read-only connection.
const CHANGING: [&str; 11] = [
    "STOR", "STOU", "APPE", "DELE", "RNFR", "RNTO", "MKD", "XMKD", "RMD", "XRMD", "SITE",
];

/// The one check every command line passes before it is written to a
/// server: no CR, LF or NUL, and nothing that changes the server on a
/// read-only connection.
pub fn check(access: Access, line: &str) -> Result<(), FtpError> {
    let refuse = |m: String| {
        FtpError::ConnectionError(std::io::Error::new(std::io::ErrorKind::InvalidInput, m))
    };
    check_command_line(line).map_err(refuse)?;
    let verb = line.split(' ').next().unwrap_or_default();
    if access == Access::ReadOnly && CHANGING.iter().any(|c| verb.eq_ignore_ascii_case(c)) {
        return Err(refuse(format!(
            "refused to send {verb} on a read-only connection"
        )));
    }
    Ok(())
}

/// `VERB name`, checked.
pub fn line(access: Access, verb: &str, name: &RemoteName) -> Result<String, FtpError> {
    let l = format!("{verb} {name}");
    check(access, &l)?;
    Ok(l)
}

/// Send every command, then read every reply: one round trip for many
/// commands. No command may open a data connection.
pub fn pipelined(s: &FtpStream, w: Wire<'_>, lines: &[String]) -> Result<Vec<Reply>, FtpError> {
    pipelined_timed(s, w, lines).map(|(replies, _)| replies)
}

/// [`pipelined`], and how long the first reply took: the round trip,
/// which the replies after it (a login checking a password) do not hold
/// up.
pub fn pipelined_timed(
    s: &FtpStream,
    w: Wire<'_>,
    lines: &[String],
) -> Result<(Vec<Reply>, Duration), FtpError> {
    let stream: &TcpStream = &s.get_ref();
    let started = Instant::now();
    send(stream, w, lines)?;
    let mut reader = BufReader::new(stream);
    let mut replies = Vec::with_capacity(lines.len());
    let mut first = Duration::ZERO;
    for i in 0..lines.len() {
        replies.push(read_reply(&mut reader)?);
        if i == 0 {
            first = started.elapsed();
        }
    }
    Ok((replies, first))
}

/// Send QUIT and close, without waiting for the 221: every command before
/// it has been answered, so the reply tells polyops nothing, and a session
/// that ends waits one round trip less.
pub fn quit(s: &FtpStream, w: Wire<'_>) {
    let stream: &TcpStream = &s.get_ref();
    let _ = send(stream, w, &["QUIT".to_owned()]);
    let _ = stream.shutdown(Shutdown::Write);
}

/// The one place that writes commands to a plain control connection.
pub fn send(mut stream: &TcpStream, w: Wire<'_>, lines: &[String]) -> Result<(), FtpError> {
    let mut batch = String::new();
    for l in lines {
        check(w.access, l)?;
        batch.push_str(l);
        batch.push_str("\r\n");
    }
    stream
        .write_all(batch.as_bytes())
        .map_err(FtpError::ConnectionError)
}

/// The command that opens a passive data connection to `peer`: PASV on
/// IPv4, EPSV on IPv6 (PASV cannot name an IPv6 host).
pub fn passive_command(peer: SocketAddr) -> &'static str {
    if peer.is_ipv6() {
        "EPSV"
    } else {
        "PASV"
    }
}

/// The data address in a 227 (PASV) or 229 (EPSV) reply from `peer`: the
/// port it names, on the control connection's host. The address a PASV
/// reply names is not used: a server (or whoever wrote its reply) could
/// send polyops to any host, and behind NAT it names a private one anyway
/// (curl and lftp ignore it too).
pub fn passive_addr(peer: SocketAddr, (code, text): &Reply) -> Result<SocketAddr, FtpError> {
    let bad = || unexpected(*code, text);
    match code {
        227 => {
            let start = text.find('(').ok_or_else(bad)?;
            let end = start + text[start..].find(')').ok_or_else(bad)?;
            let n: Vec<u8> = text[start + 1..end]
                .split(',')
                .map(|p| p.trim().parse::<u8>())
                .collect::<Result<_, _>>()
                .map_err(|_| bad())?;
            let [_, _, _, _, hi, lo] = n[..] else {
                return Err(bad());
            };
            Ok(SocketAddr::new(
                peer.ip(),
                u16::from(hi) << 8 | u16::from(lo),
            ))
        }
        229 => {
            // "229 Entering Extended Passive Mode (|||6446|)"
            let start = text.find("(|||").ok_or_else(bad)? + 4;
            let end = start + text[start..].find('|').ok_or_else(bad)?;
            let port = text[start..end].parse().map_err(|_| bad())?;
            Ok(SocketAddr::new(peer.ip(), port))
        }
        _ => Err(bad()),
    }
}

/// What a listing brought: its lines, the text of the server's final
/// reply (which may say the listing was cut short), and the reply to the
/// passive command that travelled with it, if one did and it came in order.
pub struct Listing {
    pub lines: Vec<String>,
    pub done: String,
    pub next: Option<Reply>,
    /// Whether the passive reply came after the listing's own.
    pub in_order: bool,
    /// Whether the reply to the passive command ended the session (see
    /// [`ends_session`]).
    pub ended: bool,
}

/// A listing (`MLSD`, `LIST -a`) over the data connection `data` (opened
/// to the address the session's passive reply named). `then`: as for
/// [`receive`]; `beside`: as for [`receive`].
pub fn list(
    s: &FtpStream,
    w: Wire<'_>,
    command: &str,
    data: TcpStream,
    then: Option<&str>,
    beside: bool,
) -> Result<Listing, FtpError> {
    let received = receive(s, w, command, data, then, Limit::Listing, beside)?;
    let in_order = received.in_order;
    let ended = received
        .then
        .as_ref()
        .is_some_and(super::retry::ends_session);
    let next = if in_order { received.then } else { None };
    let (fetched, done) = received
        .outcome
        .map_err(|(code, text)| unexpected(code, &text))?;
    let bytes = fetched.bytes.unwrap_or_default();
    let lines = String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    Ok(Listing {
        lines,
        done: done.1,
        next,
        in_order,
        ended,
    })
}

/// How much of a transfer is kept, and how much is accepted at all.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// A listing: kept whole up to [`MAX_LISTING_BYTES`].
    Listing,
    /// A file: kept up to `keep`, hashed up to `max`.
    File { keep: usize, max: u64 },
}

impl Limit {
    pub fn sink(self) -> Sink {
        match self {
            Limit::Listing => Sink::new(MAX_LISTING_BYTES as usize, MAX_LISTING_BYTES),
            Limit::File { keep, max } => Sink::new(keep, max),
        }
    }
}

/// Read a transfer's data into `sink`, moving the watchdog's deadline as
/// bytes arrive (a large file may take longer than one `timeout`, a
/// trickle may not).
pub fn drain(reader: &mut dyn Read, sink: &mut Sink, w: Wire<'_>) -> std::io::Result<()> {
    let started = Instant::now();
    sink.drain(reader, &mut |size| {
        w.watchdog.progress(started, w.timeout, size)
    })
}

/// What a command that sends us data (RETR, MLSD, LIST) brought back.
pub struct Received {
    /// The data and the final reply, or the reply that refused the command.
    pub outcome: Result<(Fetched, Reply), Reply>,
    /// The reply to the passive command sent right behind, if one was.
    pub then: Option<Reply>,
    /// Whether that reply came after all of the command's own.
    pub in_order: bool,
}

/// Send `command`, whose data comes over the data connection `data`
/// (opened to the address the session's passive reply named), and read
/// what it brings. `then`, a
/// PASV or EPSV, travels in the same write: its reply arrives with the
/// command's last one, so the next transfer needs no round trip of its own
/// to open its data connection. Only for a server that runs one command at
/// a time ([`sequential`]): one that runs them concurrently may open the
/// new data port while the transfer still needs the old one (libunftp then
/// never finishes the transfer).
///
/// With `beside` (a far server), the data is read from the moment its
/// connection is open, on a thread of its own, beside the replies: a
/// server that waits for the client to close the data connection before
/// its final reply (vsftpd) would otherwise wait for the 150 to cross the
/// link first, one more round trip a transfer. Near, that round trip costs
/// less than the thread: the data is read once the 150 has come.
pub fn receive(
    s: &FtpStream,
    w: Wire<'_>,
    command: &str,
    data: TcpStream,
    then: Option<&str>,
    limit: Limit,
    beside: bool,
) -> Result<Received, FtpError> {
    let control: &TcpStream = &s.get_ref();
    let mut lines = vec![command.to_owned()];
    lines.extend(then.map(str::to_owned));
    send(control, w, &lines)?;
    let mut replies = Replies {
        reader: BufReader::new(control),
        expects_then: then.is_some(),
        then: None,
        in_order: true,
    };
    // However the replies go, the data connection ends with this call,
    // and with it any read of it.
    let _end = EndOnDrop(&data);
    let outcome = if beside {
        read_beside(&mut replies, &data, w, limit)?
    } else {
        read_in_turn(&mut replies, &data, w, limit)?
    };
    if replies.expects_then && replies.then.is_none() {
        replies.then = Some(read_reply(&mut replies.reader)?);
    }
    Ok(Received {
        outcome,
        then: replies.then,
        in_order: replies.in_order,
    })
}

/// The data and the final reply, or the reply that refused the command.
type Outcome = Result<(Fetched, Reply), Reply>;

/// The replies to a transfer command and to the passive command that may
/// travel behind it.
struct Replies<'a> {
    reader: BufReader<&'a TcpStream>,
    expects_then: bool,
    then: Option<Reply>,
    /// Whether the passive reply came after all of the command's own.
    in_order: bool,
}

impl Replies<'_> {
    /// The command's next reply. The passive reply is told apart by its
    /// code: a server that runs commands concurrently may answer it first.
    fn own(&mut self) -> Result<Reply, FtpError> {
        loop {
            let reply = read_reply(&mut self.reader)?;
            if self.expects_then && self.then.is_none() && matches!(reply.0, 227 | 229) {
                self.in_order = false;
                self.then = Some(reply);
            } else {
                return Ok(reply);
            }
        }
    }

    /// After the data: the final reply, unless reading the data failed.
    fn finish(
        &mut self,
        control: &TcpStream,
        sink: Sink,
        received: std::io::Result<()>,
    ) -> Result<Outcome, FtpError> {
        if let Err(e) = received {
            // Too large: the rest is not read; the session is out of step
            // and must not be used again.
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                let _ = control.shutdown(Shutdown::Both);
            }
            return Err(FtpError::ConnectionError(e));
        }
        let done = self.own()?;
        Ok(if matches!(done.0, 226 | 250) {
            Ok((sink.finish(), done))
        } else {
            Err(done)
        })
    }
}

/// The 150, then the data to its end on this thread, then the final reply.
fn read_in_turn(
    replies: &mut Replies<'_>,
    data: &TcpStream,
    w: Wire<'_>,
    limit: Limit,
) -> Result<Outcome, FtpError> {
    let opened = replies.own()?;
    if !matches!(opened.0, 125 | 150) {
        // Refused: no data comes.
        return Ok(Err(opened));
    }
    let mut sink = limit.sink();
    let received = drain(&mut &*data, &mut sink, w);
    // Closed now, not when the watchdog forgets its copy.
    let _ = data.shutdown(Shutdown::Both);
    w.watchdog.release_data();
    let control = *replies.reader.get_ref();
    replies.finish(control, sink, received)
}

/// The data read on a thread of its own from the moment its connection is
/// open, the replies on this one.
fn read_beside(
    replies: &mut Replies<'_>,
    data: &TcpStream,
    w: Wire<'_>,
    limit: Limit,
) -> Result<Outcome, FtpError> {
    std::thread::scope(|scope| {
        let drainer = scope.spawn(move || {
            let mut sink = limit.sink();
            let received = drain(&mut &*data, &mut sink, w);
            // Closed now, not when the watchdog forgets its copy.
            let _ = data.shutdown(Shutdown::Both);
            (sink, received)
        });
        // On any return the data connection is shut down (the caller's
        // EndOnDrop), which ends the drainer's read before the scope
        // waits for it.
        let _end = EndOnDrop(data);
        let opened = replies.own()?;
        if !matches!(opened.0, 125 | 150) {
            // Refused: no data comes.
            return Ok(Err(opened));
        }
        let (sink, received) = drainer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        w.watchdog.release_data();
        let control = *replies.reader.get_ref();
        replies.finish(control, sink, received)
    })
}

/// Whether the server that sent `greeting` is known to run a session's
/// commands strictly one after another, reading the next only once the
/// last one (its transfer included) is done: vsftpd, ProFTPD and
/// Pure-FTPd, by their default greetings. Others may run them
/// concurrently.
pub fn sequential(greeting: &str) -> bool {
    let g = greeting.to_ascii_lowercase();
    ["vsftpd", "proftpd", "pure-ftpd"]
        .iter()
        .any(|name| g.contains(name))
}

/// Connect to a passive data port, with timeouts on every read and write,
/// under the watchdog of the exchange.
pub fn open_data(addr: SocketAddr, w: Wire<'_>) -> Result<TcpStream, FtpError> {
    open_data_watched(addr, w.timeout, w.watchdog)
}

pub fn open_data_watched(
    addr: SocketAddr,
    timeout: Duration,
    watchdog: &Watchdog,
) -> Result<TcpStream, FtpError> {
    let data = TcpStream::connect_timeout(&addr, timeout).map_err(FtpError::ConnectionError)?;
    data.set_read_timeout(Some(timeout))
        .and_then(|()| data.set_write_timeout(Some(timeout)))
        .and_then(|()| data.set_nodelay(true))
        .map_err(FtpError::ConnectionError)?;
    watchdog.data(&data);
    Ok(data)
}

/// Shuts a data connection down when dropped.
struct EndOnDrop<'a>(&'a TcpStream);

impl Drop for EndOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    #[derive(Clone, Copy)]
    enum Step {
        Reply(&'static str),
        /// Write to the data connection and close it.
        Data(&'static [u8]),
    }

    /// [`retr_from`] both ways a transfer is read: in turn (near) and
    /// beside the replies (far). Both must make the same of every script.
    fn retr_both(script: &[Step], then: Option<&str>) -> Vec<(Received, Vec<String>, FtpStream)> {
        [false, true]
            .into_iter()
            .map(|beside| retr_from(script.to_vec(), then, beside))
            .collect()
    }

    /// `RETR 201.cfg` (and `then`) against a server for one exchange that
    /// greets, takes the data connection, reads the commands, then plays
    /// `script` in its order. Returns what `receive` made of it, the lines
    /// the server read, and the control connection.
    fn retr_from(
        script: Vec<Step>,
        then: Option<&str>,
        beside: bool,
    ) -> (Received, Vec<String>, FtpStream) {
        let control = std::net::TcpListener::bind("127.0.0.1:0").expect("control port");
        let data = std::net::TcpListener::bind("127.0.0.1:0").expect("data port");
        let (control_addr, data_addr) = (
            control.local_addr().expect("address"),
            data.local_addr().expect("address"),
        );
        let commands = 1 + usize::from(then.is_some());
        let server = std::thread::spawn(move || {
            let (mut c, _) = control.accept().expect("control connection");
            c.write_all(b"220 ready\r\n").expect("greeting");
            let (mut d, _) = data.accept().expect("data connection");
            let mut reader = BufReader::new(c.try_clone().expect("clone"));
            let lines: Vec<String> = (0..commands)
                .map(|_| {
                    let mut l = String::new();
                    reader.read_line(&mut l).expect("a command");
                    l.trim_end().to_owned()
                })
                .collect();
            for step in script {
                match step {
                    Step::Reply(r) => c.write_all(r.as_bytes()).expect("reply"),
                    Step::Data(b) => {
                        d.write_all(b).expect("data");
                        d.shutdown(Shutdown::Both).expect("close");
                    }
                }
            }
            lines
        });
        let s = FtpStream::connect(control_addr).expect("connect");
        let dog = Watchdog::new();
        let w = Wire {
            access: Access::ReadOnly,
            watchdog: &dog,
            timeout: Duration::from_secs(5),
        };
        let limit = Limit::File {
            keep: 1024,
            max: 4096,
        };
        let data = open_data(data_addr, w).expect("data connection");
        let received = receive(&s, w, "RETR 201.cfg", data, then, limit, beside).expect("received");
        (received, server.join().expect("server"), s)
    }

    const NEXT: &str = "227 Entering Passive Mode (127,0,0,1,164,16).\r\n";

    #[test]
    fn a_download_brings_the_next_passive_reply_with_it() {
        for (r, lines, _) in retr_both(
            &[
                Step::Reply("150 Opening BINARY mode data connection\r\n"),
                Step::Data(b"<phone/>"),
                Step::Reply("226 Transfer complete.\r\n"),
                Step::Reply(NEXT),
            ],
            Some("PASV"),
        ) {
            let (bytes, done) = r.outcome.expect("the file");
            assert_eq!(bytes.bytes.as_deref(), Some(&b"<phone/>"[..]));
            assert_eq!(done.0, 226);
            assert_eq!(r.then.map(|t| t.0), Some(227));
            assert!(r.in_order);
            assert_eq!(lines, ["RETR 201.cfg", "PASV"]);
        }
    }

    #[test]
    fn a_passive_reply_that_overtakes_the_download_is_told_apart() {
        for (r, _, _) in retr_both(
            &[
                Step::Reply("150 Sending\r\n"),
                Step::Reply(NEXT),
                Step::Data(b"<phone/>"),
                Step::Reply("226 Done\r\n"),
            ],
            Some("PASV"),
        ) {
            assert_eq!(
                r.outcome.expect("the file").0.bytes.as_deref(),
                Some(&b"<phone/>"[..])
            );
            assert_eq!(r.then.map(|t| t.0), Some(227));
            assert!(!r.in_order);
        }
    }

    #[test]
    fn a_refused_download_still_reads_the_passive_reply() {
        for (r, _, s) in retr_both(
            &[
                Step::Reply("550 No such file or directory.\r\n"),
                Step::Reply(NEXT),
            ],
            Some("PASV"),
        ) {
            assert_eq!(r.outcome.err().map(|e| e.0), Some(550));
            assert_eq!(r.then.map(|t| t.0), Some(227));
            assert!(r.in_order);
            // Nothing is left unread: the connection is in step for the
            // next command (the server has gone, so the next read ends
            // cleanly).
            let control: &TcpStream = &s.get_ref();
            assert!(read_reply(&mut BufReader::new(control)).is_err());
        }
    }

    #[test]
    fn a_failed_transfer_is_the_final_reply() {
        for (r, lines, _) in retr_both(
            &[
                Step::Reply("150 Sending\r\n"),
                Step::Data(b"<pho"),
                Step::Reply("426 Connection closed; transfer aborted.\r\n"),
            ],
            None,
        ) {
            assert_eq!(r.outcome.err().map(|e| e.0), Some(426));
            assert!(r.then.is_none());
            assert_eq!(lines, ["RETR 201.cfg"]);
        }
    }

    #[test]
    fn only_servers_known_to_run_one_command_at_a_time_are_sequential() {
        assert!(sequential("(vsFTPd 3.0.3)"));
        assert!(sequential("ProFTPD Server (Debian) [127.0.0.1]"));
        assert!(sequential(
            "---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\n220-You are user number 1"
        ));
        assert!(!sequential("Welcome to the libunftp FTP server"));
        assert!(!sequential("FTP server ready"));
    }

    #[test]
    fn passive_replies_name_the_data_address() {
        let peer: SocketAddr = "192.0.2.7:21".parse().expect("an address");
        // Another host in the reply: the port is used, on the server's host.
        let pasv = (
            227,
            "227 Entering Passive Mode (127,0,0,1,164,16).\r\n".to_owned(),
        );
        assert_eq!(
            passive_addr(peer, &pasv).ok(),
            "192.0.2.7:42000".parse().ok()
        );
        let anywhere = (
            227,
            "227 Entering Passive Mode (0,0,0,0,164,17)\r\n".to_owned(),
        );
        assert_eq!(
            passive_addr(peer, &anywhere).ok(),
            "192.0.2.7:42001".parse().ok()
        );
        let epsv = (
            229,
            "229 Entering Extended Passive Mode (|||6446|)\r\n".to_owned(),
        );
        assert_eq!(
            passive_addr(peer, &epsv).ok(),
            "192.0.2.7:6446".parse().ok()
        );
        for bad in [
            (227, "227 Entering Passive Mode (127,0,0,1,164)\r\n"),
            (227, "227 Entering Passive Mode (127,0,0,1,999,1)\r\n"),
            (425, "425 Can't open passive connection\r\n"),
        ] {
            assert!(
                passive_addr(peer, &(bad.0, bad.1.to_owned())).is_err(),
                "{}",
                bad.1
            );
        }
    }
}
