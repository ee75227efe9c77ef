//! Date values: literals (`"2024-01-31"`, `"2024/01/31 13:05"`), relative dates (`"-4w"`) and
//! the date functions (`now("-4w")`, `startOfMonth("+1M")`, …). Everything is UTC and weeks
//! start on Monday (ISO 8601); Atlassian uses the user's time zone and locale, which a
//! simulator has no use for.

use std::fmt;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

/// A date operand, resolved against "now" only when evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateValue {
    /// A calendar day (or one minute, `with_time`) starting at `start_ms`, UTC.
    Literal { start_ms: i64, with_time: bool },
    /// A date function; relative literals such as `"-4w"` become `now("-4w")`.
    Func {
        func: DateFn,
        offset: Option<Offset>,
    },
}

/// The CQL date functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateFn {
    Now,
    StartOfDay,
    StartOfWeek,
    StartOfMonth,
    StartOfYear,
    EndOfDay,
    EndOfWeek,
    EndOfMonth,
    EndOfYear,
}

/// A signed amount of calendar units, such as `-4w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Offset {
    amount: i64,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
}

#[derive(Clone, Copy)]
enum Period {
    Day,
    Week,
    Month,
    Year,
}

impl DateFn {
    const ALL: [DateFn; 9] = [
        DateFn::Now,
        DateFn::StartOfDay,
        DateFn::StartOfWeek,
        DateFn::StartOfMonth,
        DateFn::StartOfYear,
        DateFn::EndOfDay,
        DateFn::EndOfWeek,
        DateFn::EndOfMonth,
        DateFn::EndOfYear,
    ];

    /// Looks a function up by name, ignoring case as CQL does.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            DateFn::Now => "now",
            DateFn::StartOfDay => "startOfDay",
            DateFn::StartOfWeek => "startOfWeek",
            DateFn::StartOfMonth => "startOfMonth",
            DateFn::StartOfYear => "startOfYear",
            DateFn::EndOfDay => "endOfDay",
            DateFn::EndOfWeek => "endOfWeek",
            DateFn::EndOfMonth => "endOfMonth",
            DateFn::EndOfYear => "endOfYear",
        }
    }

    /// `(period, is_end)`, or `None` for `now`.
    fn period(self) -> Option<(Period, bool)> {
        Some(match self {
            DateFn::Now => return None,
            DateFn::StartOfDay => (Period::Day, false),
            DateFn::StartOfWeek => (Period::Week, false),
            DateFn::StartOfMonth => (Period::Month, false),
            DateFn::StartOfYear => (Period::Year, false),
            DateFn::EndOfDay => (Period::Day, true),
            DateFn::EndOfWeek => (Period::Week, true),
            DateFn::EndOfMonth => (Period::Month, true),
            DateFn::EndOfYear => (Period::Year, true),
        })
    }
}

/// Parses an offset such as `-4w`, `+1d` or `2M` (`M` is months, `m` minutes).
pub(crate) fn parse_offset(s: &str) -> Option<Offset> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let digits_end = rest.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = rest.split_at(digits_end);
    // Nine digits keep every later multiplication far from overflow.
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    let unit = match unit {
        "y" | "Y" => Unit::Year,
        "M" => Unit::Month,
        "w" | "W" => Unit::Week,
        "d" | "D" => Unit::Day,
        "h" | "H" => Unit::Hour,
        "m" => Unit::Minute,
        _ => return None,
    };
    let amount: i64 = digits.parse().ok()?;
    Some(Offset {
        amount: if negative { -amount } else { amount },
        unit,
    })
}

/// Parses a date operand: `yyyy-MM-dd`, `yyyy/MM/dd`, either with ` HH:mm`, or a relative
/// date such as `-4w` (meaning `now("-4w")`).
pub(crate) fn parse_date(s: &str) -> Option<DateValue> {
    if let Some(offset) = parse_offset(s) {
        return Some(DateValue::Func {
            func: DateFn::Now,
            offset: Some(offset),
        });
    }
    let mut parts = s.split_whitespace();
    let date = parts.next()?;
    let time = parts.next();
    let with_time = time.is_some();
    if parts.next().is_some() {
        return None;
    }
    let sep = if date.contains('/') { '/' } else { '-' };
    let mut ymd = date.split(sep);
    let (y, m, d) = (ymd.next()?, ymd.next()?, ymd.next()?);
    if ymd.next().is_some() || y.len() != 4 {
        return None;
    }
    let day = NaiveDate::from_ymd_opt(i32::try_from(num(y, 4)?).ok()?, num(m, 2)?, num(d, 2)?)?;
    let time = match time {
        None => NaiveTime::MIN,
        Some(t) => {
            let (h, min) = t.split_once(':')?;
            NaiveTime::from_hms_opt(num(h, 2)?, num(min, 2)?, 0)?
        }
    };
    let start_ms = day.and_time(time).and_utc().timestamp_millis();
    Some(DateValue::Literal {
        start_ms,
        with_time,
    })
}

