//! One NOTIFY transaction over UDP (RFC 3261 §17.1): the request goes
//! again at timer A's times (T1 = 500 ms, doubling) until a final answer
//! comes or [`DEADLINE`] passes. The socket is connected to the phone's
//! address, so it sends nowhere else and hears only that address.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use super::request::{notify, Ids};
use super::response::parse;
use super::Answer;

/// RFC 3261's estimate of a round trip: the first retransmission's wait.
pub const T1: Duration = Duration::from_millis(500);
/// How long a phone has to answer.
pub const DEADLINE: Duration = Duration::from_secs(4);
/// The most NOTIFYs sent at once.
const AT_ONCE: usize = 64;

/// When each copy of the request goes, from the first: 0, T1, 3·T1,
/// 7·T1, … (each wait twice the last) while before `deadline`.
pub fn schedule(deadline: Duration) -> Vec<Duration> {
    let mut at = Duration::ZERO;
    let mut wait = T1;
    let mut times = Vec::new();
    while at < deadline {
        times.push(at);
        at += wait;
        wait *= 2;
    }
    times
}

/// Where to send one NOTIFY.
#[derive(Debug, Clone)]
pub struct Destination {
    /// The phone's address as the site declares it.
    pub host: String,
    pub port: u16,
    /// The extension it registers.
    pub extension: String,
}

/// NOTIFY every destination, [`AT_ONCE`] at a time; answers in order.
pub fn notify_all(destinations: &[Destination], deadline: Duration) -> Vec<Answer> {
    let mut answers = Vec::with_capacity(destinations.len());
    for chunk in destinations.chunks(AT_ONCE) {
        let done: Vec<Answer> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|d| scope.spawn(move || notify_one(d, deadline)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Answer::Failed("the sender failed".to_owned()))
                })
                .collect()
        });
        answers.extend(done);
    }
    answers
}

/// One NOTIFY transaction.
pub fn notify_one(d: &Destination, deadline: Duration) -> Answer {
    let addr = match (d.host.as_str(), d.port).to_socket_addrs() {
        Ok(mut addrs) => match addrs.next() {
            Some(a) => a,
            None => return Answer::Failed(format!("{} has no address", d.host)),
        },
        Err(e) => return Answer::Failed(format!("cannot resolve {}: {e}", d.host)),
    };
    match run(d, addr, deadline) {
        Ok(answer) => answer,
        Err(e) => Answer::Failed(e.to_string()),
    }
}

fn run(d: &Destination, addr: SocketAddr, deadline: Duration) -> std::io::Result<Answer> {
    let any: SocketAddr = if addr.is_ipv6() {
        "[::]:0".parse().expect("an address")
    } else {
        "0.0.0.0:0".parse().expect("an address")
    };
    let socket = UdpSocket::bind(any)?;
    socket.connect(addr)?;
    let local = socket.local_addr()?;
    let ids = Ids::fresh(&format!("{addr}/{}", d.extension));
    let request = notify(&d.extension, &d.host, d.port, local, &ids);
    let started = Instant::now();
    let mut sends = schedule(deadline).into_iter().peekable();
    let mut provisional = false;
    let mut buf = vec![0u8; 65_536];
    loop {
        let elapsed = started.elapsed();
        if elapsed >= deadline {
            return Ok(Answer::NoAnswer);
        }
        // A provisional answer ends retransmission: the phone has it.
        while sends.peek().is_some_and(|at| *at <= elapsed) {
            sends.next();
            if !provisional {
                // A send that fails (an ICMP error from an earlier copy)
                // is one copy lost; the next may go.
                let _ = socket.send(request.as_bytes());
            }
        }
        let until = sends.peek().copied().unwrap_or(deadline).min(deadline);
        let wait = until
            .saturating_sub(started.elapsed())
            .max(Duration::from_millis(1));
        socket.set_read_timeout(Some(wait))?;
        match socket.recv(&mut buf) {
            Ok(n) => {
                let Some(r) = parse(&buf[..n]) else { continue };
                if !r.answers(&ids) {
                    continue;
                }
                if r.is_final() {
                    return Ok(Answer::Final {
                        code: r.code,
                        reason: r.reason,
                    });
                }
                provisional = true;
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                        // Nothing listens yet (ICMP port unreachable):
                        // the phone may still be starting.
                        | std::io::ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions_follow_timer_a_within_the_deadline() {
        let ms = |m| Duration::from_millis(m);
        assert_eq!(schedule(DEADLINE), [ms(0), ms(500), ms(1500), ms(3500)]);
        assert_eq!(schedule(ms(1500)), [ms(0), ms(500)]);
    }

    /// A fake phone on 127.0.0.1 that drops the first `lose` copies and
    /// answers the next with `code`; returns its port and what it heard.
    fn phone(lose: usize, code: u16) -> (u16, std::thread::JoinHandle<Vec<String>>) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("a port");
        let port = socket.local_addr().expect("bound").port();
        let handle = std::thread::spawn(move || {
            let mut heard = Vec::new();
            let mut buf = [0u8; 4096];
            socket
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                heard.push(text.clone());
                if heard.len() > lose {
                    let header = |name: &str| {
                        text.lines()
                            .find(|l| l.starts_with(name))
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let reply = format!(
                        "SIP/2.0 {code} Whatever\r\n{}\r\n{}\r\n{}\r\nContent-Length: 0\r\n\r\n",
                        header("Via:"),
                        header("Call-ID:"),
                        header("CSeq:")
                    );
                    // A stray answer to another request first: ignored.
                    let _ = socket.send_to(b"SIP/2.0 500 Not yours\r\nCall-ID: x\r\n\r\n", from);
                    socket.send_to(reply.as_bytes(), from).expect("reply");
                    break;
                }
            }
            heard
        });
        (port, handle)
    }

    fn to(port: u16) -> Destination {
        Destination {
            host: "127.0.0.1".into(),
            port,
            extension: "201".into(),
        }
    }

    #[test]
    fn a_notify_lost_twice_still_reaches_the_phone() {
        let (port, phone) = phone(2, 200);
        let answer = notify_one(&to(port), DEADLINE);
        assert!(answer.is_ok(), "{answer:?}");
        let heard = phone.join().expect("the phone");
        assert_eq!(heard.len(), 3);
        assert!(
            heard.iter().all(|h| h == &heard[0]),
            "the same request each time"
        );
        assert!(heard[0].contains("\r\nEvent: check-sync\r\n"));
    }

    #[test]
    fn a_refusal_is_its_code_and_reason() {
        let (port, phone) = phone(0, 489);
        let answer = notify_one(&to(port), DEADLINE);
        assert_eq!(
            answer,
            Answer::Final {
                code: 489,
                reason: "Whatever".into()
            }
        );
        assert_eq!(answer.to_string(), "489 Whatever");
        phone.join().expect("the phone");
    }

    #[test]
    fn silence_is_no_answer() {
        let quiet = UdpSocket::bind("127.0.0.1:0").expect("a port");
        let port = quiet.local_addr().expect("bound").port();
        let answer = notify_one(&to(port), Duration::from_millis(600));
        assert_eq!(answer, Answer::NoAnswer);
    }
}
