//! A control-connection proxy that puts a server at the end of a slow
//! link: every byte the server sends reaches the client `delay` late,
//! while the client's commands go through at once. The delay is a
//! latency, not a rate: what the server sends is stamped as it arrives
//! and released in order when its time comes, so commands a client
//! pipelines still overlap.
//!
//! Only the control connection goes through it. A client opens its data
//! connections to the server's passive ports directly: a vsftpd whose
//! `pasv_address` is 127.0.0.1 names that address in its 227, and an
//! EPSV reply names only a port, which the client pairs with the proxy's
//! address, 127.0.0.1 too. (bench/ftp_proxy.py is the same design for
//! the benchmarks.)
//!
//! When the server ends a session (a killed session process), the client
//! hears of it `delay` late too: the proxy closes its side once all the
//! server sent before has been delivered. Dropping the proxy closes every
//! connection it relays.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running proxy on 127.0.0.1.
pub struct DelayingProxy {
    /// The port clients connect to.
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Both ends of every connection it relays.
    open: Arc<Mutex<Vec<Weak<TcpStream>>>>,
    accepting: Option<JoinHandle<()>>,
}

impl DelayingProxy {
    /// Relay each connection to 127.0.0.1:`upstream`, the server's side
    /// held back `delay`.
    pub fn start(upstream: u16, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the proxy's port");
        let port = listener.local_addr().expect("the proxy's address").port();
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let accepting = {
            let (stop, open) = (Arc::clone(&stop), Arc::clone(&open));
            std::thread::Builder::new()
                .name(format!("proxy {port} -> {upstream}"))
                .spawn(move || accept(&listener, upstream, delay, &stop, &open))
                .expect("the proxy's thread")
        };
        DelayingProxy {
            port,
            stop,
            open,
            accepting: Some(accepting),
        }
    }
}

impl Drop for DelayingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accepting thread, which then sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.accepting.take() {
            let _ = thread.join();
        }
        let open = std::mem::take(&mut *self.open.lock().expect("the proxy's connections"));
        for stream in open.iter().filter_map(Weak::upgrade) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept(
    listener: &TcpListener,
    upstream: u16,
    delay: Duration,
    stop: &AtomicBool,
    open: &Mutex<Vec<Weak<TcpStream>>>,
) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
            // Refused upstream: refused here too.
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let (client, server) = (Arc::new(client), Arc::new(server));
        let mut relayed = open.lock().expect("the proxy's connections");
        relayed.retain(|s| s.strong_count() > 0);
        relayed.extend([Arc::downgrade(&client), Arc::downgrade(&server)]);
        drop(relayed);
        relay(client, server, delay);
    }
}

/// Client to server at once; server to client `delay` late, in order.
/// Each socket is closed when the last of its two threads ends.
fn relay(client: Arc<TcpStream>, server: Arc<TcpStream>, delay: Duration) {
    let (to_server, from_client) = (Arc::clone(&server), Arc::clone(&client));
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut &*from_client, &mut &*to_server);
        let _ = to_server.shutdown(Shutdown::Write);
    });
    // What the server sent, stamped with when it may go on; an empty
    // chunk: the server ended the session.
    let (stamped, due) = mpsc::channel::<(Instant, Vec<u8>)>();
    let from_server = server;
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = (&*from_server).read(&mut buf).unwrap_or(0);
            if stamped
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
                || n == 0
            {
                return;
            }
        }
    });
    std::thread::spawn(move || {
        let to_client = client;
        for (at, bytes) in due {
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            if bytes.is_empty() || (&*to_client).write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to_client.shutdown(Shutdown::Both);
    });
}

#[test]
fn the_proxy_holds_back_what_the_server_says_and_passes_commands_at_once() {
    let server = TcpListener::bind("127.0.0.1:0").expect("a port");
    let upstream = server.local_addr().expect("its address").port();
    let proxy = DelayingProxy::start(upstream, Duration::from_millis(200));
    let mut client = TcpStream::connect(("127.0.0.1", proxy.port)).expect("the proxy");
    let (mut far, _) = server.accept().expect("the proxy connects");
    client.write_all(b"NOOP\r\n").expect("a command");
    let mut command = [0u8; 6];
    far.read_exact(&mut command).expect("the command, relayed");
    assert_eq!(&command, b"NOOP\r\n");
    let sent = Instant::now();
    far.write_all(b"200 a\r\n").expect("a reply");
    std::thread::sleep(Duration::from_millis(50));
    far.write_all(b"200 b\r\n").expect("a second reply");
    drop(far);
    let mut heard = Vec::new();
    client
        .read_to_end(&mut heard)
        .expect("the replies, then the end");
    assert_eq!(heard, b"200 a\r\n200 b\r\n");
    assert!(
        sent.elapsed() >= Duration::from_millis(250),
        "the replies were not held back"
    );
}
