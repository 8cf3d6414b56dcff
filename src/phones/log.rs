//! A phone's log as polyops reads it (docs/phones.md): lines
//! `TIME|COMPONENT|LEVEL|MISSED|TEXT`, TIME as `log.render.type` 2 writes
//! it (`MMDDHHMMSS`, no year), LEVEL 0-6 (4 and up are errors), MISSED the
//! events lost to a busy CPU, TEXT anything up to the line's end. A log is
//! written by whoever holds the phones' FTP account: one that is not text
//! is not read at all, and a line that does not have that shape is passed
//! over.

/// The lowest LEVEL that is an error (4 minor, 5 major, 6 fatal).
pub const ERROR_LEVEL: u8 = 4;

/// A line's time as the phone wrote it: its wall clock, without a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTime {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl LineTime {
    /// `MMDDHHMMSS`; a day that no year has (31 April) or a time past
    /// 23:59:59 is not a time.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |at: usize| text[at..at + 2].parse::<u32>().ok();
        let t = LineTime {
            month: n(0)?,
            day: n(2)?,
            hour: n(4)?,
            minute: n(6)?,
            second: n(8)?,
        };
        // 29 February is a day of leap years.
        let valid = (1..=12).contains(&t.month)
            && t.day >= 1
            && t.day <= crate::clock::days_in_month(2000, t.month)
            && t.hour < 24
            && t.minute < 60
            && t.second < 60;
        valid.then_some(t)
    }
}

/// One line of a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// `None`: the line's TIME is not `MMDDHHMMSS` (another
    /// `log.render.type`, or garbage).
    pub time: Option<LineTime>,
    pub component: String,
    pub level: u8,
    pub text: String,
}

impl Line {
    pub fn is_error(&self) -> bool {
        self.level >= ERROR_LEVEL
    }

    /// Whether the TEXT names `file` as a word of its own (ASCII case
    /// ignored): `203.cfg` in "could not load 203.cfg," but not in
    /// "1203.cfg" or "203.cfg.bak".
    pub fn names(&self, file: &str) -> bool {
        let text = self.text.to_ascii_lowercase();
        let file = file.to_ascii_lowercase();
        let part = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
        text.match_indices(&file).any(|(at, _)| {
            let before = text[..at].bytes().next_back();
            let after = text[at + file.len()..].bytes().next();
            // A name may end a sentence: "… 203.cfg." is still 203.cfg.
            let ends = match after {
                Some(b'.') => !text[at + file.len() + 1..].bytes().next().is_some_and(part),
                Some(b) => !part(b),
                None => true,
            };
            !before.is_some_and(part) && ends
        })
    }
}

/// The lines of the end of a log (`whole`: the bytes are the whole
/// file; else the first line is cut and left out), or why the log is
/// not read: bytes that are not UTF-8 text, control characters (a
/// terminal escape, NUL, a CR that does not end a line), or characters
/// that turn text around (bidirectional overrides).
pub fn parse(bytes: &[u8], whole: bool) -> Result<Vec<Line>, String> {
    let bytes = if whole {
        bytes
    } else {
        match bytes.iter().position(|&b| b == b'\n') {
            Some(at) => &bytes[at + 1..],
            None => &[],
        }
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "holds bytes that are not text (UTF-8)".to_owned())?;
    check_characters(text)?;
    Ok(text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter_map(line)
        .collect())
}

/// Refuse text no phone writes: control characters but tab, LF and a CR
/// before LF (or at the very end), and direction overrides.
fn check_characters(text: &str) -> Result<(), String> {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let fine = match c {
            '\t' | '\n' => true,
            '\r' => matches!(chars.peek(), Some('\n') | None),
            c => !crate::printable::is_unprintable(c),
        };
        if !fine {
            return Err(format!(
                "holds control characters (U+{:04X}) no phone writes",
                u32::from(c)
            ));
        }
    }
    Ok(())
}

/// A line of the log's shape, or `None`.
fn line(text: &str) -> Option<Line> {
    let mut fields = text.splitn(5, '|');
    let (time, component, level, missed, rest) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let level: u8 = level.trim().parse().ok().filter(|l| *l <= 6)?;
    if !missed.trim().bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let component = component.trim();
    if component.is_empty() || component.len() > 16 {
        return None;
    }
    Some(Line {
        time: LineTime::parse(time.trim()),
        component: component.to_owned(),
        level,
        text: rest.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_the_documented_shape_are_read_and_others_passed_over() {
        let log = b"1028171642|so   |2|00|soCoreAudioTermChg: chassis -> idle\r\n\
                    1028171650|cfg  |4|01|Could not load 203.cfg | 550 File not found\r\n\
                    not a log line\r\n\
                    1028171651|cfg  |9|00|level out of range\r\n\
                    011511.006|so   |5|00|other render type\r\n";
        let lines = parse(log, true).expect("text");
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0].time,
            Some(LineTime {
                month: 10,
                day: 28,
                hour: 17,
                minute: 16,
                second: 42
            })
        );
        assert_eq!(lines[1].component, "cfg");
        assert!(lines[1].is_error());
        assert_eq!(lines[1].text, "Could not load 203.cfg | 550 File not found");
        assert_eq!(lines[2].time, None);
        assert!(lines[2].is_error());
    }

    #[test]
    fn a_tail_leaves_out_its_cut_first_line() {
        let lines =
            parse(b"71650|cfg |4|00|cut\n1028171651|cfg |4|00|kept\n", false).expect("text");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "kept");
        assert!(parse(b"no line end at all", false)
            .expect("text")
            .is_empty());
    }

    #[test]
    fn hostile_bytes_make_a_log_unreadable() {
        for bad in [
            &b"1028171642|so |4|00|\x1b]0;owned\x07\n"[..],
            b"1028171642|so |4|00|nul\0\n",
            b"1028171642|so |4|00|fake\r1028171643|so |2|00|overwritten\n",
            b"\xff\xfe binary\n",
            "1028171642|so |4|00|\u{202e}gfc.302\n".as_bytes(),
        ] {
            assert!(parse(bad, true).is_err(), "{bad:?}");
        }
        // CR LF line ends are a phone's own.
        assert_eq!(
            parse(b"1028171642|so |4|00|x\r\n", true).map(|l| l.len()),
            Ok(1)
        );
    }

    #[test]
    fn a_file_is_named_only_as_a_word_of_its_own() {
        let l = |text: &str| Line {
            time: None,
            component: "cfg".into(),
            level: 4,
            text: text.into(),
        };
        assert!(l("Could not load 203.cfg").names("203.cfg"));
        assert!(l("could not load 203.CFG.").names("203.cfg"));
        assert!(l("file '203.cfg' missing").names("203.cfg"));
        assert!(!l("Could not load 1203.cfg").names("203.cfg"));
        assert!(!l("Could not load 203.cfg.bak").names("203.cfg"));
        assert!(!l("Could not load 203.cfgx").names("203.cfg"));
    }

    #[test]
    fn line_times_are_real_days_of_some_year() {
        assert!(LineTime::parse("0229120000").is_some());
        for bad in [
            "0230120000",
            "1301000000",
            "0101240000",
            "010112000",
            "01011200000",
            "01011200x0",
        ] {
            assert_eq!(LineTime::parse(bad), None, "{bad}");
        }
    }
}