/// 1 to `max` ASCII digits.
fn num(s: &str, max: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl DateValue {
    /// The half-open interval `[start, end)` in Unix ms that this value denotes at `now_ms`:
    /// a whole day or minute for literals, one millisecond for functions. `None` when the
    /// arithmetic leaves chrono's range; the clause then does not match.
    pub(crate) fn resolve(&self, now_ms: i64) -> Option<(i64, i64)> {
        match *self {
            DateValue::Literal {
                start_ms,
                with_time,
            } => {
                let span = if with_time { MINUTE_MS } else { DAY_MS };
                Some((start_ms, start_ms.checked_add(span)?))
            }
            DateValue::Func { func, offset } => {
                let now = DateTime::from_timestamp_millis(now_ms)?;
                let t = match func.period() {
                    None => apply(now, offset)?,
                    Some((period, false)) => apply(start_of(now, period)?, offset)?,
                    // The end of a period is one ms before the next period starts; the offset
                    // moves that boundary, so endOfMonth("-1M") is the end of last month.
                    Some((period, true)) => {
                        let next = step(start_of(now, period)?, period)?;
                        apply(next, offset)?.checked_sub_signed(TimeDelta::milliseconds(1))?
                    }
                };
                let ms = t.timestamp_millis();
                Some((ms, ms.checked_add(1)?))
            }
        }
    }
}

fn start_of(t: DateTime<Utc>, period: Period) -> Option<DateTime<Utc>> {
    let d = t.date_naive();
    let day = match period {
        Period::Day => d,
        Period::Week => d.checked_sub_signed(TimeDelta::days(i64::from(
            d.weekday().num_days_from_monday(),
        )))?,
        Period::Month => d.with_day(1)?,
        Period::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
    };
    Some(day.and_time(NaiveTime::MIN).and_utc())
}

fn step(t: DateTime<Utc>, period: Period) -> Option<DateTime<Utc>> {
    match period {
        Period::Day => t.checked_add_signed(TimeDelta::days(1)),
        Period::Week => t.checked_add_signed(TimeDelta::weeks(1)),
        Period::Month => t.checked_add_months(Months::new(1)),
        Period::Year => t.checked_add_months(Months::new(12)),
    }
}

fn apply(t: DateTime<Utc>, offset: Option<Offset>) -> Option<DateTime<Utc>> {
    let Some(Offset { amount, unit }) = offset else {
        return Some(t);
    };
    let months = |n: i64| -> Option<DateTime<Utc>> {
        let m = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
        if n >= 0 {
            t.checked_add_months(m)
        } else {
            t.checked_sub_months(m)
        }
    };
    let delta = match unit {
        Unit::Year => return months(amount.checked_mul(12)?),
        Unit::Month => return months(amount),
        Unit::Week => TimeDelta::try_weeks(amount)?,
        Unit::Day => TimeDelta::try_days(amount)?,
        Unit::Hour => TimeDelta::try_hours(amount)?,
        Unit::Minute => TimeDelta::try_minutes(amount)?,
    };
    t.checked_add_signed(delta)
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.amount < 0 { '-' } else { '+' };
        let unit = match self.unit {
            Unit::Year => 'y',
            Unit::Month => 'M',
            Unit::Week => 'w',
            Unit::Day => 'd',
            Unit::Hour => 'h',
            Unit::Minute => 'm',
        };
        write!(f, "{sign}{}{unit}", self.amount.unsigned_abs())
    }
}

