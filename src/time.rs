//! Time: instants, timestamp parsing, deadline spans and business-day calendars.
//!
//! Shared by the evidence stage (parsing what exports say) and the rules (adding a
//! deadline to a start). Every instant is an exact point on the UTC time line in
//! nanoseconds; elapsed hours are differences of instants, so daylight-saving
//! changes never move an hour-based deadline. Calendar and business days are
//! counted on the wall clock of a declared zone.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Timelike, Utc, Weekday,
};
use chrono_tz::Tz;

const NANOS_PER_SEC: i64 = 1_000_000_000;
/// Nanoseconds in one hour.
pub const NANOS_PER_HOUR: i64 = 3_600 * NANOS_PER_SEC;

/// An exact instant: nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// Build from a chrono UTC date-time (`None` outside 1677..2262).
    pub fn from_utc(dt: DateTime<Utc>) -> Option<Ts> {
        dt.timestamp_nanos_opt().map(Ts)
    }

    /// This instant as a chrono UTC date-time.
    pub fn to_utc(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// Whole seconds since the epoch and the nanoseconds beyond them.
    fn split(self) -> (i64, u32) {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        (secs, nanos)
    }
}

impl fmt::Display for Ts {
    /// RFC 3339 in UTC, with only as many fraction digits as the value needs.
    /// (Written digit by digit into a buffer: reports format tens of thousands of
    /// instants, and `write!` with chrono's calendar took 2% of a large run.)
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (secs, nanos) = self.split();
        let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
        let sod = secs.rem_euclid(86_400);
        let mut out = [0u8; 32];
        let mut n = 0;
        // `width` digits of `v` (zero-padded), then `sep` unless it is 0.
        let mut put = |v: i64, width: u32, sep: u8| {
            for k in 0..width {
                if let Some(c) = out.get_mut(n) {
                    *c = b'0' + (v / 10i64.pow(width - 1 - k) % 10) as u8;
                }
                n += 1;
            }
            if sep != 0 {
                if let Some(c) = out.get_mut(n) {
                    *c = sep;
                }
                n += 1;
            }
        };
        put(y, 4, b'-');
        put(i64::from(mo), 2, b'-');
        put(i64::from(d), 2, b'T');
        put(sod / 3600, 2, b':');
        put(sod / 60 % 60, 2, b':');
        let frac = match nanos {
            0 => 0,
            _ if nanos % 1_000_000 == 0 => 3,
            _ if nanos % 1_000 == 0 => 6,
            _ => 9,
        };
        if frac == 0 {
            put(sod % 60, 2, b'Z');
        } else {
            put(sod % 60, 2, b'.');
            put(i64::from(nanos) / 10i64.pow(9 - frac), frac, b'Z');
        }
        f.write_str(std::str::from_utf8(out.get(..n).unwrap_or(&[])).unwrap_or(""))
    }
}

/// Year, month and day of a day number (days since 1970-01-01), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// Not a timestamp in the expected shape.
    Syntax(String),
    /// A date or time that does not exist (e.g. 2025-02-30, 24:00:01).
    Impossible(String),
    /// A date and time without an offset and no declared time zone.
    NoZone,
    /// A date without a time and no declared date semantics.
    DateOnly,
    /// A local time that does not exist in the zone (skipped by a DST change).
    Nonexistent(String),
    /// A local time that occurs twice in the zone (repeated by a DST change).
    Ambiguous(String),
    /// Outside the years 1677-2262 that nanosecond instants cover.
    OutOfRange,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::Syntax(m) => write!(f, "not a timestamp: {m}"),
            TimeError::Impossible(m) => write!(f, "impossible date or time: {m}"),
            TimeError::NoZone => f.write_str(
                "timestamp has no UTC offset and the source declares no `timezone`; evidentia never guesses one",
            ),
            TimeError::DateOnly => f.write_str(
                "date without a time and the source declares no `dates` semantics (start-of-day or end-of-day)",
            ),
            TimeError::Nonexistent(z) => {
                write!(f, "local time does not exist in {z} (skipped by a daylight-saving change)")
            }
            TimeError::Ambiguous(z) => write!(
                f,
                "local time occurs twice in {z} (daylight-saving change); set `ambiguous: earliest|latest` on the source"
            ),
            TimeError::OutOfRange => f.write_str("outside the supported years 1677-2262"),
        }
    }
}

/// What a date without a time means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateSemantics {
    /// 00:00:00 local time of that day.
    StartOfDay,
    /// The last nanosecond of that day in local time.
    EndOfDay,
}

/// Which instant to take for a local time repeated by a daylight-saving change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AmbiguousPolicy {
    /// Reject the value (default: never guess).
    #[default]
    Error,
    /// The first occurrence (daylight time).
    Earliest,
    /// The second occurrence (standard time).
    Latest,
}

/// How a source writes its timestamps.
#[derive(Debug, Clone, Default)]
pub struct TsFormat {
    /// A chrono strftime pattern; `None` means RFC 3339 / ISO 8601.
    pub pattern: Option<String>,
    /// Zone for values written without an offset.
    pub zone: Option<Tz>,
    /// Meaning of date-only values.
    pub dates: Option<DateSemantics>,
    /// Policy for local times repeated by a DST change.
    pub ambiguous: AmbiguousPolicy,
}

