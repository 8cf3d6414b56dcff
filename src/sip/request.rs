//! The NOTIFY polyops sends (RFC 3261 §8.1.1, RFC 6665): the headers a
//! Polycom phone needs to take `Event: check-sync` from a stranger, the
//! same the PBXs that send it use, and nothing more.

use std::net::{IpAddr, SocketAddr};

use sha2::{Digest, Sha256};

/// The values that tie a response to its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// The Via branch, with RFC 3261's magic cookie.
    pub branch: String,
    pub tag: String,
    pub call_id: String,
}

impl Ids {
    /// Fresh values, unguessable enough that a stray datagram cannot
    /// pass for the phone's answer.
    pub fn fresh(salt: &str) -> Self {
        let t = token(salt);
        Ids {
            branch: format!("z9hG4bK{}", &t[..24]),
            tag: t[24..40].to_owned(),
            call_id: format!("{}@polyops", &t[40..64]),
        }
    }
}

/// 64 hex digits from the clock, the process, a counter and `salt`.
fn token(salt: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    h.update(salt.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A host as it goes in a SIP URI: an IPv6 address in brackets.
pub fn uri_host(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
        _ => host.to_owned(),
    }
}

/// The NOTIFY to extension `extension` on the phone at `host` (as the
/// site declares it) and `port`, from `local` (the address the socket
/// sends from). `extension` is digits and `host` a checked host name or
/// address (the site's rules): nothing here can break a header line.
pub fn notify(extension: &str, host: &str, port: u16, local: SocketAddr, ids: &Ids) -> String {
    let phone = uri_host(host);
    let me = uri_host(&local.ip().to_string());
    format!(
        "NOTIFY sip:{extension}@{phone}:{port} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me}:{local_port};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:polyops@{me}>;tag={tag}\r\n\
         To: <sip:{extension}@{phone}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 NOTIFY\r\n\
         Contact: <sip:polyops@{me}:{local_port}>\r\n\
         Event: check-sync\r\n\
         User-Agent: polyops/{version}\r\n\
         Content-Length: 0\r\n\
         \r\n",
        local_port = local.port(),
        branch = ids.branch,
        tag = ids.tag,
        call_id = ids.call_id,
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_carries_check_sync_and_the_ids_of_its_transaction() {
        let ids = Ids::fresh("x");
        let local: SocketAddr = "192.0.2.1:40000".parse().expect("an address");
        let n = notify("201", "192.0.2.50", 10060, local, &ids);
        assert!(
            n.starts_with("NOTIFY sip:201@192.0.2.50:10060 SIP/2.0\r\n"),
            "{n}"
        );
        assert!(n.contains("\r\nEvent: check-sync\r\n"));
        assert!(n.contains(&format!(
            "Via: SIP/2.0/UDP 192.0.2.1:40000;branch={};rport\r\n",
            ids.branch
        )));
        assert!(ids.branch.starts_with("z9hG4bK"));
        assert!(n.contains(&format!("Call-ID: {}\r\n", ids.call_id)));
        assert!(n.ends_with("Content-Length: 0\r\n\r\n"));
        let v6 = notify(
            "201",
            "2001:db8::5",
            10060,
            "[::1]:4000".parse().expect("v6"),
            &ids,
        );
        assert!(
            v6.starts_with("NOTIFY sip:201@[2001:db8::5]:10060 SIP/2.0\r\n"),
            "{v6}"
        );
        assert!(v6.contains("Via: SIP/2.0/UDP [::1]:4000;"), "{v6}");
    }

    #[test]
    fn each_transaction_has_ids_of_its_own() {
        let (a, b) = (Ids::fresh("p"), Ids::fresh("p"));
        assert_ne!(a, b);
        assert_eq!(a.branch.len(), 7 + 24);
    }
}
