//! The data connection and what may be sent on it.
//!
//! A passive data address is what one session's own PASV/EPSV reply named,
//! and it belongs to that session alone: a [`DataAddress`] is made only
//! from a reply read on a [`Session`]'s control connection, is kept in
//! that session, and is consumed by value by one transfer. It dies with
//! the session (a reconnect makes a new one, a session handed to another
//! target leaves its address behind), with any failed exchange, and with
//! time: after [`FRESH`] without a reply the server may have ended the
//! session and given the port to another one (another site's upload), so
//! the next transfer asks for a port anew, which also proves the session
//! alive.
//!
//! Bytes go out ahead of the server's 150 only on a session that has
//! completed a transfer and has just answered: a session just logged in,
//! or taken from another target, waits for the 150 of that very command.

use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use suppaftp::{FtpError, FtpStream};

use super::conn::Conn;
use super::reply::{read_reply, unexpected, Reply};
use super::wire::{self, check, line, send, Wire};
use crate::remote::{Cause, RemoteError, RemoteName, RemoteResult};

/// How long a data address stays usable after the reply that named it, and
/// how recent a session's last reply must be for bytes to go out before
/// the 150: well below any server's idle timeout, well above the gap
/// between two transfers of one batch.
pub const FRESH: Duration = Duration::from_millis(500);

/// Files up to this size are written to the data connection right after
/// the STOR, before the server's 150 (on a session that may, see
/// [`DataAddress::early`]): they fit in the socket buffers, so a server
/// that refuses the STOR cannot leave the write waiting. Larger files wait
/// for the 150, as RFC 959 has it.
pub const EARLY_DATA_MAX: usize = 64 * 1024;

/// One logged-in control connection and the data address its own last
/// passive command was answered with.
pub struct Session {
    pub conn: Conn,
    pub data: DataSlot,
}

/// The session in `conn`, or the passing error of having none (it was
/// ended, and not yet replaced).
pub fn connected(conn: &mut Option<Session>) -> RemoteResult<&mut Session> {
    conn.as_mut()
        .ok_or_else(|| RemoteError::new(Cause::Transient, "not connected"))
}

impl Session {
    /// A session just logged in or taken from another target: no data
    /// address, and no early bytes until a transfer has completed on it.
    pub fn new(conn: Conn) -> Self {
        Session {
            conn,
            data: DataSlot {
                addr: None,
                proven: false,
            },
        }
    }

    /// Whether the control connection may still be alive: under TLS, not
    /// known without an exchange; on a plain one, open with nothing
    /// unread (see [`quiet`]).
    pub fn quiet(&self) -> bool {
        match &self.conn {
            Conn::Plain(s) => quiet(&s.get_ref()),
            Conn::Tls(_) => true,
        }
    }

    /// See [`Conn::batch`].
    pub fn batch(
        &mut self,
        w: Wire<'_>,
        lines: &[String],
        together: bool,
    ) -> Result<Vec<Reply>, FtpError> {
        self.conn.batch(w, lines, together)
    }
}

/// Where a session keeps its data address.
pub struct DataSlot {
    addr: Option<DataAddress>,
    /// Whether a transfer has completed on this session (its 226 read).
    proven: bool,
}

impl DataSlot {
    /// The data address for the next transfer of the session on `control`:
    /// the one its last passive reply named if that is fresh and the
    /// control connection is still open with nothing unread on it, else a
    /// new one asked for now (one round trip).
    pub fn open(
        &mut self,
        control: &FtpStream,
        w: Wire<'_>,
        peer: SocketAddr,
    ) -> Result<DataAddress, FtpError> {
        let kept = self.addr.take();
        // `get_ref` holds the control connection's lock: let go of it
        // before the exchange below takes it again.
        let usable = |a: &DataAddress| a.named.elapsed() < FRESH && quiet(&control.get_ref());
        if let Some(a) = kept.filter(usable) {
            return Ok(a);
        }
        let replies = wire::pipelined(control, w, &[wire::passive_command(peer).to_owned()])?;
        self.name(peer, &replies[0])
    }

    /// The data address `reply` names: the session's answer to its own
    /// passive command, read just now on its control connection.
    fn name(&self, peer: SocketAddr, reply: &Reply) -> Result<DataAddress, FtpError> {
        Ok(DataAddress {
            addr: wire::passive_addr(peer, reply)?,
            named: Instant::now(),
            early: self.proven,
        })
    }

    /// Keep the address `reply` names for the next transfer (nothing if it
    /// names none).
    pub fn keep(&mut self, peer: SocketAddr, reply: &Reply) {
        self.addr = self.name(peer, reply).ok();
    }

    /// A transfer completed on this session.
    pub fn prove(&mut self) {
        self.proven = true;
    }

    /// Forget the data address: an exchange failed, or a passive command
    /// went out whose reply is not kept.
    pub fn clear(&mut self) {
        self.addr = None;
    }
}