/// Parse an RFC 3339 / ISO 8601 timestamp. Values without an offset are resolved in
/// `fmt.zone`; date-only values use `fmt.dates`. With `fmt.pattern` set, the pattern
/// is used instead (chrono strftime syntax).
pub fn parse_ts(s: &str, fmt: &TsFormat) -> Result<Ts, TimeError> {
    // (A value that starts and ends with a visible ASCII character has nothing to trim.)
    let solid = |c: Option<&u8>| c.is_some_and(u8::is_ascii_graphic);
    let s = if solid(s.as_bytes().first()) && solid(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    };
    if let Some(p) = &fmt.pattern {
        return parse_with_pattern(s, p, fmt);
    }
    match parse_iso(s)? {
        Iso::Full(ts) => Ok(ts),
        Iso::Naive(ndt) => localize(ndt, fmt),
        Iso::Date(d) => localize_date(d, fmt),
    }
}

/// An ISO value as written: with an offset, without one, or a date alone.
enum Iso {
    Full(Ts),
    Naive(NaiveDateTime),
    Date(NaiveDate),
}

fn syntax(s: &str) -> TimeError {
    TimeError::Syntax(format!(
        "`{s}` (expected RFC 3339, e.g. 2025-03-02T14:05:00Z or 2025-03-02T09:05:00-05:00)"
    ))
}

