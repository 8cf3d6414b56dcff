//! The server's replies: reading one whole (multi-line ones too, within a
//! bound), and what polyops reads out of them (the current folder, the
//! features, a hash).

use std::io::{BufRead, Read};

use suppaftp::{FtpError, Status};

/// A reply: its code and its whole text (every line of a multi-line one).
pub type Reply = (u32, String);

/// The longest reply polyops reads; a longer one is an error, not a
/// buffer without end.
pub const MAX_REPLY_BYTES: u64 = 256 * 1024;

/// A reply the caller did not expect, as suppaftp reports one.
pub fn unexpected(code: u32, text: &str) -> FtpError {
    FtpError::UnexpectedResponse(suppaftp::types::Response::new(
        Status::from(code),
        text.as_bytes().to_vec(),
    ))
}

/// One reply, multi-line ones whole, at most [`MAX_REPLY_BYTES`] long.
pub fn read_reply(reader: &mut impl BufRead) -> Result<Reply, FtpError> {
    let mut text = String::new();
    let mut line = String::new();
    let mut reader = reader.take(MAX_REPLY_BYTES);
    let too_long = || {
        FtpError::ConnectionError(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a reply longer than {} KiB", MAX_REPLY_BYTES / 1024),
        ))
    };
    if reader
        .read_line(&mut line)
        .map_err(FtpError::ConnectionError)?
        == 0
    {
        return Err(FtpError::ConnectionError(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed before the reply",
        )));
    }
    if !line.ends_with('\n') && reader.limit() == 0 {
        return Err(too_long());
    }
    let code: u32 = line
        .get(..3)
        .and_then(|c| c.parse().ok())
        .ok_or(FtpError::BadResponse)?;
    text.push_str(&line);
    if line.as_bytes().get(3) == Some(&b'-') {
        let end = format!("{code} ");
        loop {
            line.clear();
            if reader
                .read_line(&mut line)
                .map_err(FtpError::ConnectionError)?
                == 0
            {
                if reader.limit() == 0 {
                    return Err(too_long());
                }
                return Err(FtpError::BadResponse);
            }
            if !line.ends_with('\n') && reader.limit() == 0 {
                return Err(too_long());
            }
            text.push_str(&line);
            if line.starts_with(&end) {
                break;
            }
        }
    }
    Ok((code, text))
}

/// The folder a reply to PWD names (`257 "/home/x" is the current
/// directory`, a `"` inside written twice), or `None`.
pub fn current_folder((code, text): &Reply) -> Option<String> {
    if *code != 257 {
        return None;
    }
    let rest = &text[text.find('"')? + 1..];
    let mut folder = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
            } else {
                return Some(folder);
            }
        }
        folder.push(c);
    }
    None
}

/// The features a FEAT reply lists (RFC 2389: one per line, each line
/// starting with a space), with their parameters.
pub fn features(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter_map(|l| l.strip_prefix(' '))
        .map(|l| {
            let l = l.trim();
            match l.split_once(' ') {
                Some((name, params)) => (name.to_owned(), Some(params.trim().to_owned())),
                None => (l.to_owned(), None),
            }
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

/// The 64-hex-digit SHA-256 in a hash reply, lowercased.
pub fn hex_digest(reply: &str) -> Option<String> {
    reply
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|t| t.len() == 64)
        .map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pwd_replies_name_the_folder_with_quotes_undoubled() {
        let pwd = |t: &str| current_folder(&(257, t.to_owned()));
        assert_eq!(
            pwd("257 \"/\" is the current directory\r\n").as_deref(),
            Some("/")
        );
        assert_eq!(pwd("257 \"/a \"\"b\"\"\"\r\n").as_deref(), Some("/a \"b\""));
        assert_eq!(pwd("257 no quotes\r\n"), None);
        assert_eq!(pwd("257 \"/unterminated\r\n"), None);
        assert_eq!(current_folder(&(500, "500 \"/\"\r\n".to_owned())), None);
    }

    #[test]
    fn hash_replies_of_proftpd_parse_to_lowercase_sha256() {
        let xsha = "250-Computing SHA256 digest\r\n250 8662D5332B0E40F7E3D1A4E1E9A3A0F1C6E3F2B1A0D9C8B7A6F5E4D3C2B1A0F9\r\n";
        let hash = "213-Computing SHA-256 digest\r\n213 SHA-256 0-1629 933857f3ee8b5eca82435958d91e5420f7a74fcd8aa309050c701e791b9ff054 altigen.cfg\r\n";
        let bytes = format!("{xsha}{hash}").into_bytes();
        let mut r = std::io::BufReader::new(bytes.as_slice());
        let (code, text) = read_reply(&mut r).expect("first reply");
        assert_eq!(code, 250);
        assert_eq!(
            hex_digest(&text).as_deref(),
            Some("8662d5332b0e40f7e3d1a4e1e9a3a0f1c6e3f2b1a0d9c8b7a6f5e4d3c2b1a0f9")
        );
        let (code, text) = read_reply(&mut r).expect("second reply");
        assert_eq!(code, 213);
        assert_eq!(
            hex_digest(&text).as_deref(),
            Some("933857f3ee8b5eca82435958d91e5420f7a74fcd8aa309050c701e791b9ff054")
        );
        assert!(read_reply(&mut r).is_err(), "no third reply");
    }

    #[test]
    fn feature_lists_of_proftpd_and_vsftpd_parse() {
        let proftpd = "211-Features:\r\n MLST modify*;perm*;size*;type*;\r\n HASH SHA-1*;SHA-256;MD5\r\n XSHA256\r\n UTF8\r\n211 End\r\n";
        let f = features(proftpd);
        assert_eq!(
            f[0],
            ("MLST".into(), Some("modify*;perm*;size*;type*;".into()))
        );
        assert_eq!(f[1], ("HASH".into(), Some("SHA-1*;SHA-256;MD5".into())));
        assert_eq!(f[2], ("XSHA256".into(), None));
        assert_eq!(f.len(), 4);
        let vsftpd = "211-Features:\r\n EPRT\r\n EPSV\r\n PASV\r\n211 End\r\n";
        assert_eq!(features(vsftpd).len(), 3);
        assert!(features("502 FEAT not understood\r\n").is_empty());
    }
}
