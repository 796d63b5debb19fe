//! The local wall clock, broken into fields: for session ids and `saved_at` (CoreCoder's local
//! `strftime` formats) and the date in the system prompt. No time-zone rules of our own: the C
//! library's `localtime_r` applies `TZ` and `/etc/localtime`.

use std::time::{SystemTime, UNIX_EPOCH};

/// A wall-clock moment broken into the fields `strftime` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalTime {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl LocalTime {
    /// Now in the local time zone, as CoreCoder's `time.strftime` reads it; UTC if the C
    /// library cannot convert (only for times outside its range).
    pub(crate) fn now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        local(secs).unwrap_or_else(|| LocalTime::utc(secs))
    }

    /// `secs` since the epoch in the local time zone (UTC where the C library cannot say).
    pub(crate) fn at(secs: i64) -> Self {
        local(secs).unwrap_or_else(|| LocalTime::utc(secs))
    }

    /// CoreCoder's `saved_at`: `%Y-%m-%d %H:%M:%S`.
    pub(crate) fn saved_at(&self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// `YYYY-MM-DD`.
    pub(crate) fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The time part of CoreCoder's ids: `%Y%m%d_%H%M%S`.
    pub(crate) fn id_stamp(&self) -> String {
        format!(
            "{:04}{:02}{:02}_{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Seconds since the epoch → UTC civil time (Howard Hinnant's `civil_from_days`).
    pub(crate) fn utc(secs: i64) -> Self {
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        LocalTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
        }
    }
}

/// `localtime_r(3)`: the C library owns the time-zone rules (`TZ`, `/etc/localtime`).
fn local(secs: i64) -> Option<LocalTime> {
    #[allow(
        clippy::useless_conversion,
        reason = "time_t is 32 bits on some targets"
    )]
    let t: libc::time_t = secs.try_into().ok()?;
    // SAFETY: `tm` is plain old data for which all-zero bytes is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; the reentrant variant writes only to `tm`.
    let out = unsafe { libc::localtime_r(&t, &mut tm) };
    if out.is_null() {
        return None;
    }
    let field = |v: libc::c_int| u32::try_from(v).ok();
    Some(LocalTime {
        year: i64::from(tm.tm_year) + 1900,
        month: field(tm.tm_mon)? + 1,
        day: field(tm.tm_mday)?,
        hour: field(tm.tm_hour)?,
        minute: field(tm.tm_min)?,
        // A leap second shows as :60 in C; CoreCoder would print it too.
        second: field(tm.tm_sec)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(LocalTime::utc(0).date(), "1970-01-01");
        assert_eq!(LocalTime::utc(20_781 * 86_400).date(), "2026-11-24");
        assert_eq!(
            LocalTime::utc(11_016 * 86_400 + 3_661).saved_at(),
            "2000-02-29 01:01:01"
        );
    }
}
