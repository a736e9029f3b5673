//! The generation time: read from RFC 3339 (what the CLI passes; core has no clock), written as
//! ASFF wants it (`YYYY-MM-DDTHH:MM:SS.mmmZ`, one of the formats the Security Hub API reference
//! lists) and as OCSF wants it (`timestamp_t`: milliseconds since the Unix epoch).

use super::ExportError;

/// A moment, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(i64);

const MS_PER_DAY: i64 = 86_400_000;

impl Timestamp {
    /// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`t`, `z` and a space for `T` accepted,
    /// as RFC 3339 allows). A fraction finer than milliseconds is cut; a leap second `:60` is
    /// read as `:59.999`.
    pub(crate) fn parse(value: &str) -> Result<Self, ExportError> {
        let invalid = |why| ExportError::InvalidTime {
            value: value.to_owned(),
            why,
        };
        let b = value.trim().as_bytes();
        if b.len() < 20 {
            return Err(invalid("too short for YYYY-MM-DDTHH:MM:SSZ"));
        }
        let digits = |range: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(range)?;
            part.iter().try_fold(0_i64, |n, c| {
                c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
            })
        };
        let separators = b[4] == b'-'
            && b[7] == b'-'
            && matches!(b[10], b'T' | b't' | b' ')
            && b[13] == b':'
            && b[16] == b':';
        if !separators {
            return Err(invalid("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let field = |range, why| digits(range).ok_or_else(|| invalid(why));
        let year = field(0..4, "the year is not 4 digits")?;
        let month = field(5..7, "the month is not 2 digits")?;
        let day = field(8..10, "the day is not 2 digits")?;
        let hour = field(11..13, "the hour is not 2 digits")?;
        let minute = field(14..16, "the minute is not 2 digits")?;
        let second = field(17..19, "the second is not 2 digits")?;
        if !(1..=12).contains(&month) {
            return Err(invalid("the month is not 01 to 12"));
        }
        if day < 1 || day > days_in_month(year, month) {
            return Err(invalid("the day is not in the month"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(invalid("the time of day is out of range"));
        }
        let mut rest = &b[19..];
        let mut millis = 0_i64;
        if let Some(fraction) = rest.strip_prefix(b".") {
            let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if len == 0 {
                return Err(invalid("a '.' without fraction digits"));
            }
            for (i, c) in fraction.iter().take(3).take(len).enumerate() {
                millis += i64::from(c - b'0') * [100, 10, 1][i];
            }
            rest = &fraction[len..];
        }
        let offset_minutes = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let two =
                    |a: u8, b: u8| digits_of(a, b).ok_or_else(|| invalid("a malformed offset"));
                let (hours, minutes) = (two(*h1, *h2)?, two(*m1, *m2)?);
                if hours > 23 || minutes > 59 {
                    return Err(invalid("the offset is out of range"));
                }
                let sign = if *sign == b'-' { -1 } else { 1 };
                sign * (hours * 60 + minutes)
            }
            _ => return Err(invalid("expected Z or an offset ±HH:MM after the seconds")),
        };
        let (second, millis) = if second == 60 {
            (59, 999)
        } else {
            (second, millis)
        };
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second
                - offset_minutes * 60;
        Ok(Self(seconds * 1_000 + millis))
    }

    /// Milliseconds since the Unix epoch: OCSF's `timestamp_t`.
    pub(crate) fn unix_millis(self) -> i64 {
        self.0
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, in UTC.
    pub(crate) fn to_rfc3339(self) -> String {
        let days = self.0.div_euclid(MS_PER_DAY);
        let in_day = self.0.rem_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
        let (second, millis) = (in_day / 1_000 % 60, in_day % 1_000);
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
    }
}

fn digits_of(a: u8, b: u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(value: &str) -> i64 {
        match Timestamp::parse(value) {
            Ok(t) => t.unix_millis(),
            Err(e) => panic!("{value}: {e}"),
        }
    }

    #[test]
    fn reads_utc_offsets_and_fractions() {
        assert_eq!(millis("1970-01-01T00:00:00Z"), 0);
        assert_eq!(millis("2026-05-01T12:00:00Z"), 1_777_636_800_000);
        assert_eq!(millis("2026-05-01T14:00:00+02:00"), 1_777_636_800_000);
        assert_eq!(millis("2026-05-01T11:30:00.25-00:30"), 1_777_636_800_250);
        assert_eq!(millis("2026-05-01t12:00:00.123456789z"), 1_777_636_800_123);
        assert_eq!(millis("1969-12-31T23:59:59.999Z"), -1);
        assert_eq!(millis("2024-02-29T00:00:00Z"), 1_709_164_800_000);
    }

    #[test]
    fn writes_utc_with_milliseconds() {
        let t = |v| Timestamp::parse(v).map(Timestamp::to_rfc3339).ok();
        assert_eq!(
            t("2026-05-01T14:00:00+02:00").as_deref(),
            Some("2026-05-01T12:00:00.000Z")
        );
        assert_eq!(
            t("2000-02-29T23:59:59.5Z").as_deref(),
            Some("2000-02-29T23:59:59.500Z")
        );
        assert_eq!(
            t("1969-12-31T23:59:59.999Z").as_deref(),
            Some("1969-12-31T23:59:59.999Z")
        );
    }

    #[test]
    fn round_trips_every_day_of_four_centuries() {
        for days in (-146_097..146_097).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn refuses_what_is_not_rfc_3339() {
        for bad in [
            "",
            "yesterday",
            "2026-05-01",
            "2026-05-01T12:00:00",
            "2026-13-01T12:00:00Z",
            "2026-02-30T12:00:00Z",
            "2026-05-01T24:00:00Z",
            "2026-05-01T12:00:00.Z",
            "2026-05-01T12:00:00+2:00",
            "2026-05-01T12:00:00+02:60",
            "2026/05/01T12:00:00Z",
            "2026-05-01T12:00:00Zjunk",
        ] {
            assert!(
                matches!(Timestamp::parse(bad), Err(ExportError::InvalidTime { .. })),
                "{bad:?} was accepted"
            );
        }
    }
}
