//! A phone's wall clock, and the years its log lines leave out
//! (docs/phones.md). The server's times are UTC; a phone writes its
//! log lines by its own clock: the site's `time.gmt_offset` (or zone)
//! ahead of UTC, plus an hour in summer when `time.daylight_saving` is
//! on, by the rule of the 3.2.7 defaults (second Sunday of March, 2:00,
//! to the first Sunday of November, 2:00).

use crate::clock::{days_from_civil, weekday, Civil};
use crate::phones::log::LineTime;
use crate::site::model::Time;

/// How much later than its log file's own time a line may seem by the
/// phone's clock before it is taken for one of the year before: the
/// file's time is converted to the phone's clock by the site's zone, and a
/// phone whose clock is a little ahead of the server's writes lines
/// "after" the file that holds them.
pub const LINE_AHEAD: i64 = 86_400;

/// A site's phones' clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneClock {
    pub gmt_offset: i64,
    pub daylight_saving: bool,
}

impl PhoneClock {
    pub fn of(time: &Time) -> Self {
        PhoneClock {
            gmt_offset: i64::from(time.gmt_offset),
            daylight_saving: time.daylight_saving,
        }
    }

    /// What the phone's clock shows at the UTC time `utc`, as seconds
    /// since 1970 of that wall clock.
    pub fn local(&self, utc: i64) -> i64 {
        let standard = utc + self.gmt_offset;
        if self.daylight_saving && in_summer_time(standard) {
            standard + 3600
        } else {
            standard
        }
    }

    /// The time of a log line by the phone's clock, its year inferred
    /// from `file_utc`, the server's time of the log file that holds it:
    /// the latest year (the file's, the one after, or the one before) that
    /// puts the line no more than [`LINE_AHEAD`] after the file's time on
    /// the phone's clock. So a line later in the year than the file's time
    /// belongs to the year before (a file of 2 January holds lines of
    /// 31 December), and a line of 1 January in a file the server dates
    /// 31 December (a phone east of UTC) to the year after. `None`: none
    /// of those years has that day (29 February).
    pub fn dated(&self, line: LineTime, file_utc: i64) -> Option<i64> {
        let file = self.local(file_utc);
        let year = Civil::from_seconds(file).year;
        [year + 1, year, year - 1]
            .into_iter()
            .filter_map(|y| {
                Civil::new(y, line.month, line.day, line.hour, line.minute, line.second)
            })
            .map(Civil::seconds)
            .find(|&s| s <= file + LINE_AHEAD)
    }
}

/// Whether a standard time (seconds since 1970 of the local standard
/// clock) is in US summer time: from the second Sunday of March at 2:00
/// standard time to the first Sunday of November at 2:00 summer time
/// (1:00 standard).
fn in_summer_time(standard: i64) -> bool {
    let year = Civil::from_seconds(standard).year;
    let sunday = |month: u32, nth: i64| -> i64 {
        let first = days_from_civil(year, month, 1);
        let to_sunday = i64::from((7 - weekday(first)) % 7);
        first + to_sunday + 7 * (nth - 1)
    };
    let start = sunday(3, 2) * 86_400 + 2 * 3600;
    let end = sunday(11, 1) * 86_400 + 3600;
    (start..end).contains(&standard)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        Civil::parse_compact(text).expect("a time").seconds()
    }

    fn line(text: &str) -> LineTime {
        LineTime::parse(text).expect("a line time")
    }

    #[test]
    fn a_line_later_in_the_year_than_its_file_is_of_the_year_before() {
        let utc = PhoneClock {
            gmt_offset: 0,
            daylight_saving: false,
        };
        let file = at("20260102100000");
        assert_eq!(
            utc.dated(line("1231235959"), file),
            Some(at("20251231235959"))
        );
        assert_eq!(
            utc.dated(line("0102095900"), file),
            Some(at("20260102095900"))
        );
        // Within a day after the file's time: a clock a little ahead.
        assert_eq!(
            utc.dated(line("0102120000"), file),
            Some(at("20260102120000"))
        );
        // 29 February: of the leap year it is in, else of no year near.
        assert_eq!(
            utc.dated(line("0229120000"), at("20280301000000")),
            Some(at("20280229120000"))
        );
        assert_eq!(utc.dated(line("0229120000"), at("20270301000000")), None);
    }

    #[test]
    fn a_phone_east_of_utc_writes_new_years_day_into_a_file_of_december() {
        let tokyo = PhoneClock {
            gmt_offset: 9 * 3600,
            daylight_saving: false,
        };
        // The server's 31 December 23:00 UTC is 1 January 08:00 in Tokyo.
        let file = at("20251231230000");
        assert_eq!(
            tokyo.dated(line("0101075900"), file),
            Some(at("20260101075900"))
        );
    }

    #[test]
    fn summer_time_follows_the_us_rule_of_the_phones_defaults() {
        let pacific = PhoneClock {
            gmt_offset: -8 * 3600,
            daylight_saving: true,
        };
        // 2026: 8 March to 1 November.
        assert_eq!(pacific.local(at("20260308095959")), at("20260308015959"));
        assert_eq!(pacific.local(at("20260308100000")), at("20260308030000"));
        assert_eq!(pacific.local(at("20261101085959")), at("20261101015959"));
        assert_eq!(pacific.local(at("20261101090000")), at("20261101010000"));
        assert_eq!(pacific.local(at("20260115120000")), at("20260115040000"));
        let no_dst = PhoneClock {
            daylight_saving: false,
            ..pacific
        };
        assert_eq!(no_dst.local(at("20260701120000")), at("20260701040000"));
    }
}
