//! GitLab's side of the docs' merge-request job: the notes API, as far as
//! the job's `curl` uses it (one POST, answered 201), on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// One request the API received.
pub struct Request {
    /// `POST /api/v4/…`
    pub line: String,
    /// Header lines, as sent.
    pub headers: Vec<String>,
    pub body: Vec<u8>,
}

pub struct NotesApi {
    /// What a job sees as `CI_API_V4_URL`.
    pub url: String,
    received: Receiver<Request>,
}

impl NotesApi {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let url = format!(
            "http://127.0.0.1:{}/api/v4",
            listener.local_addr().expect("address").port()
        );
        let (tx, received) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
                let mut stream = stream;
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                        break;
                    }
                    headers.push(h.trim_end().to_owned());
                }
                let header = |name: &str| {
                    headers.iter().find_map(|h: &String| {
                        let (k, v) = h.split_once(':')?;
                        k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                    })
                };
                if header("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
                    let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                let length: usize = header("Content-Length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let _ = stream.write_all(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
                let _ = tx.send(Request {
                    line: line.trim_end().to_owned(),
                    headers,
                    body,
                });
            }
        });
        NotesApi { url, received }
    }

    /// The request the job made.
    pub fn request(&self) -> Request {
        self.received
            .recv_timeout(Duration::from_secs(10))
            .expect("the job posted nothing to the notes API")
    }
}

/// A form value as `curl --data-urlencode` sends it.
pub fn form_value(body: &[u8], name: &str) -> Option<Vec<u8>> {
    let body = std::str::from_utf8(body).ok()?;
    let encoded = body
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?;
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}
