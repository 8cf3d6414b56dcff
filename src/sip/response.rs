//! A datagram that may be a phone's answer (RFC 3261 §7.2, §20): read
//! defensively, whatever bytes come, and matched to the request by its
//! Via branch, Call-ID and CSeq before it counts.

use super::request::Ids;

/// The longest reason phrase kept.
const MAX_REASON: usize = 100;

/// What a response says that polyops uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    /// Printable (control characters and direction marks dropped) and cut.
    pub reason: String,
    pub call_id: Option<String>,
    pub cseq: Option<String>,
    /// The branch of the topmost Via.
    pub branch: Option<String>,
}

impl Response {
    /// Whether this answers the request with `ids` (`CSeq: 1 NOTIFY`).
    pub fn answers(&self, ids: &Ids) -> bool {
        self.branch.as_deref() == Some(ids.branch.as_str())
            && self.call_id.as_deref() == Some(ids.call_id.as_str())
            && self
                .cseq
                .as_deref()
                .is_some_and(|c| c.split_whitespace().eq(["1", "NOTIFY"]))
    }

    pub fn is_final(&self) -> bool {
        self.code >= 200
    }
}

/// A SIP response, or `None` for anything else (a request, garbage).
pub fn parse(datagram: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(datagram);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status = lines.next()?;
    let rest = status.strip_prefix("SIP/2.0 ")?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = code.parse().ok().filter(|c| (100..700).contains(c))?;
    let mut r = Response {
        code,
        reason: crate::mask::printable(reason)
            .chars()
            .take(MAX_REASON)
            .collect(),
        call_id: None,
        cseq: None,
        branch: None,
    };
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "call-id" | "i" if r.call_id.is_none() => r.call_id = Some(value.to_owned()),
            "cseq" if r.cseq.is_none() => r.cseq = Some(value.to_owned()),
            "via" | "v" if r.branch.is_none() => r.branch = branch(value),
            _ => {}
        }
    }
    Some(r)
}

/// The `branch` parameter of the first Via of a header value.
fn branch(via: &str) -> Option<String> {
    let first = via.split(',').next()?;
    first.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("branch")
            .then(|| v.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Ids {
        Ids {
            branch: "z9hG4bKabc".into(),
            tag: "t".into(),
            call_id: "c1@polyops".into(),
        }
    }

    #[test]
    fn an_answer_to_this_notify_is_told_from_any_other_datagram() {
        let ok =
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5000;branch=z9hG4bKabc;rport=5000\r\n\
                   From: <sip:polyops@127.0.0.1>;tag=t\r\nTo: <sip:201@127.0.0.1>;tag=x\r\n\
                   Call-ID: c1@polyops\r\nCSeq: 1 NOTIFY\r\nContent-Length: 0\r\n\r\n";
        let r = parse(ok).expect("a response");
        assert_eq!((r.code, r.reason.as_str()), (200, "OK"));
        assert!(r.answers(&ids()) && r.is_final());
        // Compact header names, lower case, extra spaces.
        let compact = b"SIP/2.0 489 Bad Event\nv: SIP/2.0/UDP x;BRANCH=z9hG4bKabc\ni: c1@polyops\ncseq:  1   NOTIFY\n\n";
        let r = parse(compact).expect("a response");
        assert_eq!(r.code, 489);
        assert!(r.answers(&ids()));
        let other = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bKother\r\nCall-ID: c1@polyops\r\nCSeq: 1 NOTIFY\r\n\r\n";
        assert!(!parse(other).expect("a response").answers(&ids()));
    }

    #[test]
    fn hostile_datagrams_are_not_answers_and_reasons_are_made_printable() {
        for bad in [
            &b""[..],
            b"NOTIFY sip:x SIP/2.0\r\n\r\n",
            b"SIP/2.0 2000 OK\r\n\r\n",
            b"SIP/2.0 099 Low\r\n\r\n",
            b"SIP/2.0 700 High\r\n\r\n",
            b"\xff\xfe\x00garbage",
            b"SIP/2.0 +20 OK\r\n\r\n",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        let mut long = b"SIP/2.0 486 Busy \x1b[2J\x1b]0;owned\x07".to_vec();
        long.extend(std::iter::repeat_n(b'x', 5000));
        let r = parse(&long).expect("a response");
        assert!(!r.reason.contains('\x1b') && !r.reason.contains('\x07'));
        assert!(r.reason.chars().count() <= MAX_REASON);
        assert!(!r.answers(&ids()), "no Via, Call-ID or CSeq");
    }
}
