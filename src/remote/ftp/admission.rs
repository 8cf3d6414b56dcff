//! How many sessions of one server this process holds at a time: a
//! server caps them (vsftpd's `max_per_ip`, `max_clients`; a hosted
//! server's per-user limit) and answers a login past its cap with 421.
//! Every session of every site (sites run side by side, each with a
//! pool of sessions) takes a [`Seat`] of its server's [`Gate`] before it
//! logs in and gives it back when it ends; a session parked for another
//! target keeps its seat (it is still logged in).
//!
//! No cap is known at first. When the server refuses a login while k of
//! this process's sessions are logged in, or a session fails for a
//! passing cause while k are, the run takes at most k (at least one)
//! from then on: the gate never grows again in this process. A target's
//! extra sessions are only opened while there is room; a site's first
//! session, or one opened again after a failure past the cap, waits for
//! room, at most until its deadline, and then tries anyway. Parked
//! sessions make room: one of another account is closed for a session
//! that needs a seat, and all are closed when the server refuses a
//! login. (docs/targets.md, "Sessions a server allows".)

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use super::locks::{lock, wait_timeout};

/// What a gate keeps parked: something logged in that one key may use.
pub trait Parked {
    type Key: PartialEq;
    fn key(&self) -> &Self::Key;
}

/// The most sessions a gate keeps parked.
const MAX_PARKED: usize = 64;

struct State<T> {
    /// At most this many seats; `None`: no cap learnt yet.
    limit: Option<usize>,
    /// Seats taken: sessions logging in, logged in, parked.
    seats: usize,
    /// Of those, the sessions logged in (working or parked).
    logged_in: usize,
    /// Parked sessions, the most recent last; each holds a seat, logged in.
    parked: Vec<T>,
    /// Sessions waiting for a seat, by ticket, the first come first: a
    /// session that does not wait gets one only when none does.
    queue: VecDeque<u64>,
    /// The next ticket.
    tickets: u64,
}

impl<T> State<T> {
    fn room(&self) -> bool {
        self.limit.is_none_or(|l| self.seats < l)
    }
}

/// The sessions of one server this process holds.
pub struct Gate<T> {
    state: Mutex<State<T>>,
    /// Notified whenever a seat is given back or the cap changes.
    freed: Condvar,
}