fn digits(b: &[u8], from: usize, n: usize) -> Option<u32> {
    let part = b.get(from..from + n)?;
    let mut v = 0u32;
    for &c in part {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Days in a month of the proleptic Gregorian calendar (`month` in 1..=12).
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid date (H. Hinnant's `days_from_civil`, with the
/// years moved on by 4800, twelve 400-year eras, so that every quantity is a positive
/// `u32`: divisions by constants are then multiplications).
#[inline(always)]
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    let y = year + 4800 - u32::from(month <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::from(era * 146_097 + doe) - 719_468 - 12 * 146_097
}

/// What a fraction of `n` digits (index) is multiplied by to give nanoseconds.
const NANOS_SCALE: [u32; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

/// The usual layout, `YYYY-MM-DDTHH:MM:SS`, an optional fraction of one to nine digits
/// and `Z` or `+HH:MM`/`-HH:MM`, as an instant; `None` for anything else (leap seconds,
/// other layouts, errors, the edges of the range), which `parse_iso` then reads.
#[inline]
pub(crate) fn parse_usual(b: &[u8]) -> Option<Ts> {
    let p: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    // `YYYY-MM-` and `HH:MM:SS` read as two little-endian words and the day as a
    // third, each byte less `0` by an exclusive or: a digit is then 0-9 and the
    // separators are known values. (Byte by byte, this was 14 subtractions, 7 pairs
    // and a branch a separator.)
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const DATE_SEPS: u64 = 0xFF00_00FF_0000_0000; // bytes 4 and 7: `-`
    const TIME_SEPS: u64 = 0x0000_FF00_00FF_0000; // bytes 2 and 5: `:`
    let date = u64::from_le_bytes(p[..8].try_into().ok()?) ^ ZEROS;
    let time = u64::from_le_bytes(p[11..].try_into().ok()?) ^ ZEROS;
    let day = u64::from(u16::from_le_bytes([p[8], p[9]])) ^ 0x3030;
    if date & DATE_SEPS != 0x1D00_001D_0000_0000 // `-` ^ `0`
        || time & TIME_SEPS != 0x0000_0A00_000A_0000 // `:` ^ `0`
        || p[10] != b'T'
    {
        return None;
    }
    let (date, time) = (date & !DATE_SEPS, time & !TIME_SEPS);
    // A byte is a digit when it is now at most 9: adding 0x76 to its low seven bits
    // sets the top bit only when it is not (no byte carries into the next: at most
    // 0x7F + 0x76), and a byte with the top bit set was no digit either.
    let not_digit = |w: u64| {
        ((w & 0x7F7F_7F7F_7F7F_7F7F).wrapping_add(0x7676_7676_7676_7676) | w)
            & 0x8080_8080_8080_8080
    };
    if not_digit(date) | not_digit(time) | not_digit(day) != 0 {
        return None;
    }
    // Each byte times ten plus the next: byte i is then the two-digit number written
    // at i and i+1 (at most 99: no carries).
    let pairs = |w: u64| w * 10 + (w >> 8);
    let (d, t) = (pairs(date), pairs(time));
    let byte = |w: u64, i: u32| (w >> (8 * i)) as u32 & 0xFF;
    let year = byte(d, 0) * 100 + byte(d, 2);
    let (month, day) = (byte(d, 5), byte(pairs(day), 0));
    let (hour, minute, second) = (byte(t, 0), byte(t, 3), byte(t, 6));
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut rest = b.get(19..)?;
    let mut nanos = 0u32;
    if let Some((b'.', frac)) = rest.split_first() {
        let mut n = 0;
        for &c in frac {
            let v = u32::from(c.wrapping_sub(b'0'));
            if v > 9 {
                break;
            }
            // A tenth digit is for the general reader (which ignores it), tested
            // before it is added: ten digits overflow a `u32`.
            if n == 9 {
                return None;
            }
            nanos = nanos * 10 + v;
            n += 1;
        }
        if n == 0 {
            return None;
        }
        nanos *= NANOS_SCALE.get(n).copied().unwrap_or(1);
        rest = frac.get(n..)?;
    }
    let offset: i64 = match *rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let dd = |c: u8| u32::from(c.wrapping_sub(b'0'));
            if ((dd(h1) + 6) | (dd(h2) + 6) | (dd(m1) + 6) | (dd(m2) + 6)) & !0xF != 0 {
                return None;
            }
            let (oh, om) = (dd(h1) * 10 + dd(h2), dd(m1) * 10 + dd(m2));
            if oh > 23 || om > 59 {
                return None;
            }
            let v = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset;
    secs.checked_mul(NANOS_PER_SEC)?
        .checked_add(i64::from(nanos))
        .map(Ts)
}

/// Hand-written RFC 3339 reader: this is the hottest path of a large export.
fn parse_iso(s: &str) -> Result<Iso, TimeError> {
    match parse_usual(s.as_bytes()) {
        Some(ts) => Ok(Iso::Full(ts)),
        None => parse_iso_general(s),
    }
}

/// `parse_iso` for any layout it accepts, field by field (`parse_usual` reads the
/// usual one faster, and must agree with this on it).
fn parse_iso_general(s: &str) -> Result<Iso, TimeError> {
    let b = s.as_bytes();
    let err = || syntax(s);
    let year = digits(b, 0, 4).ok_or_else(err)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return Err(err());
    }
    let month = digits(b, 5, 2).ok_or_else(err)?;
    let day = digits(b, 8, 2).ok_or_else(err)?;
    let impossible = || TimeError::Impossible(format!("`{s}`"));
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(impossible());
    }
    // Built only for a value without an offset (chrono resolves it in a zone).
    let date = || NaiveDate::from_ymd_opt(year as i32, month, day).ok_or_else(impossible);
    if b.len() == 10 {
        return Ok(Iso::Date(date()?));
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return Err(err());
    }
    let hour = digits(b, 11, 2).ok_or_else(err)?;
    if b.get(13) != Some(&b':') {
        return Err(err());
    }
    let minute = digits(b, 14, 2).ok_or_else(err)?;
    let mut i = 16;
    let mut second = 0;
    if b.get(16) == Some(&b':') {
        second = digits(b, 17, 2).ok_or_else(err)?;
        i = 19;
    }
    let mut nanos = 0u32;
    if matches!(b.get(i), Some(b'.' | b',')) {
        i += 1;
        let start = i;
        while let Some(c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return Err(err());
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    // A leap second (:60) is accepted as the last instant of its minute.
    let (second, nanos) = if second == 60 {
        (59, 999_999_999)
    } else {
        (second, nanos)
    };
    if hour > 23 || minute > 59 || second > 59 {
        return Err(impossible());
    }
    let offset_secs: i64 = match b.get(i) {
        None => {
            let time =
                NaiveTime::from_hms_nano_opt(hour, minute, second, nanos).ok_or_else(impossible)?;
            return Ok(Iso::Naive(NaiveDateTime::new(date()?, time)));
        }
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2).ok_or_else(err)?;
            let (om, end) = match b.get(i + 3) {
                Some(b':') => (digits(b, i + 4, 2).ok_or_else(err)?, i + 6),
                None => (0, i + 3),
                Some(_) => (digits(b, i + 3, 2).ok_or_else(err)?, i + 5),
            };
            if end != b.len() || oh > 23 || om > 59 {
                return Err(err());
            }
            let v = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -v } else { v }
        }
        Some(_) => return Err(err()),
    };
    let utc_secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_secs;
    // In i128: the first second of the range (1677-09-21T00:12:43Z) overflows i64
    // before its nanoseconds are added back.
    let total = i128::from(utc_secs) * i128::from(NANOS_PER_SEC) + i128::from(nanos);
    let total = i64::try_from(total).map_err(|_| TimeError::OutOfRange)?;
    Ok(Iso::Full(Ts(total)))
}

fn parse_with_pattern(s: &str, p: &str, fmt: &TsFormat) -> Result<Ts, TimeError> {
    use chrono::format::{Fixed, Item, Numeric, StrftimeItems};
    // What the pattern holds, from chrono's own reading of it: composite specifiers
    // (`%c`, `%r`, `%X`, `%+`) carry a time or an offset that a search for `%H` or
    // `%z` in the text misses (the time was then dropped, the offset ignored).
    let items: Vec<Item<'_>> = StrftimeItems::new(p).collect();
    let any = |f: &dyn Fn(&Item<'_>) -> bool| items.iter().any(f);
    let epoch = any(&|i| matches!(i, Item::Numeric(Numeric::Timestamp, _)));
    let has_offset = any(&|i| {
        matches!(
            i,
            Item::Fixed(
                Fixed::TimezoneOffset
                    | Fixed::TimezoneOffsetColon
                    | Fixed::TimezoneOffsetDoubleColon
                    | Fixed::TimezoneOffsetTripleColon
                    | Fixed::TimezoneOffsetColonZ
                    | Fixed::TimezoneOffsetZ
                    | Fixed::RFC2822
                    | Fixed::RFC3339
            )
        )
    });
    let has_time = any(&|i| {
        matches!(
            i,
            Item::Numeric(
                Numeric::Hour
                    | Numeric::Hour12
                    | Numeric::Minute
                    | Numeric::Second
                    | Numeric::Nanosecond,
                _
            ) | Item::Fixed(
                Fixed::LowerAmPm
                    | Fixed::UpperAmPm
                    | Fixed::Nanosecond
                    | Fixed::Nanosecond3
                    | Fixed::Nanosecond6
                    | Fixed::Nanosecond9
            )
        )
    });
    let bad = |e: chrono::ParseError| {
        TimeError::Syntax(format!(
            "`{s}` does not match the declared format `{p}` ({e})"
        ))
    };
    if has_offset {
        let dt = DateTime::parse_from_str(s, p).map_err(bad)?;
        return Ts::from_utc(dt.with_timezone(&Utc)).ok_or(TimeError::OutOfRange);
    }
    if epoch {
        // Seconds since the epoch name an instant, whatever the source's zone.
        let ndt = NaiveDateTime::parse_from_str(s, p).map_err(bad)?;
        return Ts::from_utc(ndt.and_utc()).ok_or(TimeError::OutOfRange);
    }
    if has_time {
        let ndt = NaiveDateTime::parse_from_str(s, p).map_err(bad)?;
        localize(ndt, fmt)
    } else {
        let d = NaiveDate::parse_from_str(s, p).map_err(bad)?;
        localize_date(d, fmt)
    }
}

/// Resolve a wall-clock time in the declared zone.
fn localize(ndt: NaiveDateTime, fmt: &TsFormat) -> Result<Ts, TimeError> {
    let zone = fmt.zone.ok_or(TimeError::NoZone)?;
    let dt = match zone.from_local_datetime(&ndt) {
        LocalResult::Single(dt) => dt,
        LocalResult::Ambiguous(a, b) => match fmt.ambiguous {
            AmbiguousPolicy::Error => return Err(TimeError::Ambiguous(zone.name().to_string())),
            AmbiguousPolicy::Earliest => a.min(b),
            AmbiguousPolicy::Latest => a.max(b),
        },
        LocalResult::None => return Err(TimeError::Nonexistent(zone.name().to_string())),
    };
    Ts::from_utc(dt.with_timezone(&Utc)).ok_or(TimeError::OutOfRange)
}

fn localize_date(d: NaiveDate, fmt: &TsFormat) -> Result<Ts, TimeError> {
    let sem = fmt.dates.ok_or(TimeError::DateOnly)?;
    let zone = fmt.zone.ok_or(TimeError::NoZone)?;
    match sem {
        DateSemantics::StartOfDay => Ok(start_of_day(d, zone)?),
        DateSemantics::EndOfDay => {
            let next = d.succ_opt().ok_or(TimeError::OutOfRange)?;
            Ok(Ts(start_of_day(next, zone)?.0 - 1))
        }
    }
}

/// The first instant of a local date (a DST gap at midnight moves it forward).
fn start_of_day(d: NaiveDate, zone: Tz) -> Result<Ts, TimeError> {
    earliest_at_or_after(d.and_time(NaiveTime::MIN), zone)
}

/// The instant of a wall-clock time, or of the first valid time after a DST gap;
/// a repeated time takes its first occurrence.
fn earliest_at_or_after(ndt: NaiveDateTime, zone: Tz) -> Result<Ts, TimeError> {
    let mut probe = ndt;
    // DST gaps are at most a few hours; step in minutes until a valid time appears.
    for _ in 0..(26 * 60) {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(dt) => {
                return Ts::from_utc(dt.with_timezone(&Utc)).ok_or(TimeError::OutOfRange);
            }
            LocalResult::Ambiguous(a, b) => {
                return Ts::from_utc(a.min(b).with_timezone(&Utc)).ok_or(TimeError::OutOfRange);
            }
            LocalResult::None => {
                let next = probe + Duration::minutes(1);
                probe = next
                    .with_second(0)
                    .and_then(|t| t.with_nanosecond(0))
                    .unwrap_or(next);
            }
        }
    }
    Err(TimeError::Nonexistent(zone.name().to_string()))
}

/// A deadline length as a catalog writes it (`72h`, `0.25h`, `30d`, `10bd`, `1mo`, `1y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Span {
    /// Exact elapsed time in nanoseconds (h, m/min, s; weeks are 7 calendar days).
    Exact(i64),
    /// Calendar days on the clock's wall time.
    Days(u32),
    /// Business days in the clock's calendar.
    BusinessDays(u32),
    /// Calendar months (end of month clamps).
    Months(u32),
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Span::Exact(n) => f.write_str(&format_elapsed(n)),
            Span::Days(d) => write!(f, "{d} calendar day{}", plural(u64::from(d))),
            Span::BusinessDays(d) => write!(f, "{d} business day{}", plural(u64::from(d))),
            Span::Months(m) if m % 12 == 0 => {
                write!(f, "{} year{}", m / 12, plural(u64::from(m / 12)))
            }
            Span::Months(m) => write!(f, "{m} month{}", plural(u64::from(m))),
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Parse a span: a sum of `<number><unit>` terms for exact time (`1h30m`), or a single
/// whole `<n>d`, `<n>w`, `<n>bd`, `<n>mo` or `<n>y`.
pub fn parse_span(s: &str) -> Result<Span, String> {
    let t = s.trim();
    let bad = || {
        format!("`{s}` is not a duration: use e.g. 72h, 0.25h, 90m, 1h30m, 30d, 2w, 10bd, 1mo, 1y")
    };
    if t.is_empty() {
        return Err(bad());
    }
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    // Zero is refused as `0h` is: a zero-day deadline from a repeated local time
    // (the second 01:30 of a DST change) would fall before its own start.
    let whole = |n: &str| n.parse::<u32>().ok().filter(|&v| v > 0).ok_or_else(bad);
    match unit {
        "d" => return whole(num).map(Span::Days),
        "w" => return whole(num).map(|w| Span::Days(w.saturating_mul(7))),
        "bd" => return whole(num).map(Span::BusinessDays),
        "mo" => return whole(num).map(Span::Months),
        "y" => return whole(num).map(|y| Span::Months(y.saturating_mul(12))),
        _ => {}
    }
    // Exact: one or more terms of h, m/min, s.
    let mut total: i128 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let (num, tail) = rest.split_at(end);
        let uend = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(uend);
        let per: i128 = match unit {
            "h" => i128::from(NANOS_PER_HOUR),
            "m" | "min" => 60 * i128::from(NANOS_PER_SEC),
            "s" => i128::from(NANOS_PER_SEC),
            _ => return Err(bad()),
        };
        total += decimal_times(num, per).ok_or_else(bad)?;
        rest = next;
    }
    if total <= 0 || total > i128::from(i64::MAX / 4) {
        return Err(bad());
    }
    Ok(Span::Exact(total as i64))
}

