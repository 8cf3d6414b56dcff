//! The little SIP polyops speaks (docs/phones.md): a NOTIFY with `Event:
//! check-sync` over UDP to one phone's declared address, which a Polycom
//! phone obeys by fetching its files (and rebooting only if they
//! changed). Takes a phone's address and extension from a checked site;
//! hands on what the phone answered. Nothing in a NOTIFY is secret, and a
//! reply is untrusted text: only a well-formed answer to this very
//! request counts, and its reason is made printable.

pub mod request;
pub mod response;
pub mod transaction;

use std::fmt;

/// What became of a NOTIFY.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A final answer (200-699) with its reason phrase, printable.
    Final { code: u16, reason: String },
    /// No final answer within the deadline.
    NoAnswer,
    /// It could not be sent (the address does not resolve, no route).
    Failed(String),
}

impl Answer {
    pub fn is_ok(&self) -> bool {
        matches!(self, Answer::Final { code, .. } if (200..300).contains(code))
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Final { code, reason } if (200..300).contains(code) => {
                write!(f, "ok ({code} {reason})")
            }
            Answer::Final { code, reason } => write!(f, "{code} {reason}"),
            Answer::NoAnswer => f.write_str("no answer"),
            Answer::Failed(why) => write!(f, "not sent: {why}"),
        }
    }
}
