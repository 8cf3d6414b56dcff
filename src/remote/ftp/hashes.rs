//! What the server says of files without sending them: their SHA-256
//! (XSHA256 or HASH) and their size, pipelined.

use super::reply::{self, unexpected};
use super::retry::classify;
use super::wire;
use super::FtpRemote;
use crate::remote::{Cause, RemoteError, RemoteName, RemoteResult};

impl FtpRemote {
    /// Hash `names` on this connection: pipelined on plain connections,
    /// one command at a time under TLS.
    pub(super) fn hash_chunk(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<Option<String>>> {
        let Some(cmd) = self.server.hash else {
            return Err(RemoteError::new(
                Cause::Refused,
                "the server cannot hash files",
            ));
        };
        let access = self.settings.access;
        let lines: Vec<String> = names
            .iter()
            .map(|n| wire::line(access, cmd.verb(), n))
            .collect::<Result<_, _>>()
            .map_err(|e| classify("hashing files", e))?;
        // An XSHA256 reply does not name its file either (see size_chunk).
        let together = self.server.sequential;
        let replies = self.retry("hashing files", |c, w| c.batch(w, &lines, together))?;
        self.stats.hashes += names.len();
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                200..=299 => reply::hex_digest(&text).map(Some).ok_or_else(|| {
                    RemoteError::new(
                        Cause::Refused,
                        format!("hashing {name}: unexpected reply {}", text.trim()),
                    )
                }),
                550 => Ok(None),
                _ => Err(classify(
                    &format!("hashing {name}"),
                    unexpected(code, &text),
                )),
            })
            .collect()
    }

    /// `SIZE` of each name, pipelined: `213 <bytes>`, or 550 for a file
    /// that is absent (RFC 3659).
    pub(super) fn size_chunk(&mut self, names: &[RemoteName]) -> RemoteResult<Vec<Option<u64>>> {
        let access = self.settings.access;
        let lines: Vec<String> = names
            .iter()
            .map(|n| wire::line(access, "SIZE", n))
            .collect::<Result<_, _>>()
            .map_err(|e| classify("reading sizes", e))?;
        // SIZE replies do not name their file: pipelined, they can be
        // matched to their commands only on a server known to answer in
        // order.
        let together = self.server.sequential;
        let replies = self.retry("reading sizes", |c, w| c.batch(w, &lines, together))?;
        names
            .iter()
            .zip(replies)
            .map(|(name, (code, text))| match code {
                213 => text
                    .split_whitespace()
                    .last()
                    .and_then(|n| n.parse::<u64>().ok())
                    .map(Some)
                    .ok_or_else(|| {
                        RemoteError::new(
                            Cause::Refused,
                            format!("size of {name}: unexpected reply {}", text.trim()),
                        )
                    }),
                550 => Ok(None),
                _ => Err(classify(
                    &format!("size of {name}"),
                    unexpected(code, &text),
                )),
            })
            .collect()
    }
}

/// How the server computes a file's SHA-256 for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HashCommand {
    /// `XSHA256 name` → `250 <hex>`.
    Xsha256,
    /// `HASH name` after `OPTS HASH SHA-256` → `213 SHA-256 0-n <hex> name`.
    Hash,
}

impl HashCommand {
    pub(super) fn verb(self) -> &'static str {
        match self {
            HashCommand::Xsha256 => "XSHA256",
            HashCommand::Hash => "HASH",
        }
    }
}