/// `num` (a decimal like `0.25`) times `per`, exactly, rounded down to a nanosecond.
fn decimal_times(num: &str, per: i128) -> Option<i128> {
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() && frac.is_empty() || frac.len() > 9 {
        return None;
    }
    let i: i128 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut v = i.checked_mul(per)?;
    if !frac.is_empty() {
        let f: i128 = frac.parse().ok()?;
        v += f * per / 10i128.pow(frac.len() as u32);
    }
    Some(v)
}

/// A business-day calendar: weekend days and holidays, in a time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    /// Calendar id from the catalog.
    pub id: String,
    /// Zone whose wall clock counts days.
    pub zone: Tz,
    /// Days that are never business days.
    pub weekend: Vec<Weekday>,
    /// Dates that are not business days.
    pub holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Saturday and Sunday off, no holidays, in UTC.
    pub fn plain(zone: Tz) -> Calendar {
        Calendar {
            id: "weekdays".into(),
            zone,
            weekend: vec![Weekday::Sat, Weekday::Sun],
            holidays: BTreeSet::new(),
        }
    }

    /// Is this local date a business day?
    pub fn is_business_day(&self, d: NaiveDate) -> bool {
        !self.weekend.contains(&d.weekday()) && !self.holidays.contains(&d)
    }
}

