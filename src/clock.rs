//! Calendar arithmetic for the times polyops reads: a server's file times
//! (`MDTM 20260304121530`, MLSD's `modify=`, LIST's `Mar  4 12:15`) and
//! the year-less times in the phones' logs (docs/phones.md). Times are
//! seconds since 1970-01-01 00:00:00 in the calendar they were written in
//! (UTC for a server, the phone's wall clock for a log line); no leap
//! seconds, as FTP servers and phones count none.

use std::fmt;

/// A date and a time of day, all fields in range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// The date and time, if every field is in range (30 February and
    /// 24:00 are not).
    pub fn new(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<Self> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Seconds since 1970-01-01 00:00:00 of the same calendar.
    pub fn seconds(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second)
    }

    /// The date and time `seconds` after 1970-01-01 00:00:00.
    pub fn from_seconds(seconds: i64) -> Self {
        let days = seconds.div_euclid(86_400);
        let rest = u32::try_from(seconds.rem_euclid(86_400)).expect("less than a day");
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: rest / 3600,
            minute: rest / 60 % 60,
            second: rest % 60,
        }
    }

    /// `YYYYMMDDHHMMSS`, as MDTM and MLSD's `modify=` write a time
    /// (RFC 3659); a fraction of a second after it (`.123`) is dropped.
    /// Anything else is `None`.
    pub fn parse_compact(text: &str) -> Option<Self> {
        let whole = match text.split_once('.') {
            Some((whole, fraction))
                if !fraction.is_empty() && fraction.bytes().all(|b| b.is_ascii_digit()) =>
            {
                whole
            }
            Some(_) => return None,
            None => text,
        };
        if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |at: usize, len: usize| whole[at..at + len].parse::<u32>().ok();
        Civil::new(
            i64::from(n(0, 4)?),
            n(4, 2)?,
            n(6, 2)?,
            n(8, 2)?,
            n(10, 2)?,
            n(12, 2)?,
        )
    }
}

impl fmt::Display for Civil {
    /// `2026-03-04 12:15:30`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

pub fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days from 1970-01-01 to the date (proleptic Gregorian; H. Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).expect("a day of the month");
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).expect("a month");
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day of the week of a date, 0 for Sunday.
pub fn weekday(days: i64) -> u32 {
    u32::try_from((days + 4).rem_euclid(7)).expect("0..7")
}

/// Seconds since 1970 by the local clock, now.
pub fn now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Seconds since 1970 of a file system time (before 1970: negative).
pub fn seconds_of(time: std::time::SystemTime) -> i64 {
    match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_over_four_centuries() {
        for days in (-200_000..200_000).step_by(37) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        // 1970-01-01 was a Thursday.
        assert_eq!(weekday(0), 4);
    }

    #[test]
    fn compact_times_parse_to_the_second_and_refuse_what_is_not_a_time() {
        let t = Civil::parse_compact("20231114221320").expect("a time");
        assert_eq!(t.seconds(), 1_700_000_000);
        assert_eq!(t.to_string(), "2023-11-14 22:13:20");
        assert_eq!(
            Civil::parse_compact("20231114221320.987").map(Civil::seconds),
            Some(1_700_000_000)
        );
        for bad in [
            "",
            "2023111422132",
            "202311142213200",
            "20230230120000",
            "20231114241320",
            "2023111422132x",
            "20231114221320.",
            "20231114221320.5x",
            "+2023111422132",
        ] {
            assert_eq!(Civil::parse_compact(bad), None, "{bad}");
        }
    }

    #[test]
    fn seconds_and_civil_times_round_trip() {
        for s in [0, 1_700_000_000, -1, 951_782_400, 4_102_444_799] {
            assert_eq!(Civil::from_seconds(s).seconds(), s);
        }
        assert_eq!(
            Civil::from_seconds(951_782_400).to_string(),
            "2000-02-29 00:00:00"
        );
    }
}