impl fmt::Display for DateValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateValue::Literal {
                start_ms,
                with_time,
            } => {
                // Literals come from parsed calendar dates, so the timestamp is always in range.
                let t = DateTime::from_timestamp_millis(*start_ms).unwrap_or_default();
                let pattern = if *with_time {
                    "%Y-%m-%d %H:%M"
                } else {
                    "%Y-%m-%d"
                };
                write!(f, "\"{}\"", t.format(pattern))
            }
            DateValue::Func { func, offset: None } => write!(f, "{}()", func.name()),
            DateValue::Func {
                func,
                offset: Some(o),
            } => write!(f, "{}(\"{o}\")", func.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-03-14 (a Thursday) 15:30:00 UTC.
    const NOW: i64 = 1_710_430_200_000;

    fn at(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.3f")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    fn resolve(func: &str, offset: Option<&str>) -> i64 {
        let func = DateFn::from_name(func).unwrap();
        let offset = offset.map(|o| parse_offset(o).unwrap());
        DateValue::Func { func, offset }.resolve(NOW).unwrap().0
    }

    #[test]
    fn now_is_fixed_for_the_tests() {
        assert_eq!(NOW, at("2024-03-14 15:30:00.000"));
    }

    #[test]
    fn literals() {
        let day = parse_date("2024-03-01").unwrap();
        assert_eq!(
            day.resolve(0),
            Some((at("2024-03-01 00:00:00.000"), at("2024-03-02 00:00:00.000")))
        );
        assert_eq!(parse_date("2024/03/01"), Some(day));
        let minute = parse_date("2024/3/1 9:05").unwrap();
        assert_eq!(minute.resolve(0).unwrap().0, at("2024-03-01 09:05:00.000"));
        assert_eq!(minute.to_string(), "\"2024-03-01 09:05\"");
        assert_eq!(
            parse_date("2024-03-01 00:00").unwrap().to_string(),
            "\"2024-03-01 00:00\""
        );
        assert_eq!(day.to_string(), "\"2024-03-01\"");
        for bad in [
            "2024-02-30",
            "24-01-01",
            "2024-01",
            "2024-01-01 25:00",
            "2024-01-01 10",
            "x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("-4w").unwrap().to_string(), "-4w");
        assert_eq!(parse_offset("1d").unwrap().to_string(), "+1d");
        assert_eq!(parse_offset("+2M").unwrap().to_string(), "+2M");
        assert_eq!(parse_offset("3m").unwrap().to_string(), "+3m");
        for bad in ["", "-", "4", "w", "4x", "--4w", "4 w", "1234567890d"] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
        let rel = parse_date("-1d").unwrap();
        assert_eq!(rel.resolve(NOW).unwrap().0, NOW - DAY_MS);
    }

    #[test]
    fn functions() {
        assert_eq!(resolve("now", None), NOW);
        assert_eq!(resolve("NOW", Some("-2h")), NOW - 2 * 3_600_000);
        assert_eq!(resolve("startOfDay", None), at("2024-03-14 00:00:00.000"));
        assert_eq!(
            resolve("startOfDay", Some("-1d")),
            at("2024-03-13 00:00:00.000")
        );
        assert_eq!(resolve("endOfDay", None), at("2024-03-14 23:59:59.999"));
        assert_eq!(resolve("startOfWeek", None), at("2024-03-11 00:00:00.000"));
        assert_eq!(resolve("endOfWeek", None), at("2024-03-17 23:59:59.999"));
        assert_eq!(
            resolve("startOfMonth", Some("-1M")),
            at("2024-02-01 00:00:00.000")
        );
        assert_eq!(
            resolve("endOfMonth", Some("-1M")),
            at("2024-02-29 23:59:59.999")
        );
        assert_eq!(
            resolve("endOfMonth", Some("+15d")),
            at("2024-04-15 23:59:59.999")
        );
        assert_eq!(resolve("startOfYear", None), at("2024-01-01 00:00:00.000"));
        assert_eq!(
            resolve("endOfYear", Some("-1y")),
            at("2023-12-31 23:59:59.999")
        );
        assert_eq!(resolve("now", Some("+5m")), NOW + 5 * MINUTE_MS);
    }

    #[test]
    fn out_of_range_is_none_not_a_panic() {
        let huge = DateValue::Func {
            func: DateFn::Now,
            offset: parse_offset("999999999y"),
        };
        assert_eq!(huge.resolve(NOW), None);
        assert_eq!(
            DateValue::Func {
                func: DateFn::EndOfYear,
                offset: None
            }
            .resolve(i64::MAX),
            None
        );
    }
}