/// The wall clock on which day-based deadlines are counted.
#[derive(Debug, Clone, Copy)]
pub struct Clock<'a> {
    /// Zone of the wall clock.
    pub zone: Tz,
    /// Calendar for business days (weekends only when absent).
    pub calendar: Option<&'a Calendar>,
}

/// The deadline `span` after `start` on `clock`.
///
/// Exact spans add elapsed time. Calendar days and months keep the wall-clock time in
/// the clock's zone (a time skipped by DST moves to the first valid time after it).
/// Business days: a start on a non-business day counts from 00:00 of the next business
/// day; each business day added keeps the wall-clock time.
pub fn add_span(start: Ts, span: Span, clock: Clock<'_>) -> Result<Ts, TimeError> {
    match span {
        Span::Exact(n) => start.0.checked_add(n).map(Ts).ok_or(TimeError::OutOfRange),
        Span::Days(d) => {
            let local = start.to_utc().with_timezone(&clock.zone).naive_local();
            let target = local
                .checked_add_days(chrono::Days::new(u64::from(d)))
                .ok_or(TimeError::OutOfRange)?;
            earliest_at_or_after(target, clock.zone)
        }
        Span::Months(m) => {
            let local = start.to_utc().with_timezone(&clock.zone).naive_local();
            let target = local
                .checked_add_months(Months::new(m))
                .ok_or(TimeError::OutOfRange)?;
            earliest_at_or_after(target, clock.zone)
        }
        Span::BusinessDays(n) => {
            let fallback;
            let cal = match clock.calendar {
                Some(c) => c,
                None => {
                    fallback = Calendar::plain(clock.zone);
                    &fallback
                }
            };
            if n > MAX_SPAN_DAYS {
                return Err(TimeError::OutOfRange);
            }
            let local = start.to_utc().with_timezone(&cal.zone).naive_local();
            let mut date = local.date();
            let mut time = local.time();
            if !cal.is_business_day(date) {
                time = NaiveTime::MIN;
                date = next_business_day(cal, date)?;
            }
            for _ in 0..n {
                date = next_business_day(cal, date)?;
            }
            earliest_at_or_after(date.and_time(time), cal.zone)
        }
    }
}