/// A data address one session's passive reply named; consumed by the one
/// transfer that uses it.
pub struct DataAddress {
    addr: SocketAddr,
    named: Instant,
    early: bool,
}

impl DataAddress {
    /// Whether a small upload's bytes may go out before the server's 150:
    /// the session has completed a transfer and has just answered.
    pub fn early(&self) -> bool {
        self.early && self.named.elapsed() < FRESH
    }

    /// Connect to it, under the watchdog of the exchange.
    pub fn connect(self, w: Wire<'_>) -> Result<TcpStream, FtpError> {
        wire::open_data(self.addr, w)
    }
}

/// Whether a control connection is open with nothing waiting to be read:
/// a server that ended the session (a killed process, an idle timeout's
/// 421) has closed it or said so, and its data port may be another's now.
fn quiet(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let peeked = stream.peek(&mut byte);
    let restored = stream.set_nonblocking(false).is_ok();
    restored && matches!(peeked, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// What an upload brought back besides its own replies.
pub struct Stored {
    /// The reply to the passive command that travelled with the STOR.
    pub then: Option<Reply>,
    /// The replies to the commands sent once the server said the whole
    /// file landed.
    pub after: Vec<Reply>,
}

/// `STOR name` with `bytes` over a data connection to `data`. Small files
/// on a session that may ([`DataAddress::early`]) go out right behind the
/// command, so the whole upload waits for one round trip (150 and 226
/// arrive together) instead of two; otherwise nothing is written before
/// the 150 of this very STOR. `then`, a PASV or EPSV for a server that
/// runs commands one at a time ([`wire::sequential`]), travels with the
/// STOR; `after` (a rename into place) goes the moment the 226 arrives,
/// never before it, so nothing acts on a file the server did not take
/// whole.
pub fn store(
    s: &FtpStream,
    w: Wire<'_>,
    name: &RemoteName,
    bytes: &[u8],
    data: DataAddress,
    then: Option<&str>,
    after: &[String],
) -> Result<Stored, FtpError> {
    let command = line(w.access, "STOR", name)?;
    for l in after {
        check(w.access, l)?;
    }
    let early = data.early() && bytes.len() <= EARLY_DATA_MAX;
    let data = data.connect(w)?;
    let control: &TcpStream = &s.get_ref();
    let mut lines = vec![command];
    lines.extend(then.map(str::to_owned));
    send(control, w, &lines)?;
    let mut reader = BufReader::new(control);
    // The reply to `then` comes after the STOR's last: it is read however
    // the upload went, so that no reply is left behind for the next
    // command.
    let then_reply = |reader: &mut BufReader<&TcpStream>| match then {
        Some(_) => read_reply(reader).map(Some),
        None => Ok(None),
    };
    let mut sent = if early {
        write_and_close(&data, bytes)
    } else {
        Ok(())
    };
    let opened = read_reply(&mut reader)?;
    if !matches!(opened.0, 125 | 150) {
        then_reply(&mut reader)?;
        return Err(unexpected(opened.0, &opened.1));
    }
    if !early {
        sent = write_and_close(&data, bytes);
    }
    w.watchdog.release_data();
    // The final reply is read even after a failed write, so that no reply
    // is left behind for the next command.
    let done = read_reply(&mut reader)?;
    if sent.is_ok() && matches!(done.0, 226 | 250) {
        sent = ended_by_server(&data, w.timeout);
    }
    if sent.is_err() || !matches!(done.0, 226 | 250) {
        then_reply(&mut reader)?;
        sent.map_err(FtpError::ConnectionError)?;
        return Err(unexpected(done.0, &done.1));
    }
    send(control, w, after)?;
    let then = then_reply(&mut reader)?;
    let after = after
        .iter()
        .map(|_| read_reply(&mut reader))
        .collect::<Result<_, _>>()?;
    Ok(Stored { then, after })
}

/// Whether the server ended this data connection as the end of a transfer
/// (it closed it: end of stream) rather than resetting it. A STOR's 226
/// says that the transfer on the connection the server took for it is
/// complete, not that it took this one: a connection another session
/// opened to the same passive port first (an address from a session the
/// server ended, its port handed on) is taken instead, and this one, left
/// queued, is reset when the port closes, its bytes gone nowhere. The
/// temporary name then holds the other session's bytes: it must not be
/// renamed into place.
fn ended_by_server(mut data: &TcpStream, timeout: Duration) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind, Read};
    data.set_read_timeout(Some(timeout))?;
    let mut byte = [0u8; 1];
    match data.read(&mut byte)? {
        0 => Ok(()),
        _ => Err(Error::new(
            ErrorKind::InvalidData,
            "the server sent data on an upload's data connection",
        )),
    }
}

fn write_and_close(mut data: &TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    data.write_all(bytes)?;
    data.shutdown(Shutdown::Write)
}
