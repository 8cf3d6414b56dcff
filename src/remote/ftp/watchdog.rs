//! Deadlines for everything a server could drag out: a port that accepts
//! but never greets, a reply sent a byte every few seconds, a reply or a
//! transfer without end. A socket's read timeout only bounds the wait for
//! the next byte; the watchdog bounds the whole exchange by shutting the
//! connection's sockets down when its deadline passes, which ends any read
//! or write blocked on them, in polyops's code or in suppaftp's.

use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::locks::{lock, wait, wait_timeout};

/// The slowest transfer polyops waits for, once the first `timeout` has
/// passed: a firmware image of 8 MiB may take `timeout` + 128 s.
pub const MIN_BYTES_PER_SECOND: u64 = 64 * 1024;

#[derive(Default)]
struct State {
    deadline: Option<Instant>,
    /// The control connection first, then the data connections of the
    /// exchange under way.
    sockets: Vec<TcpStream>,
    fired: bool,
    closed: bool,
    /// When the keeper wakes up next by itself (`None`: only when woken).
    wakes_at: Option<Instant>,
    /// When the last exchange began or ended.
    touched: Option<Instant>,
}

/// What a connection's watchdog handles share with its keeper thread: the
/// state under watch, and the keeper's wake-up.
struct Watch {
    state: Mutex<State>,
    wake: Condvar,
}

/// One connection's deadline keeper (a thread that sleeps until the
/// deadline or until it is moved).
#[derive(Clone)]
pub struct Watchdog {
    watch: Arc<Watch>,
}

impl Watchdog {
    pub fn new() -> Self {
        let watch = Arc::new(Watch {
            state: Mutex::new(State {
                touched: Some(Instant::now()),
                ..State::default()
            }),
            wake: Condvar::new(),
        });
        let keeper = Arc::clone(&watch);
        std::thread::spawn(move || keep(&keeper));
        Self { watch }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.watch.state)
    }

    /// A new control connection: forget the old sockets, watch this one.
    pub fn control(&self, socket: &TcpStream) {
        let mut st = self.state();
        st.sockets.clear();
        if let Ok(s) = socket.try_clone() {
            st.sockets.push(s);
        }
    }

    /// A data connection of the exchange under way.
    pub fn data(&self, socket: &TcpStream) {
        if let Ok(s) = socket.try_clone() {
            self.state().sockets.push(s);
        }
    }

    /// The exchange that starts now must end within `budget`. The keeper
    /// is woken only when it would otherwise wake too late: a connection
    /// that arms for every file would wake it for every file.
    pub fn arm(&self, budget: Duration) {
        let mut st = self.state();
        let now = Instant::now();
        let deadline = now + budget;
        st.deadline = Some(deadline);
        st.touched = Some(now);
        st.fired = false;
        let late = st.wakes_at.is_none_or(|t| t > deadline);
        drop(st);
        if late {
            self.watch.wake.notify_all();
        }
    }

    /// A transfer that makes progress may take longer: its deadline moves
    /// to `started + budget + bytes / MIN_BYTES_PER_SECOND`, never back.
    pub fn progress(&self, started: Instant, budget: Duration, bytes: u64) {
        let later = started + budget + Duration::from_secs(bytes / MIN_BYTES_PER_SECOND);
        let mut st = self.state();
        if st.deadline.is_some_and(|d| d < later) && !st.fired {
            st.deadline = Some(later);
        }
    }

    /// The data of the exchange is through: forget its data connections
    /// now. The copies kept here would otherwise hold them open, and a
    /// server that waits for the client to close one before its final
    /// reply (vsftpd) would wait.
    pub fn release_data(&self) {
        self.state().sockets.truncate(1);
    }

    /// The exchange is over: no deadline, its data connections forgotten.
    pub fn disarm(&self) {
        let mut st = self.state();
        st.deadline = None;
        st.touched = Some(Instant::now());
        st.sockets.truncate(1);
    }

    /// How long the connection has been idle: since its last exchange
    /// began or ended.
    pub fn idle(&self) -> Duration {
        self.state().touched.map_or(Duration::ZERO, |t| t.elapsed())
    }

    /// Whether the last deadline passed (and the sockets were shut down).
    pub fn fired(&self) -> bool {
        self.state().fired
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // The keeper holds one reference; the last handle ends it.
        if Arc::strong_count(&self.watch) == 2 {
            self.state().closed = true;
            self.watch.wake.notify_all();
        }
    }
}

fn keep(watch: &Watch) {
    let mut st = lock(&watch.state);
    loop {
        if st.closed {
            return;
        }
        st = match st.deadline {
            None => {
                st.wakes_at = None;
                wait(&watch.wake, st)
            }
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    for s in &st.sockets {
                        let _ = s.shutdown(Shutdown::Both);
                    }
                    st.fired = true;
                    st.deadline = None;
                    st
                } else {
                    // A deadline moved later meanwhile is found when this
                    // wait ends, and waited for then.
                    st.wakes_at = Some(d);
                    wait_timeout(&watch.wake, st, d - now)
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A client connection to a server that holds it open for 5 s and
    /// sends nothing, with a read timeout (10 s) longer than any deadline
    /// below: only the watchdog ends a read on it sooner.
    fn silent_connection() -> TcpStream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let (s, _) = listener.accept().expect("accept");
            std::thread::sleep(Duration::from_secs(5));
            drop(s);
        });
        let client = TcpStream::connect(addr).expect("connect");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        client
    }

    /// Read one byte: 0 when the connection was cut.
    fn read_one(client: &mut TcpStream) -> usize {
        let mut buf = [0u8; 1];
        client.read(&mut buf).unwrap_or(0)
    }

    #[test]
    fn a_read_that_outlives_its_deadline_is_cut() {
        let mut client = silent_connection();
        let w = Watchdog::new();
        w.control(&client);
        w.arm(Duration::from_millis(200));
        assert_eq!(read_one(&mut client), 0);
        // The server holds the connection open for 5 s: a read that ended
        // before then, with the deadline fired, was cut by the watchdog.
        assert!(w.fired());
    }

    #[test]
    fn a_short_deadline_after_a_long_one_is_kept() {
        let mut client = silent_connection();
        let w = Watchdog::new();
        w.control(&client);
        // The keeper goes to sleep until an hour from now; the next
        // exchange's deadline is much sooner and must wake it.
        w.arm(Duration::from_secs(3600));
        std::thread::sleep(Duration::from_millis(50));
        w.disarm();
        w.arm(Duration::from_millis(200));
        assert_eq!(read_one(&mut client), 0);
        assert!(w.fired(), "the read ended other than by the deadline");
    }
}