/// The instant `span` before `t`, counted in UTC for day-based spans (business days
/// are counted as weekdays).
pub fn sub_span(t: Ts, span: Span) -> Option<Ts> {
    let dt = t.to_utc();
    let back = match span {
        Span::Exact(n) => return t.0.checked_sub(n).map(Ts),
        Span::Days(d) => dt.checked_sub_days(chrono::Days::new(u64::from(d)))?,
        Span::Months(m) => dt.checked_sub_months(Months::new(m))?,
        Span::BusinessDays(n) => {
            if n > MAX_SPAN_DAYS {
                return None;
            }
            let mut d = dt;
            let mut left = n;
            while left > 0 {
                d = d.checked_sub_days(chrono::Days::new(1))?;
                if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                    left -= 1;
                }
            }
            d
        }
    };
    Ts::from_utc(back)
}

/// More days than the instants of `Ts` span (1677-2262): a business-day span this long
/// ends out of range, so it is refused before counting (bounded time on any catalog).
const MAX_SPAN_DAYS: u32 = 214_000;

fn next_business_day(cal: &Calendar, mut d: NaiveDate) -> Result<NaiveDate, TimeError> {
    // A calendar where no day is a business day would loop: stop after ten years.
    for _ in 0..3660 {
        d = d.succ_opt().ok_or(TimeError::OutOfRange)?;
        if cal.is_business_day(d) {
            return Ok(d);
        }
    }
    Err(TimeError::Impossible(format!(
        "calendar `{}` has no business day in ten years",
        cal.id
    )))
}

/// Human-readable elapsed time: `91 h 05 min`, `45 min 10 s`, `1 ms`, `-2 h 00 min`.
pub fn format_elapsed(nanos: i64) -> String {
    let neg = nanos < 0;
    let n = nanos.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    let ns = n % 1_000_000_000;
    let secs = n / 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let body = if h >= 240 {
        // Ten days and more read better in days.
        format!("{} d {:02} h", h / 24, h % 24)
    } else if h > 0 {
        if s == 0 && ns == 0 {
            format!("{h} h {m:02} min")
        } else {
            format!("{h} h {m:02} min {s:02}{} s", frac(ns))
        }
    } else if m > 0 {
        format!("{m} min {s:02}{} s", frac(ns))
    } else if s > 0 {
        format!("{s}{} s", frac(ns))
    } else if ns.is_multiple_of(1_000_000) {
        format!("{} ms", ns / 1_000_000)
    } else {
        format!("{ns} ns")
    };
    format!("{sign}{body}")
}

fn frac(ns: u64) -> String {
    if ns == 0 {
        String::new()
    } else if ns.is_multiple_of(1_000_000) {
        format!(".{:03}", ns / 1_000_000)
    } else {
        format!(".{ns:09}")
    }
}

