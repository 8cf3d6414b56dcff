//! The one thing doctor asks of the FTP engine beyond what apply uses: a
//! session that also answers the questions only a check asks (its
//! greeting, the PASV reply, a rename without apply's fallback, MDTM).
//! The checks see only this trait; the FTP session behind it is opened
//! here.

use std::time::SystemTime;

use crate::remote::ftp::probe::{Passive, Rename};
use crate::remote::ftp::FtpRemote;
use crate::remote::{Access, RemoteName, RemoteResult, Writer};
use crate::site::model::Target;
use crate::site::secret::Secret;

/// A logged-in session doctor checks a target through.
pub trait Session: Writer {
    /// The server's greeting (outside text: clean it before printing).
    fn greeting(&self) -> Option<String>;
    /// The command the server hashes files with (`XSHA256`, `HASH`), if any.
    fn hash_command(&self) -> Option<&'static str>;
    /// The command that lists the root: `MLSD`, or `LIST -a`.
    fn listing_command(&self) -> &'static str;
    /// Ask for a passive data port, and what the reply said.
    fn passive_reply(&mut self) -> RemoteResult<Passive>;
    /// Rename `from` onto the existing `to` with RNFR and RNTO alone.
    fn rename_without_fallback(
        &mut self,
        from: &RemoteName,
        to: &RemoteName,
    ) -> RemoteResult<Rename>;
    /// When the server says `name` was last changed; `None`: no MDTM.
    fn modified(&mut self, name: &RemoteName) -> RemoteResult<Option<SystemTime>>;
}

/// Log in to `target` with one connection that may write.
pub fn connect(target: &Target, password: &Secret) -> RemoteResult<Box<dyn Session>> {
    let session = FtpRemote::connect(target, password, Some(1), Access::ReadWrite)?;
    Ok(Box::new(session))
}

impl Session for FtpRemote {
    fn greeting(&self) -> Option<String> {
        FtpRemote::greeting(self)
    }
    fn hash_command(&self) -> Option<&'static str> {
        FtpRemote::hash_command(self)
    }
    fn listing_command(&self) -> &'static str {
        FtpRemote::listing_command(self)
    }
    fn passive_reply(&mut self) -> RemoteResult<Passive> {
        FtpRemote::passive_reply(self)
    }
    fn rename_without_fallback(
        &mut self,
        from: &RemoteName,
        to: &RemoteName,
    ) -> RemoteResult<Rename> {
        FtpRemote::rename_without_fallback(self, from, to)
    }
    fn modified(&mut self, name: &RemoteName) -> RemoteResult<Option<SystemTime>> {
        FtpRemote::modified(self, name)
    }
}
