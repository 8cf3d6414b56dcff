//! Listings of the target's folder: MLSD where the server has it, else
//! `LIST -a`; every name checked before it is used.

use suppaftp::list::ListParser;

use super::conn::Conn;
use super::wire;
use super::FtpRemote;
use crate::remote::{checked_entries, Entry, RemoteResult};

/// Entries of a listing, without `.`/`..`; the
/// names that cannot be a [`RemoteName`], made printable.
pub(super) fn entries(lines: &[String], mlsd: bool) -> (Vec<Entry>, Vec<String>) {
    let mut out = Vec::new();
    for line in lines {
        let parsed = if mlsd {
            ListParser::parse_mlsd(line).ok()
        } else {
            ListParser::parse_posix(line)
                .or_else(|_| ListParser::parse_dos(line))
                .ok()
        };
        let Some(f) = parsed else { continue };
        // A name with a path in it is refused below, not cut to its last
        // segment: `a/../../x` is not `x`.
        let name = f.name().to_owned();
        if name == "." || name == ".." {
            continue;
        }
        if mlsd {
            // MLSD marks the listed folder and its parent as cdir / pdir.
            let lower = line.to_ascii_lowercase();
            if lower.contains("type=cdir") || lower.contains("type=pdir") {
                continue;
            }
        }
        out.push((name, f.is_directory()));
    }
    checked_entries(out)
}

impl FtpRemote {
    /// A listing of the folder (MLSD where the server has it, else
    /// `LIST -a`); with `ahead`, the passive command of the next transfer
    /// travels with it.
    pub(super) fn listing(&mut self, ahead: bool) -> RemoteResult<wire::Listing> {
        let mlsd = self.server.mlsd;
        let command = if mlsd { "MLSD" } else { "LIST -a" };
        let peer = self.settings.addr;
        let then = ahead.then(|| wire::passive_command(peer));
        let beside = self.far();
        let mut in_order = true;
        let listing = self.retry("listing", |c, w| match &mut c.conn {
            Conn::Plain(s) => {
                let data = c.data.open(s, w, peer)?.connect(w)?;
                let l = wire::list(s, w, command, data, then, beside)?;
                in_order &= l.in_order;
                if let Some(reply) = &l.next {
                    c.data.keep(peer, reply);
                }
                c.data.prove();
                Ok(l)
            }
            Conn::Tls(s) => {
                let lines = if mlsd {
                    s.mlsd(None)
                } else {
                    s.list(Some("-a"))
                }?;
                Ok(wire::Listing {
                    lines,
                    done: String::new(),
                    next: None,
                    in_order: true,
                    ended: false,
                })
            }
        });
        if !in_order {
            self.pipeline = false;
        }
        let listing = listing?;
        self.ended |= listing.ended;
        Ok(listing)
    }

    /// The folder's entries; names that cannot be used are counted in
    /// `stats.refused_names`.
    pub(super) fn list_entries(&mut self) -> RemoteResult<Vec<Entry>> {
        let ahead = self.pipeline && self.server.sequential;
        let listing = self.listing(ahead)?;
        let done = listing.done;
        if done.to_ascii_lowercase().contains("truncat") {
            self.stats.listing_cut =
                Some(done.lines().last().unwrap_or_default().trim().to_owned());
        }
        let (entries, refused) = entries(&listing.lines, self.server.mlsd);
        self.stats.refused_names.extend(refused);
        Ok(entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::RemoteName;

    proptest::proptest! {
        /// Whatever a server lists, parsing it neither panics nor yields a
        /// name that is not a valid one.
        #[test]
        fn any_listing_line_parses_to_valid_names_or_none(line in "\\PC{0,80}|type=file; .{0,40}|[-d]rw.{0,60}") {
            for mlsd in [true, false] {
                let (entries, _) = entries(std::slice::from_ref(&line), mlsd);
                for e in entries {
                    proptest::prop_assert!(RemoteName::new(e.name.as_str()).is_ok());
                }
            }
        }
    }

    #[test]
    fn listings_drop_dot_entries_and_refuse_hostile_names() {
        let mlsd = vec![
            "type=cdir;modify=20260101000000; .".to_owned(),
            "type=pdir;modify=20260101000000; ..".to_owned(),
            "type=file;size=12;modify=20260101000000; 201.cfg".to_owned(),
            "type=dir;modify=20260101000000; .polyops-lock".to_owned(),
            "type=file;size=1;modify=20260101000000; \x1b]0;owned\x07.cfg".to_owned(),
            "type=file;size=1;modify=20260101000000; a/../../etc".to_owned(),
        ];
        let (e, refused) = entries(&mlsd, true);
        let name = |n: &str| RemoteName::new(n).expect("valid");
        assert_eq!(
            e,
            vec![
                Entry {
                    name: name("201.cfg"),
                    is_dir: false
                },
                Entry {
                    name: name(".polyops-lock"),
                    is_dir: true
                },
            ]
        );
        assert_eq!(refused, ["]0;owned.cfg", "a/../../etc"]);
        let list = vec![
            "total 8".to_owned(),
            "-rw-r--r--    1 1000     1000          620 Nov 24 22:40 altigen.cfg".to_owned(),
            "drwxr-xr-x    2 1000     1000         4096 Nov 24 22:40 firmware".to_owned(),
        ];
        let (e, _) = entries(&list, false);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name.as_str(), "altigen.cfg");
        assert!(e[1].is_dir);
    }
}