/// Parse a zone name (IANA, e.g. `America/New_York`, or `UTC`).
pub fn parse_zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>().map_err(|_| {
        format!(
            "`{name}` is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)"
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The hand-written formatter against chrono's calendar, over the whole range.
    fn chrono_rfc3339(t: Ts) -> String {
        let dt = t.to_utc();
        let (_, nanos) = t.split();
        let mut s = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
        if nanos != 0 {
            let digits = format!("{nanos:09}");
            let keep = if nanos % 1_000_000 == 0 {
                3
            } else if nanos % 1_000 == 0 {
                6
            } else {
                9
            };
            s.push('.');
            s.push_str(&digits[..keep]);
        }
        s.push('Z');
        s
    }

    use proptest::strategy::Strategy as _;

    /// The general reader's instant for `s`, if it reads one with an offset.
    fn general(s: &str) -> Option<Ts> {
        match parse_iso_general(s) {
            Ok(Iso::Full(t)) => Some(t),
            _ => None,
        }
    }

    proptest::proptest! {
        /// `parse_usual` against the general reader: on values of the usual layout
        /// (fields a little out of range included), then with any one byte replaced
        /// by a digit, a separator or any byte. It may decline a value (the general
        /// reader then reads it), never read one differently or read what the general
        /// reader rejects; and it reads every value of the usual layout that the general
        /// reader reads as an instant.
        #[test]
        fn usual_layout_agrees_with_the_general_reader(
            (y, mo, d, h, mi, sec) in (proptest::prop_oneof![0u32..10_000, 1678u32..2262], 0u32..14, 0u32..33, 0u32..25, 0u32..61, 0u32..61),
            frac in proptest::option::of("[0-9]{0,10}"),
            offset in proptest::prop_oneof![
                proptest::strategy::Just("Z".to_string()),
                "[+-](0[0-9]|1[0-9]|2[0-5]):[0-6][0-9]",
            ],
            change in proptest::option::of((0usize..40, proptest::prop_oneof![
                proptest::char::range('0', '9').prop_map(|c| c as u8),
                proptest::sample::select(b"-:T.Z+ /tz".to_vec()),
                proptest::num::u8::ANY,
            ])),
        ) {
            let mut s = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}");
            if let Some(f) = &frac {
                s.push('.');
                s.push_str(f);
            }
            s.push_str(&offset);
            let valid = (1..=12).contains(&mo)
                && d >= 1
                && d <= days_in_month(y, mo)
                && h <= 23
                && mi <= 59
                && sec <= 59
                && frac.as_ref().is_none_or(|f| (1..=9).contains(&f.len()))
                && offset[1..].split(':').all(|x| x.parse::<u32>().is_ok_and(|v| v <= 59))
                && offset.get(1..3).is_none_or(|x| x.parse::<u32>().is_ok_and(|v| v <= 23));
            let mut b = s.into_bytes();
            if let Some((at, byte)) = change
                && let Some(x) = b.get_mut(at)
            {
                *x = byte;
            }
            let fast = parse_usual(&b);
            match std::str::from_utf8(&b) {
                Ok(s) => {
                    if let Some(t) = fast {
                        proptest::prop_assert_eq!(Some(t), general(s), "{}", s);
                    }
                    // (In the range of an instant: years 1677 to 2262.)
                    if change.is_none() && valid && general(s).is_some() {
                        proptest::prop_assert!(fast.is_some(), "{}", s);
                    }
                }
                // Not text: no field holds it; the usual reader must decline it.
                Err(_) => proptest::prop_assert_eq!(fast, None),
            }
        }

        #[test]
        fn display_agrees_with_chrono(x in i64::MIN + 1..i64::MAX, unit in 0usize..4) {
            // Whole seconds, milliseconds, microseconds and nanoseconds all occur.
            let t = Ts(x - x % [1_000_000_000, 1_000_000, 1_000, 1][unit]);
            proptest::prop_assert_eq!(t.to_string(), chrono_rfc3339(t));
        }
    }

    #[test]
    fn display_at_the_edges() {
        for (t, want) in [
            (Ts(0), "1970-01-01T00:00:00Z"),
            (Ts(-1), "1969-12-31T23:59:59.999999999Z"),
            (Ts(951_782_400 * NANOS_PER_SEC), "2000-02-29T00:00:00Z"),
            (Ts(i64::MAX), "2262-04-11T23:47:16.854775807Z"),
            (Ts(i64::MIN), "1677-09-21T00:12:43.145224192Z"),
        ] {
            assert_eq!(t.to_string(), want);
            assert_eq!(t.to_string(), chrono_rfc3339(t));
        }
    }

    fn utc() -> TsFormat {
        TsFormat::default()
    }

    fn ts(s: &str) -> Ts {
        parse_ts(s, &utc()).unwrap()
    }

    #[test]
    fn rfc3339_offsets_are_instants() {
        assert_eq!(ts("2025-01-01T02:00:00+02:00"), ts("2025-01-01T00:00:00Z"));
        assert_eq!(ts("2024-12-31T19:00:00-05:00"), ts("2025-01-01T00:00:00Z"));
        assert_eq!(ts("2025-01-01T05:30:00+05:30"), ts("2025-01-01T00:00:00z"));
        assert_eq!(ts("2025-01-01T00:00:00-00:00"), ts("2025-01-01T00:00:00Z"));
        assert_eq!(ts("2025-01-01 00:00:00+0000"), ts("2025-01-01T00:00:00Z"));
    }

    #[test]
    fn nanoseconds_are_kept() {
        let a = ts("2025-01-01T00:00:00.000000001Z");
        let b = ts("2025-01-01T00:00:00Z");
        assert_eq!(a.0 - b.0, 1);
        assert_eq!(
            ts("2021-08-17T13:28:57.801578Z").to_string(),
            "2021-08-17T13:28:57.801578Z"
        );
        assert_eq!(
            ts("2025-01-01T00:00:00.5Z").to_string(),
            "2025-01-01T00:00:00.500Z"
        );
        assert_eq!(b.to_string(), "2025-01-01T00:00:00Z");
        // Digits past the ninth are read and ignored (ten once overflowed a `u32`
        // in `parse_usual`: a panic where overflow is checked, as in `cargo test`).
        assert_eq!(
            ts("2025-01-01T00:00:00.4300000009Z"),
            ts("2025-01-01T00:00:00.43Z")
        );
    }

    #[test]
    fn rejects_bad_values() {
        let cases = [
            ("2025-02-30T00:00:00Z", "impossible"),
            ("2025-01-01T24:00:01Z", "impossible"),
            ("2025-13-01T00:00:00Z", "impossible"),
            ("not a date", "not a timestamp"),
            ("2025-01-01T00:00:00+2:00", "not a timestamp"),
            ("2025-01-01T00:00:00.Z", "not a timestamp"),
            ("2025-01-01T00:00:00Zjunk", "not a timestamp"),
            ("2025-01-01T00:00:00", "no UTC offset"),
            ("2025-01-01", "date without a time"),
        ];
        for (s, want) in cases {
            let e = parse_ts(s, &utc()).unwrap_err().to_string();
            assert!(e.contains(want), "{s}: {e}");
        }
    }

    #[test]
    fn naive_with_zone_is_dst_correct() {
        let ny = TsFormat {
            zone: Some(parse_zone("America/New_York").unwrap()),
            ..TsFormat::default()
        };
        // Winter: UTC-5; summer: UTC-4.
        assert_eq!(
            parse_ts("2025-01-15T09:00:00", &ny).unwrap(),
            ts("2025-01-15T14:00:00Z")
        );
        assert_eq!(
            parse_ts("2025-07-15T09:00:00", &ny).unwrap(),
            ts("2025-07-15T13:00:00Z")
        );
        // 2025-03-09 02:30 does not exist in New York.
        let e = parse_ts("2025-03-09T02:30:00", &ny).unwrap_err();
        assert!(matches!(e, TimeError::Nonexistent(_)));
        // 2025-11-02 01:30 happens twice.
        let e = parse_ts("2025-11-02T01:30:00", &ny).unwrap_err();
        assert!(matches!(e, TimeError::Ambiguous(_)));
        let earliest = TsFormat {
            ambiguous: AmbiguousPolicy::Earliest,
            ..ny.clone()
        };
        assert_eq!(
            parse_ts("2025-11-02T01:30:00", &earliest).unwrap(),
            ts("2025-11-02T05:30:00Z")
        );
        let latest = TsFormat {
            ambiguous: AmbiguousPolicy::Latest,
            ..ny
        };
        assert_eq!(
            parse_ts("2025-11-02T01:30:00", &latest).unwrap(),
            ts("2025-11-02T06:30:00Z")
        );
    }

    #[test]
    fn patterns_and_dates() {
        let f = TsFormat {
            pattern: Some("%d-%m-%Y %H:%M".into()),
            zone: Some(Tz::UTC),
            ..TsFormat::default()
        };
        assert_eq!(
            parse_ts("29-02-2016 13:05", &f).unwrap(),
            ts("2016-02-29T13:05:00Z")
        );
        let jira = TsFormat {
            pattern: Some("%d/%b/%y %I:%M %p".into()),
            zone: Some(parse_zone("Europe/Berlin").unwrap()),
            ..TsFormat::default()
        };
        assert_eq!(
            parse_ts("25/Feb/26 10:17 PM", &jira).unwrap(),
            ts("2026-02-25T21:17:00Z")
        );
        let d = TsFormat {
            zone: Some(Tz::UTC),
            dates: Some(DateSemantics::EndOfDay),
            ..TsFormat::default()
        };
        assert_eq!(
            parse_ts("2025-01-01", &d).unwrap().0,
            ts("2025-01-02T00:00:00Z").0 - 1
        );
    }

    #[test]
    fn spans() {
        assert_eq!(parse_span("72h").unwrap(), Span::Exact(72 * NANOS_PER_HOUR));
        assert_eq!(
            parse_span("0.25h").unwrap(),
            Span::Exact(NANOS_PER_HOUR / 4)
        );
        assert_eq!(
            parse_span("1h30m").unwrap(),
            Span::Exact(90 * 60 * NANOS_PER_SEC)
        );
        assert_eq!(parse_span("10bd").unwrap(), Span::BusinessDays(10));
        assert_eq!(parse_span("2w").unwrap(), Span::Days(14));
        assert_eq!(parse_span("1y").unwrap(), Span::Months(12));
        for bad in ["", "72", "h", "3x", "-1h", "0h", "1.5d", "1h-2m"] {
            assert!(parse_span(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hour_deadlines_ignore_dst_but_days_follow_the_wall_clock() {
        let ny = parse_zone("America/New_York").unwrap();
        let clock = Clock {
            zone: ny,
            calendar: None,
        };
        // Saturday 2025-03-08 12:00 EST; DST starts the next night.
        let start = ts("2025-03-08T17:00:00Z");
        let h = add_span(start, Span::Exact(24 * NANOS_PER_HOUR), clock).unwrap();
        assert_eq!(h, ts("2025-03-09T17:00:00Z"));
        let d = add_span(start, Span::Days(1), clock).unwrap();
        assert_eq!(d, ts("2025-03-09T16:00:00Z"), "noon EDT is 16:00Z");
    }

    #[test]
    fn business_days_skip_weekends_and_holidays() {
        let mut cal = Calendar::plain(Tz::UTC);
        cal.holidays
            .insert(NaiveDate::from_ymd_opt(2025, 1, 20).unwrap());
        let clock = Clock {
            zone: Tz::UTC,
            calendar: Some(&cal),
        };
        // Friday 2025-01-17 10:00 + 1bd: Monday is a holiday -> Tuesday 10:00.
        let d = add_span(ts("2025-01-17T10:00:00Z"), Span::BusinessDays(1), clock).unwrap();
        assert_eq!(d, ts("2025-01-21T10:00:00Z"));
        // Saturday start counts from Tuesday 00:00 (next business day), +1bd -> Wednesday 00:00.
        let d = add_span(ts("2025-01-18T10:00:00Z"), Span::BusinessDays(1), clock).unwrap();
        assert_eq!(d, ts("2025-01-22T00:00:00Z"));
    }

    #[test]
    fn elapsed_formatting() {
        assert_eq!(
            format_elapsed(91 * NANOS_PER_HOUR + 5 * 60 * NANOS_PER_SEC),
            "91 h 05 min"
        );
        assert_eq!(format_elapsed(1_000_000), "1 ms");
        assert_eq!(format_elapsed(-2 * NANOS_PER_HOUR), "-2 h 00 min");
        assert_eq!(
            format_elapsed(72 * NANOS_PER_HOUR + 1_000_000),
            "72 h 00 min 00.001 s"
        );
    }
}