impl<T: Parked> Gate<T> {
    pub fn new() -> Arc<Self> {
        Arc::new(Gate {
            state: Mutex::new(State {
                limit: None,
                seats: 0,
                logged_in: 0,
                parked: Vec::new(),
                queue: VecDeque::new(),
                tickets: 0,
            }),
            freed: Condvar::new(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// A seat for a session of `key`: with a parked session of that key
    /// (logged in already) where there is one; else a seat of its own,
    /// made by closing a parked session of another key (handed back to
    /// be ended) where the gate is full. Where it is full and nothing is
    /// parked, or others wait: `None` without `wait`; with it, wait in
    /// turn for room until then, and take a seat anyway at that moment
    /// (a refusal then says more than waiting longer would).
    pub fn enter(self: &Arc<Self>, key: &T::Key, wait: Option<Instant>) -> Option<Entered<T>> {
        let mut state = self.state();
        let ticket = wait.map(|_| {
            state.tickets += 1;
            let ticket = state.tickets;
            state.queue.push_back(ticket);
            ticket
        });
        loop {
            let turn = match ticket {
                Some(t) => state.queue.front() == Some(&t),
                None => state.queue.is_empty(),
            };
            let entered = if turn {
                self.take(&mut state, key)
            } else {
                None
            };
            let until = match (entered, wait) {
                (Some(entered), _) => {
                    state.queue.retain(|t| Some(*t) != ticket);
                    drop(state);
                    self.freed.notify_all();
                    return Some(entered);
                }
                (None, None) => return None,
                (None, Some(until)) => until,
            };
            let now = Instant::now();
            if now >= until {
                state.queue.retain(|t| Some(*t) != ticket);
                state.seats += 1;
                drop(state);
                self.freed.notify_all();
                return Some(self.entered(None));
            }
            state = wait_timeout(&self.freed, state, until - now);
        }
    }

    /// A seat for `key` now, if there is one (see `enter`).
    fn take(self: &Arc<Self>, state: &mut State<T>, key: &T::Key) -> Option<Entered<T>> {
        if let Some(i) = state.parked.iter().rposition(|p| p.key() == key) {
            let session = state.parked.remove(i);
            return Some(Entered {
                seat: self.seat(true),
                parked: Some(session),
                close: None,
            });
        }
        if state.room() {
            state.seats += 1;
            return Some(self.entered(None));
        }
        if state.parked.is_empty() {
            return None;
        }
        // Its seat goes to the newcomer: the count stays.
        let oldest = state.parked.remove(0);
        state.logged_in -= 1;
        Some(self.entered(Some(oldest)))
    }

    /// A seat counted already, logging in or (`logged_in`) logged in.
    fn seat(self: &Arc<Self>, logged_in: bool) -> Seat<T> {
        Seat {
            gate: Arc::clone(self),
            logged_in,
        }
    }

    fn entered(self: &Arc<Self>, close: Option<T>) -> Entered<T> {
        Entered {
            seat: self.seat(false),
            parked: None,
            close,
        }
    }

    /// Whether more seats are taken than the cap allows (after the cap
    /// shrank): a session that can end should.
    pub fn crowded(&self) -> bool {
        let state = self.state();
        state.limit.is_some_and(|l| state.seats > l)
    }

    /// How many sessions wait for a seat.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.state().queue.len()
    }

    /// The cap learnt so far, if any.
    #[cfg(test)]
    pub fn limit(&self) -> Option<usize> {
        self.state().limit
    }

    /// Keep `session` (logged in, on `seat`) for a later session of its
    /// key; given back (to be ended) where the gate is crowded or holds
    /// enough parked sessions.
    pub fn park(&self, seat: Seat<T>, session: T) -> Result<(), (Seat<T>, T)> {
        let mut state = self.state();
        let crowded = state.limit.is_some_and(|l| state.seats > l);
        if crowded || !seat.logged_in || state.parked.len() >= MAX_PARKED {
            drop(state);
            return Err((seat, session));
        }
        state.parked.push(session);
        drop(state);
        // The seat stays taken, by the parked session.
        std::mem::forget(seat);
        self.freed.notify_all();
        Ok(())
    }

    /// Every parked session, to be ended: nobody will use them.
    pub fn close_parked(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        let mut state = self.state();
        let (kept, closed): (Vec<T>, Vec<T>) = state.parked.drain(..).partition(|p| keep(p));
        state.parked = kept;
        state.seats -= closed.len();
        state.logged_in -= closed.len();
        drop(state);
        self.freed.notify_all();
        closed
    }

    /// Take at most `n` seats from now on (at least one).
    fn shrink(&self, state: &mut State<T>, n: usize) {
        let n = n.max(1);
        state.limit = Some(state.limit.map_or(n, |l| l.min(n)));
    }
}

/// What [`Gate::enter`] gives: a seat, and with it a parked session of
/// the key, or a parked session of another key to end.
pub struct Entered<T: Parked> {
    pub seat: Seat<T>,
    pub parked: Option<T>,
    pub close: Option<T>,
}

/// One session's place in its server's [`Gate`], given back when dropped.
pub struct Seat<T: Parked> {
    gate: Arc<Gate<T>>,
    logged_in: bool,
}

impl<T: Parked> Seat<T> {
    /// The session logged in.
    pub fn logged_in(&mut self) {
        if !self.logged_in {
            self.logged_in = true;
            self.gate.state().logged_in += 1;
        }
    }

    /// The session ended (to log in again on this seat).
    pub fn logged_out(&mut self) {
        if self.logged_in {
            self.logged_in = false;
            self.gate.state().logged_in -= 1;
        }
        self.gate.freed.notify_all();
    }

    /// A parked session of `key`, logged in already, for this seat
    /// (whose own session ended): the two seats become one.
    pub fn take_parked(&mut self, key: &T::Key) -> Option<T> {
        let mut state = self.gate.state();
        let i = state.parked.iter().rposition(|p| p.key() == key)?;
        let session = state.parked.remove(i);
        state.seats -= 1;
        if self.logged_in {
            state.logged_in -= 1;
        }
        self.logged_in = true;
        Some(session)
    }

    /// The server refused this session (`refused`: a login, with 421 or a
    /// refused connect) or ended it for a passing cause: from now on the
    /// gate holds no more sessions than the others logged in now, if any
    /// are. After a refusal the parked sessions of other keys are handed
    /// back to be ended, to make room.
    pub fn failed(&self, key: &T::Key, refused: bool) -> Vec<T> {
        {
            let mut state = self.gate.state();
            let others = state.logged_in - usize::from(self.logged_in);
            if others > 0 {
                self.gate.shrink(&mut state, others);
            }
        }
        if refused {
            self.gate.close_parked(|p| p.key() == key)
        } else {
            Vec::new()
        }
    }

    /// The gate of this seat.
    pub fn gate(&self) -> &Arc<Gate<T>> {
        &self.gate
    }
}

impl<T: Parked> Drop for Seat<T> {
    fn drop(&mut self) {
        {
            let mut state = self.gate.state();
            state.seats -= 1;
            if self.logged_in {
                state.logged_in -= 1;
            }
        }
        self.gate.freed.notify_all();
    }
}

/// The gates of the servers this process talks to, by address.
pub struct Gates<T> {
    gates: Mutex<Vec<(SocketAddr, Arc<Gate<T>>)>>,
}

impl<T: Parked> Gates<T> {
    pub const fn new() -> Self {
        Gates {
            gates: Mutex::new(Vec::new()),
        }
    }

    /// The gate of the server at `addr`.
    pub fn of(&self, addr: SocketAddr) -> Arc<Gate<T>> {
        let mut gates = lock(&self.gates);
        if let Some((_, g)) = gates.iter().find(|(a, _)| *a == addr) {
            return Arc::clone(g);
        }
        let gate = Gate::new();
        gates.push((addr, Arc::clone(&gate)));
        gate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[derive(Debug, PartialEq)]
    struct Session(&'static str);

    impl Parked for Session {
        type Key = &'static str;
        fn key(&self) -> &&'static str {
            &self.0
        }
    }

    fn seat(gate: &Arc<Gate<Session>>, key: &'static str) -> Seat<Session> {
        let mut e = gate.enter(&key, None).expect("room");
        e.seat.logged_in();
        e.seat
    }

    #[test]
    fn a_refusal_caps_the_gate_at_the_sessions_logged_in() {
        let gate = Gate::new();
        let (_a, _b) = (seat(&gate, "a"), seat(&gate, "a"));
        let third = gate.enter(&"a", None).expect("no cap known yet");
        assert!(third.seat.failed(&"a", true).is_empty());
        assert_eq!(gate.limit(), Some(2));
        assert!(gate.crowded(), "three seats for two");
        drop(third);
        assert!(!gate.crowded());
        assert!(gate.enter(&"a", None).is_none(), "full");
        // Waiting past the deadline takes a seat anyway.
        let late = gate.enter(&"a", Some(Instant::now() + Duration::from_millis(20)));
        assert!(late.is_some());
    }

    #[test]
    fn a_refusal_with_nobody_logged_in_learns_no_cap() {
        let gate: Arc<Gate<Session>> = Gate::new();
        let first = gate.enter(&"a", None).expect("room");
        first.seat.failed(&"a", true);
        assert_eq!(gate.limit(), None);
    }

    #[test]
    fn a_failure_at_work_leaves_one_fewer_than_were_logged_in() {
        let gate = Gate::new();
        let seats: Vec<_> = (0..4).map(|_| seat(&gate, "a")).collect();
        seats[0].failed(&"a", false);
        assert_eq!(gate.limit(), Some(3));
        let alone = Gate::new();
        let one = seat(&alone, "a");
        one.failed(&"a", false);
        assert_eq!(alone.limit(), None, "never below one");
    }

    #[test]
    fn parked_sessions_keep_their_seat_and_make_room_for_others() {
        let gate = Gate::new();
        gate.park(seat(&gate, "a"), Session("a"))
            .map_err(|_| ())
            .expect("parked");
        let refused = gate.enter(&"b", None).expect("no cap known yet");
        // The server refused b: a's parked session is closed for it.
        assert_eq!(refused.seat.failed(&"b", true), [Session("a")]);
        assert_eq!(gate.limit(), Some(1));
        drop(refused);
        gate.park(seat(&gate, "a"), Session("a"))
            .map_err(|_| ())
            .expect("parked");
        // Full, with a's session parked: a takes it, b closes it.
        let again = gate.enter(&"a", None).expect("a parked session");
        assert_eq!(again.parked, Some(Session("a")));
        gate.park(again.seat, Session("a"))
            .map_err(|_| ())
            .expect("parked");
        let other = gate.enter(&"b", None).expect("room made");
        assert_eq!((other.parked, other.close), (None, Some(Session("a"))));
        assert!(gate.enter(&"a", None).is_none(), "full");
    }

    #[test]
    fn sessions_that_wait_come_first_in_their_order() {
        let gate = Gate::new();
        let held = seat(&gate, "a");
        let refused = gate.enter(&"a", None).expect("no cap known yet");
        refused.seat.failed(&"a", true);
        drop(refused);
        std::thread::scope(|scope| {
            let waiting = scope.spawn(|| {
                let until = Instant::now() + Duration::from_secs(60);
                // Its seat is kept until it is joined.
                gate.enter(&"a", Some(until))
            });
            while gate.waiting() == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            gate.park(held, Session("a"))
                .map_err(|_| ())
                .expect("parked");
            // The session parked goes to the one that waited, not to one
            // that came after it.
            assert!(gate.enter(&"a", None).is_none());
            let entered = waiting.join().expect("joined");
            assert_eq!(entered.and_then(|e| e.parked), Some(Session("a")));
        });
    }
}
