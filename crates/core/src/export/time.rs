//! The generation time: read from RFC 3339 (what the CLI passes; core has no clock), written as
//! ASFF wants it (`YYYY-MM-DDTHH:MM:SS.mmmZ`, one of the formats the Security Hub API reference
//! lists) and as OCSF wants it (`timestamp_t`: milliseconds since the Unix epoch). The calendar
//! is the `time` crate's.

use super::ExportError;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// A moment, in UTC, to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Reads an RFC 3339 date-time (any offset; a fraction finer than milliseconds is cut).
    pub(crate) fn parse(value: &str) -> Result<Self, ExportError> {
        let at = OffsetDateTime::parse(value.trim(), &Rfc3339).map_err(|e| {
            ExportError::InvalidTime {
                value: value.to_owned(),
                why: e.to_string(),
            }
        })?;
        let at = at.to_offset(time::UtcOffset::UTC);
        let millis = at.millisecond();
        Ok(Self(at.replace_millisecond(millis).unwrap_or(at)))
    }

    /// Milliseconds since the Unix epoch: OCSF's `timestamp_t`.
    pub(crate) fn unix_millis(self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, in UTC.
    pub(crate) fn to_rfc3339(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.0.format(&format).unwrap_or_default()
    }
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
        assert_eq!(millis("2026-05-01T12:00:00.123456789Z"), 1_777_636_800_123);
        assert_eq!(millis("1969-12-31T23:59:59.999Z"), -1);
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
