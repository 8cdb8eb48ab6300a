//! Property tests: time arithmetic, deadline verdicts, filters and verdict
//! aggregation, each against an independent model written here.
//!
//! The models use their own calendar arithmetic (days from a civil date, after
//! Howard Hinnant's algorithms) and, for time zones, only the UTC -> local direction
//! of the tz database (the offset in force at an instant); evidentia resolves local
//! times the other way round. Where both agree on random inputs, neither is likely
//! to share a mistake with the other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Weekday};
use chrono_tz::Tz;
use evidentia::assess::{self, Assessment, Period, Scope};
use evidentia::catalog::{self, filter::Cond};
use evidentia::diag::Diags;
use evidentia::evidence::{read, sources, tables};
use evidentia::rules::Verdict;
use evidentia::time::{
    AmbiguousPolicy, Calendar, Clock, TimeError, Ts, TsFormat, add_span, parse_span, parse_ts,
    parse_zone,
};
use proptest::prelude::*;

const NS: i64 = 1_000_000_000;
const HOUR: i64 = 3600 * NS;
const DAY: i64 = 24 * HOUR;

// ---------------------------------------------------------------------------------
// An independent civil calendar.

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An instant written at a UTC offset (minutes), with `digits` fraction digits.
fn render(t: i64, offset_min: i64, digits: usize) -> String {
    let local = t + offset_min * 60 * NS;
    let days = local.div_euclid(DAY);
    let in_day = local.rem_euclid(DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = in_day / NS;
    let nanos = in_day % NS;
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if digits > 0 {
        let f = format!("{nanos:09}");
        s.push('.');
        s.push_str(&f[..digits]);
    }
    if offset_min == 0 && digits.is_multiple_of(2) {
        s.push('Z');
    } else {
        let sign = if offset_min < 0 { '-' } else { '+' };
        let a = offset_min.abs();
        s.push_str(&format!("{sign}{:02}:{:02}", a / 60, a % 60));
    }
    s
}

/// An instant in 1990..2100 with as many nanoseconds as `digits` fraction digits hold.
fn instant(digits: usize) -> impl Strategy<Value = i64> {
    let unit = 10i64.pow(9 - digits as u32);
    (631_152_000i64..4_102_444_800i64, 0..NS / unit).prop_map(move |(s, f)| s * NS + f * unit)
}

fn offset() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(0i64),
        -(23 * 60 + 59)..=(23 * 60 + 59i64),
        Just(330),
        Just(-210),
        Just(765)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// An RFC 3339 value at any offset and precision is the instant the model says.
    #[test]
    fn rfc3339_at_any_offset_is_the_model_instant(
        (digits, t) in (0usize..=9).prop_flat_map(|d| (Just(d), instant(d))),
        off in offset(),
    ) {
        let s = render(t, off, digits);
        prop_assert_eq!(parse_ts(&s, &TsFormat::default()), Ok(Ts(t)), "{}", s);
        // And what evidentia prints reads back to the same nanosecond.
        prop_assert_eq!(parse_ts(&Ts(t).to_string(), &TsFormat::default()), Ok(Ts(t)));
    }

    /// Any date and time of four-digit years, valid or not, reads as chrono says: the
    /// same instant, or an impossible date or time.
    #[test]
    fn any_date_and_time_agrees_with_chrono(
        y in 0u32..=9999, mo in 0u32..=13, d in 0u32..=32,
        h in 0u32..=24, mi in 0u32..=60, sec in 0u32..=60, off in offset(),
    ) {
        let sign = if off < 0 { '-' } else { '+' };
        let s = format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.5{sign}{:02}:{:02}",
            off.abs() / 60,
            off.abs() % 60
        );
        let leap = sec == 60;
        let want = chrono::NaiveDate::from_ymd_opt(y as i32, mo, d)
            .and_then(|dt| dt.and_hms_nano_opt(h, mi, if leap { 59 } else { sec }, if leap { 999_999_999 } else { 500_000_000 }))
            .map(|dt| dt.and_utc().timestamp_nanos_opt().map(|n| n - off * 60 * NS));
        match (parse_ts(&s, &TsFormat::default()), want) {
            (Ok(t), Some(Some(n))) => prop_assert_eq!(t, Ts(n), "{}", s),
            (Err(TimeError::Impossible(_)), None) => {}
            (Err(TimeError::OutOfRange), Some(None)) => {}
            (got, want) => prop_assert!(false, "{}: {:?}, chrono {:?}", s, got, want),
        }
    }

    /// `within: 72h` on instants: on time iff end <= start + 72 h, to the nanosecond.
    #[test]
    fn exact_spans_are_elapsed_nanoseconds(
        start in instant(9),
        delta in prop_oneof![Just(0i64), Just(1), Just(-1), -2 * HOUR..2 * HOUR],
        zone in zone_name(),
    ) {
        let span = parse_span("72h").unwrap();
        let clock = Clock { zone: parse_zone(zone).unwrap(), calendar: None };
        let deadline = add_span(Ts(start), span, clock).unwrap();
        prop_assert_eq!(deadline.0, start + 72 * HOUR);
        let end = Ts(start + 72 * HOUR + delta);
        prop_assert_eq!(end <= deadline, delta <= 0);
    }
}

fn zone_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("UTC"),
        Just("America/New_York"),
        Just("Europe/Berlin"),
        Just("Australia/Lord_Howe")
    ]
}

// ---------------------------------------------------------------------------------
// Daylight-saving time: naive local times against a model built from offsets.

/// The UTC offsets (seconds) in force within two days of a local time.
fn offsets_near(zone: Tz, local: NaiveDateTime) -> BTreeSet<i32> {
    let l = local.and_utc().timestamp();
    let mut offsets = BTreeSet::new();
    let mut probe = l - 2 * 86_400;
    while probe <= l + 2 * 86_400 {
        let utc = chrono::DateTime::from_timestamp(probe, 0)
            .unwrap()
            .naive_utc();
        offsets.insert(zone.offset_from_utc_datetime(&utc).fix().local_minus_utc());
        probe += 900;
    }
    offsets
}

/// What a naive local time is in `zone`, from the offsets in force around it: every
/// instant `local - offset` whose own offset is that offset.
fn model_local(zone: Tz, local: NaiveDateTime, offsets: &BTreeSet<i32>) -> Vec<i64> {
    let l = local.and_utc().timestamp();
    let mut out: Vec<i64> = offsets
        .iter()
        .map(|&off| l - i64::from(off))
        .filter(|&t| {
            let utc = chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc();
            i64::from(zone.offset_from_utc_datetime(&utc).fix().local_minus_utc()) == l - t
        })
        .collect();
    out.sort();
    out.dedup();
    out.into_iter()
        .map(|s| s * NS + i64::from(local.nanosecond()))
        .collect()
}

fn check_local(
    zone_name: &str,
    local: NaiveDateTime,
    offsets: &BTreeSet<i32>,
) -> Result<Vec<i64>, String> {
    let zone = parse_zone(zone_name).unwrap();
    let text = local.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
    let want = model_local(zone, local, offsets);
    for policy in [
        AmbiguousPolicy::Error,
        AmbiguousPolicy::Earliest,
        AmbiguousPolicy::Latest,
    ] {
        let fmt = TsFormat {
            zone: Some(zone),
            ambiguous: policy,
            ..TsFormat::default()
        };
        let got = parse_ts(&text, &fmt);
        let ok = match (want.as_slice(), &got, policy) {
            ([], Err(TimeError::Nonexistent(_)), _) => true,
            ([one], Ok(t), _) => t.0 == *one,
            ([_, _], Err(TimeError::Ambiguous(_)), AmbiguousPolicy::Error) => true,
            ([a, _], Ok(t), AmbiguousPolicy::Earliest) => t.0 == *a,
            ([_, b], Ok(t), AmbiguousPolicy::Latest) => t.0 == *b,
            _ => false,
        };
        if !ok {
            return Err(format!(
                "{zone_name} {text} ({policy:?}): model {want:?}, evidentia {got:?}"
            ));
        }
    }
    Ok(want)
}

/// The local dates of a zone's transitions in a year (days whose UTC offset at the
/// end differs from the start).
fn transition_days(zone: Tz, year: i32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let off = |d: NaiveDate| {
        let utc = d.and_hms_opt(12, 0, 0).unwrap();
        zone.offset_from_utc_datetime(&utc).fix().local_minus_utc()
    };
    while d.year() == year {
        let next = d.succ_opt().unwrap();
        if off(d) != off(next) {
            out.push(d);
            out.push(next);
        }
        d = next;
    }
    out
}

/// Every minute of every transition day, 2020-2030, in three zones (one with a
/// half-hour shift): each parses to the model's instant, or is rejected as
/// nonexistent or ambiguous exactly when the model finds none or two.
#[test]
fn dst_transitions_minute_by_minute() {
    let mut seen_gap = 0;
    let mut seen_overlap = 0;
    for name in ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe"] {
        let zone = parse_zone(name).unwrap();
        for year in 2020..=2030 {
            for day in transition_days(zone, year) {
                let offsets = offsets_near(zone, day.and_hms_opt(12, 0, 0).unwrap());
                for minute in 0..(24 * 60) {
                    let local = day.and_hms_opt(minute / 60, minute % 60, 0).unwrap();
                    match check_local(name, local, &offsets) {
                        Ok(w) if w.is_empty() => seen_gap += 1,
                        Ok(w) if w.len() == 2 => seen_overlap += 1,
                        Ok(_) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }
    }
    // New York and Berlin skip and repeat 60 minutes, Lord Howe 30, each year.
    assert_eq!(seen_gap, 11 * (60 + 60 + 30));
    assert_eq!(seen_overlap, 11 * (60 + 60 + 30));
}

fn local_near_transition() -> impl Strategy<Value = (&'static str, NaiveDateTime)> {
    (
        prop_oneof![
            Just("America/New_York"),
            Just("Europe/Berlin"),
            Just("Australia/Lord_Howe")
        ],
        1990i32..2037,
        0usize..4,
        -1i64..=1,
        0u32..(6 * 3600),
        0u32..1_000_000_000,
    )
        .prop_map(|(name, year, which, shift, secs, nanos)| {
            let zone = parse_zone(name).unwrap();
            let days = transition_days(zone, year);
            let day = days[which % days.len()] + chrono::Duration::days(shift);
            let t = day.and_hms_opt(0, 0, 0).unwrap()
                + chrono::Duration::seconds(i64::from(secs))
                + chrono::Duration::nanoseconds(i64::from(nanos));
            (name, t)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Random naive local times (with nanoseconds) around transitions, 1990-2036.
    #[test]
    fn dst_local_times_match_the_offset_model((name, local) in local_near_transition()) {
        let offsets = offsets_near(parse_zone(name).unwrap(), local);
        let r = check_local(name, local, &offsets);
        prop_assert!(r.is_ok(), "{}", r.unwrap_err());
    }
}

// ---------------------------------------------------------------------------------
// Calendar days, months and leap days.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `Nd` keeps the wall-clock time and moves the date by N days (UTC and a zone
    /// without DST), across leap days.
    #[test]
    fn calendar_days_move_the_date(
        year in 1996i64..2104,
        month in prop_oneof![Just(2u32), Just(3), 1u32..=12],
        day in 1u32..=31,
        secs in 0i64..86_400,
        n in prop_oneof![1u32..=3, 1u32..=1500],
        zone in prop_oneof![Just("UTC"), Just("Asia/Kolkata")],
    ) {
        let day = day.min(days_in_month(year, month));
        let off = if zone == "UTC" { 0 } else { 330 * 60 };
        let start = (days_from_civil(year, month, day) * 86_400 + secs - off) * NS;
        let span = parse_span(&format!("{n}d")).unwrap();
        let clock = Clock { zone: parse_zone(zone).unwrap(), calendar: None };
        let got = add_span(Ts(start), span, clock).unwrap();
        let want = ((days_from_civil(year, month, day) + i64::from(n)) * 86_400 + secs - off) * NS;
        prop_assert_eq!(got.0, want);
    }

    /// `Nmo` / `Ny` keep the day of month, clamped to the month's last day (Jan 31 +
    /// 1mo is Feb 29 in a leap year, Feb 28 otherwise; Feb 29 + 1y is Feb 28).
    #[test]
    fn months_clamp_to_the_end_of_the_month(
        year in 1996i64..2104,
        month in 1u32..=12,
        day in prop_oneof![28u32..=31, 1u32..=31],
        secs in 0i64..86_400,
        n in 1u32..=60,
        years in any::<bool>(),
    ) {
        let day = day.min(days_in_month(year, month));
        let months = if years { 12 * (n % 5 + 1) } else { n };
        let text = if years { format!("{}y", n % 5 + 1) } else { format!("{n}mo") };
        let start = (days_from_civil(year, month, day) * 86_400 + secs) * NS;
        let got = add_span(Ts(start), parse_span(&text).unwrap(), Clock { zone: Tz::UTC, calendar: None }).unwrap();
        let idx = year * 12 + i64::from(month - 1) + i64::from(months);
        let (y, m) = (idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1);
        let d = day.min(days_in_month(y, m));
        prop_assert_eq!(got.0, (days_from_civil(y, m, d) * 86_400 + secs) * NS, "{} + {}", Ts(start), text);
    }
}

#[test]
fn leap_day_examples() {
    let utc = Clock {
        zone: Tz::UTC,
        calendar: None,
    };
    let t = |s: &str| parse_ts(s, &TsFormat::default()).unwrap();
    let add = |s: &str, span: &str| add_span(t(s), parse_span(span).unwrap(), utc).unwrap();
    assert_eq!(
        add("2024-01-31T10:00:00Z", "1mo"),
        t("2024-02-29T10:00:00Z")
    );
    assert_eq!(
        add("2025-01-31T10:00:00Z", "1mo"),
        t("2025-02-28T10:00:00Z")
    );
    assert_eq!(add("2024-02-29T10:00:00Z", "1y"), t("2025-02-28T10:00:00Z"));
    assert_eq!(add("2024-02-28T23:00:00Z", "1d"), t("2024-02-29T23:00:00Z"));
    assert_eq!(add("2100-02-28T23:00:00Z", "1d"), t("2100-03-01T23:00:00Z"));
    assert_eq!(add("2000-02-28T23:00:00Z", "1d"), t("2000-02-29T23:00:00Z"));
    assert!(parse_ts("2025-02-29T00:00:00Z", &TsFormat::default()).is_err());
    assert!(parse_ts("2100-02-29T00:00:00Z", &TsFormat::default()).is_err());
    assert!(parse_ts("2000-02-29T00:00:00Z", &TsFormat::default()).is_ok());
}

// ---------------------------------------------------------------------------------
// Business days.

#[derive(Debug, Clone)]
struct Cal {
    weekend: Vec<Weekday>,
    holidays: BTreeSet<NaiveDate>,
    zone: &'static str,
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn calendar() -> impl Strategy<Value = Cal> {
    (
        proptest::sample::subsequence(WEEK.to_vec(), 0..=5),
        proptest::collection::btree_set(0i64..730, 0..80),
        prop_oneof![Just("UTC"), Just("Asia/Tokyo"), Just("America/New_York")],
    )
        .prop_map(|(weekend, hol, zone)| Cal {
            weekend,
            holidays: hol
                .into_iter()
                .map(|d| NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(d))
                .collect(),
            zone,
        })
}

impl Cal {
    fn build(&self) -> Calendar {
        let mut c = Calendar::plain(parse_zone(self.zone).unwrap());
        c.id = "random".into();
        c.weekend = self.weekend.clone();
        c.holidays = self.holidays.clone();
        c
    }
    /// The model's own idea of a business day.
    fn business(&self, d: NaiveDate) -> bool {
        !self.weekend.iter().any(|w| *w == d.weekday()) && !self.holidays.contains(&d)
    }
}

fn local(t: Ts, zone: &str) -> NaiveDateTime {
    t.to_utc()
        .with_timezone(&parse_zone(zone).unwrap())
        .naive_local()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `Nbd` lands on a business day after the start, N business days later (the
    /// day after a non-business start counts from its midnight), and adding N then M
    /// business days is adding N + M.
    #[test]
    fn business_days_count_and_add_up(
        cal in calendar(),
        start_s in 1_735_689_600i64..1_767_225_600, // 2025
        // Whole minutes outside 00:00-04:00: no DST gap moves the wall-clock time.
        minute in 240i64..1440,
        n in 1u32..40,
        m in 1u32..40,
    ) {
        let zone = parse_zone(cal.zone).unwrap();
        let c = cal.build();
        let clock = Clock { zone, calendar: Some(&c) };
        let day0 = local(Ts(start_s * NS), cal.zone).date();
        let start_local = day0.and_hms_opt(0, 0, 0).unwrap() + chrono::Duration::minutes(minute);
        let Some(start) = zone.from_local_datetime(&start_local).single() else { return Ok(()) };
        let start = Ts(start.timestamp() * NS);
        let span = |k: u32| parse_span(&format!("{k}bd")).unwrap();
        let r = add_span(start, span(n), clock).unwrap();
        let rl = local(r, cal.zone);
        prop_assert!(r > start);
        prop_assert!(cal.business(rl.date()), "{} is not a business day", rl);
        let between = (1..)
            .map(|i| day0 + chrono::Duration::days(i))
            .take_while(|d| *d <= rl.date())
            .filter(|d| cal.business(*d))
            .count() as u32;
        if cal.business(day0) {
            prop_assert_eq!(between, n);
            prop_assert_eq!(rl.time(), start_local.time());
            let nm = add_span(start, span(n + m), clock).unwrap();
            prop_assert_eq!(add_span(r, span(m), clock).unwrap(), nm);
            prop_assert!(nm > r);
        } else {
            prop_assert_eq!(between, n + 1);
            prop_assert_eq!(rl.time(), chrono::NaiveTime::MIN);
        }
    }
}

/// A span too long for any instant is refused quickly, not counted day by day.
#[test]
fn huge_business_day_spans_are_bounded() {
    let t0 = std::time::Instant::now();
    let start = parse_ts("2025-01-01T00:00:00Z", &TsFormat::default()).unwrap();
    let clock = Clock {
        zone: Tz::UTC,
        calendar: None,
    };
    let span = parse_span("4294967295bd").unwrap();
    assert!(add_span(start, span, clock).is_err());
    assert!(evidentia::time::sub_span(start, span).is_none());
    assert!(t0.elapsed() < std::time::Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------
// Filters against a model evaluator.

/// A generated test row of incidents (canonical columns).
#[derive(Debug, Clone)]
struct Row {
    severity: Option<&'static str>,
    title: Option<&'static str>,
    data_breach: Option<bool>,
    users: Option<i64>,
    declared: Option<i64>,
    resolved: Option<i64>,
}

const SEVERITIES: &[&str] = &["sev1", "sev2", "SEV1", "sev3"];
const TITLES: &[&str] = &["Leak", "x"];
const BASE: i64 = 1_751_328_000 * NS; // 2025-07-01T00:00:00Z, the as-of

fn row() -> impl Strategy<Value = Row> {
    let t = prop_oneof![
        Just(None),
        (-800i64..30).prop_map(|d| Some(BASE + d * DAY)),
        (-3i64..=3).prop_map(|d| Some(BASE + d)),
        (-340 * 365i64..-250 * 365).prop_map(|d| Some((BASE / DAY + d) * DAY)),
    ];
    (
        proptest::option::of(proptest::sample::select(SEVERITIES)),
        proptest::option::of(proptest::sample::select(TITLES)),
        proptest::option::of(any::<bool>()),
        proptest::option::of(-2i64..3),
        t.clone(),
        t,
    )
        .prop_map(
            |(severity, title, data_breach, users, declared, resolved)| Row {
                severity,
                title,
                data_breach,
                users,
                declared,
                resolved,
            },
        )
}

#[derive(Debug, Clone)]
enum F {
    All(Vec<F>),
    Any(Vec<F>),
    Not(Box<F>),
    /// Several keys in one mapping: all of them.
    Map(Vec<F>),
    SevEq(&'static str),
    SevIn(Vec<&'static str>),
    TitleSet(bool),
    ResolvedNull,
    Breach(bool),
    Users(i64),
    /// declared_at compared with as_of (None), resolved_at (Some(None)) or an instant.
    Declared(&'static str, Option<Option<i64>>),
    WithinLast(&'static str),
}

fn leaf() -> impl Strategy<Value = F> {
    prop_oneof![
        proptest::sample::select(SEVERITIES).prop_map(F::SevEq),
        proptest::collection::vec(proptest::sample::select(SEVERITIES), 0..3).prop_map(F::SevIn),
        any::<bool>().prop_map(F::TitleSet),
        Just(F::ResolvedNull),
        any::<bool>().prop_map(F::Breach),
        (-2i64..3).prop_map(F::Users),
        (
            proptest::sample::select(&["before", "after", "not_before", "not_after"][..]),
            prop_oneof![
                Just(None),
                Just(Some(None)),
                (-3i64..=3).prop_map(|d| Some(Some(BASE + d)))
            ]
        )
            .prop_map(|(op, r)| F::Declared(op, r)),
        proptest::sample::select(&["72h", "90d", "1y", "10bd", "1000y", "1h30m"][..])
            .prop_map(F::WithinLast),
    ]
}

fn cond() -> impl Strategy<Value = F> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(F::All),
            proptest::collection::vec(inner.clone(), 0..4).prop_map(F::Any),
            inner.clone().prop_map(|f| F::Not(Box::new(f))),
            proptest::collection::vec(inner, 2..4).prop_map(F::Map),
        ]
    })
}

fn ts_json(t: i64) -> serde_json::Value {
    serde_json::Value::String(Ts(t).to_string())
}

/// The condition as a catalog writes it (`Map` merges its parts' keys; a key taken
/// twice becomes an `all`).
fn to_json(f: &F) -> serde_json::Value {
    use serde_json::json;
    match f {
        F::All(v) => json!({ "all": v.iter().map(to_json).collect::<Vec<_>>() }),
        F::Any(v) => json!({ "any": v.iter().map(to_json).collect::<Vec<_>>() }),
        F::Not(x) => json!({ "not": to_json(x) }),
        F::Map(v) => {
            let mut m = serde_json::Map::new();
            let mut rest = Vec::new();
            for x in v {
                let j = to_json(x);
                let obj = j.as_object().unwrap();
                if obj.keys().any(|k| m.contains_key(k)) {
                    rest.push(j.clone());
                } else {
                    m.extend(obj.clone());
                }
            }
            if !rest.is_empty() {
                let key = if m.contains_key("all") { "any" } else { "all" };
                if key == "any" {
                    // Wrap in a fresh all so the keys stay distinct.
                    let mut parts = vec![serde_json::Value::Object(m)];
                    parts.extend(rest);
                    return json!({ "all": parts });
                }
                m.insert("all".into(), serde_json::Value::Array(rest));
            }
            serde_json::Value::Object(m)
        }
        F::SevEq(s) => json!({ "severity": s }),
        F::SevIn(v) => json!({ "severity": v }),
        F::TitleSet(b) => json!({ "title": { "set": b } }),
        F::ResolvedNull => json!({ "resolved_at": null }),
        F::Breach(b) => json!({ "data_breach": b }),
        F::Users(n) => json!({ "users_affected": n }),
        F::Declared(op, r) => {
            let arg = match r {
                None => json!("as_of"),
                Some(None) => json!("resolved_at"),
                Some(Some(t)) => ts_json(*t),
            };
            json!({ "declared_at": { *op: arg } })
        }
        F::WithinLast(s) => json!({ "declared_at": { "within_last": s } }),
    }
}

/// The start of `(as_of - span, as_of]`, by the model's own arithmetic (day-based
/// spans count in UTC; business days skip Saturdays and Sundays). `None`: before
/// the first instant evidentia represents, so the window holds every earlier instant.
fn window_start(as_of: i64, span: &str) -> Option<i64> {
    let day = as_of.div_euclid(DAY);
    let tod = as_of.rem_euclid(DAY);
    let from = match span {
        "72h" => as_of - 72 * HOUR,
        "1h30m" => as_of - 90 * 60 * NS,
        "90d" => as_of - 90 * DAY,
        "10bd" => {
            let mut d = day;
            let mut left = 10;
            while left > 0 {
                d -= 1;
                // 1970-01-01 was a Thursday.
                if !matches!((d + 3).rem_euclid(7), 5 | 6) {
                    left -= 1;
                }
            }
            d * DAY + tod
        }
        y => {
            let years: i64 = y.trim_end_matches('y').parse().unwrap();
            let (yy, m, dd) = civil_from_days(day);
            let yy = yy - years;
            if yy < 1678 {
                return None;
            }
            days_from_civil(yy, m, dd.min(days_in_month(yy, m))) * DAY + tod
        }
    };
    Some(from)
}

fn model(f: &F, r: &Row, as_of: i64) -> bool {
    match f {
        F::All(v) | F::Map(v) => v.iter().all(|x| model(x, r, as_of)),
        F::Any(v) => v.iter().any(|x| model(x, r, as_of)),
        F::Not(x) => !model(x, r, as_of),
        F::SevEq(s) => r.severity == Some(*s),
        F::SevIn(v) => r.severity.is_some_and(|s| v.contains(&s)),
        F::TitleSet(b) => r.title.is_some() == *b,
        F::ResolvedNull => r.resolved.is_none(),
        F::Breach(b) => r.data_breach == Some(*b),
        F::Users(n) => r.users == Some(*n),
        F::Declared(op, rf) => {
            let Some(a) = r.declared else { return false };
            let b = match rf {
                None => as_of,
                Some(None) => match r.resolved {
                    Some(b) => b,
                    None => return false,
                },
                Some(Some(t)) => *t,
            };
            match *op {
                "before" => a < b,
                "after" => a > b,
                "not_before" => a >= b,
                _ => a <= b,
            }
        }
        F::WithinLast(s) => {
            let Some(x) = r.declared else { return false };
            match window_start(as_of, s) {
                Some(from) => x > from && x <= as_of,
                None => x <= as_of,
            }
        }
    }
}

fn write_rows(dir: &std::path::Path, rows: &[Row]) {
    let mut csv =
        String::from("id,severity,title,data_breach,users_affected,declared_at,resolved_at\n");
    for (i, r) in rows.iter().enumerate() {
        let t = |x: Option<i64>| x.map(|t| Ts(t).to_string()).unwrap_or_default();
        csv.push_str(&format!(
            "R{i},{},{},{},{},{},{}\n",
            r.severity.unwrap_or(""),
            r.title.unwrap_or(""),
            r.data_breach.map(|b| b.to_string()).unwrap_or_default(),
            r.users.map(|b| b.to_string()).unwrap_or_default(),
            t(r.declared),
            t(r.resolved),
        ));
    }
    std::fs::write(dir.join("incidents.csv"), csv).unwrap();
}

fn load_rows(rows: &[Row]) -> evidentia::evidence::Evidence {
    let dir = tempfile::tempdir().unwrap();
    write_rows(dir.path(), rows);
    let mut diags = Diags::default();
    let srcs = sources::compile_text(
        "tables:\n  incidents: { file: incidents.csv }\n",
        "sources.yaml",
        dir.path(),
        &mut diags,
    );
    assert!(!diags.has_errors());
    let def = tables::table("incidents").unwrap();
    let mut needs = read::Needs::new();
    needs.insert(def.name, (0..def.fields.len()).collect());
    let ev = read::load(&srcs, &needs);
    assert!(!ev.diags.has_errors(), "{:?}", ev.diags.items);
    ev
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A compiled condition decides every record as the model does, and obeys the
    /// laws of `not`, `all` and `any`.
    #[test]
    fn filters_agree_with_the_model(
        f in cond(),
        g in cond(),
        rows in proptest::collection::vec(row(), 1..12),
        as_of_shift in prop_oneof![Just(0i64), -2i64..=2, -(30 * DAY)..(30 * DAY)],
    ) {
        let ev = load_rows(&rows);
        let t = ev.table("incidents").unwrap();
        let def = t.def;
        let compile = |j: &serde_json::Value| {
            let mut errs = Vec::new();
            let c = Cond::compile(j, def, &mut errs);
            assert!(errs.is_empty(), "{j}: {errs:?}");
            c
        };
        let (jf, jg) = (to_json(&f), to_json(&g));
        let (cf, cg) = (compile(&jf), compile(&jg));
        let as_of = BASE + as_of_shift;
        let not = |c: &Cond| Cond::Not(Box::new(c.clone()));
        for (i, r) in rows.iter().enumerate() {
            let row = t.row_of(&format!("R{i}")).unwrap();
            let x = cf.eval(t, row, Ts(as_of));
            let y = cg.eval(t, row, Ts(as_of));
            prop_assert_eq!(x, model(&f, r, as_of), "{} on {:?} at {}", jf, r, Ts(as_of));
            prop_assert_eq!(y, model(&g, r, as_of));
            prop_assert_eq!(not(&cf).eval(t, row, Ts(as_of)), !x);
            prop_assert_eq!(Cond::All(vec![cf.clone(), cg.clone()]).eval(t, row, Ts(as_of)), x && y);
            prop_assert_eq!(Cond::Any(vec![cf.clone(), cg.clone()]).eval(t, row, Ts(as_of)), x || y);
            prop_assert_eq!(
                not(&Cond::Any(vec![cf.clone(), cg.clone()])).eval(t, row, Ts(as_of)),
                Cond::All(vec![not(&cf), not(&cg)]).eval(t, row, Ts(as_of))
            );
            prop_assert!(Cond::All(vec![]).eval(t, row, Ts(as_of)));
            prop_assert!(!Cond::Any(vec![]).eval(t, row, Ts(as_of)));
        }
    }
}

// ---------------------------------------------------------------------------------
// Deadline verdicts and their aggregation, through the whole library pipeline.

const CATALOG: &str = "\
checks:
  - id: contain-72h
    title: Contained within 72 hours of declaration
    rule: deadline
    population: { table: incidents }
    start: declared_at
    end: contained_at
    within: 72h
    warn_before: 24h
  - id: contain-72h-lenient
    title: Same, not-evaluable records not counted
    rule: deadline
    not_evaluable: ignore
    population: { table: incidents }
    start: declared_at
    end: contained_at
    within: 72h
  - id: titled
    title: Every incident has a title
    rule: required
    population: { table: incidents }
    fields: [title]
frameworks:
  - id: fw
    name: Test
    controls:
      - { id: C1, title: Containment, checks: [contain-72h, contain-72h-lenient] }
      - { id: C2, title: Titles, checks: [titled] }
";

#[derive(Debug, Clone)]
struct Inc {
    declared: Option<(i64, i64, usize)>,
    /// contained_at - (declared_at + 72h), its offset and digits.
    end: Option<(i64, i64, usize)>,
    titled: bool,
}

fn inc() -> impl Strategy<Value = Inc> {
    let delta = prop_oneof![
        Just(0i64),
        Just(1),
        Just(-1),
        -(80 * HOUR)..(4 * HOUR),
        -NS..NS
    ];
    (
        proptest::option::weighted(0.9, (instant(9), offset(), Just(9usize))),
        proptest::option::of((delta, offset(), 0usize..=9)),
        any::<bool>(),
    )
        .prop_map(|(declared, end, titled)| Inc {
            declared,
            end,
            titled,
        })
}

/// The model's verdict for `contain-72h`.
fn deadline_model(i: &Inc, as_of: i64) -> Verdict {
    let Some((start, _, _)) = i.declared else {
        return Verdict::NotEvaluable;
    };
    let deadline = start + 72 * HOUR;
    match i.end {
        Some((delta, _, _)) => {
            if deadline + delta <= deadline {
                Verdict::Pass
            } else {
                Verdict::Exception
            }
        }
        None => {
            let left = deadline - as_of;
            if left < 0 {
                Verdict::Exception
            } else if left <= 24 * HOUR {
                Verdict::AtRisk
            } else {
                Verdict::Pending
            }
        }
    }
}

fn pipeline(dir: &std::path::Path, as_of: i64) -> Assessment {
    let mut diags = Diags::default();
    let cat = catalog::load_texts(
        &[("catalog.yaml".into(), CATALOG.into(), String::new())],
        &mut diags,
    );
    assert!(!diags.has_errors(), "{:?}", diags.finish());
    let srcs = sources::compile_text(
        "tables:\n  incidents: { file: incidents.csv }\n",
        "sources.yaml",
        dir,
        &mut diags,
    );
    assert!(!diags.has_errors(), "{:?}", diags.finish());
    let scope = Scope {
        as_of: Ts(as_of),
        period: Period {
            start: None,
            end: None,
        },
        frameworks: vec![],
        sample: None,
    };
    let checks = assess::selected_checks(&cat, &scope.frameworks);
    let needs = assess::needs(&checks);
    let mut ev = read::load(&srcs, &needs);
    assert!(!ev.diags.has_errors(), "{:?}", ev.diags.items);
    assess::apply_period(&mut ev, scope.period);
    assess::assess(&cat, &ev, &scope)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Each record's verdict is the model's (times written at random offsets and
    /// precisions, ends at the deadline's nanosecond boundaries), and the counts of
    /// every check add up: population = passed + waived + pending + at-risk +
    /// exceptions + not-evaluable + rejected, exceptions_count = exceptions +
    /// counted not-evaluable + rejected, and every non-passing record is listed.
    #[test]
    fn deadline_verdicts_and_counts(
        incs in proptest::collection::vec(inc(), 0..25),
        as_of in instant(0),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut csv = String::from("id,title,declared_at,contained_at\n");
        for (i, x) in incs.iter().enumerate() {
            let declared = x.declared.map(|(t, off, d)| render(t, off, d)).unwrap_or_default();
            let contained = match (x.declared, x.end) {
                (Some((t, _, _)), Some((delta, off, d))) => {
                    // Whole fraction digits only: keep `d` digits of the end instant.
                    let end = t + 72 * HOUR + delta;
                    let unit = 10i64.pow(9 - d as u32);
                    if end.rem_euclid(unit) == 0 { render(end, off, d) } else { render(end, off, 9) }
                }
                _ => String::new(),
            };
            let title = if x.titled { "T" } else { "" };
            csv.push_str(&format!("I{i},{title},{declared},{contained}\n"));
        }
        std::fs::write(dir.path().join("incidents.csv"), csv).unwrap();
        let a = pipeline(dir.path(), as_of);
        for c in &a.checks {
            let count = |v: Verdict| c.records.iter().filter(|r| r.verdict == v).count() as u64;
            let exceptions = count(Verdict::Exception);
            let ne_counted = c.records.iter().filter(|r| r.verdict == Verdict::NotEvaluable && r.counts_as_exception).count() as u64;
            prop_assert_eq!(c.population, incs.len() as u64);
            prop_assert_eq!(
                c.population,
                c.passed + c.waived + c.pending + c.at_risk + exceptions + c.not_evaluable + c.rejected
            );
            prop_assert_eq!(c.exceptions_count, exceptions + ne_counted);
            prop_assert_eq!(c.records.len() as u64, c.population - c.passed);
        }
        let check = |id: &str| a.checks.iter().find(|c| c.id == id).unwrap();
        let strict = check("contain-72h");
        let lenient = check("contain-72h-lenient");
        prop_assert_eq!(strict.exceptions_count, lenient.exceptions_count + strict.not_evaluable);
        for (i, x) in incs.iter().enumerate() {
            let id = format!("I{i}");
            let got = strict.records.iter().find(|r| r.record_id() == id).map(|r| r.verdict).unwrap_or(Verdict::Pass);
            prop_assert_eq!(got, deadline_model(x, as_of), "{} {:?} as of {}", id, x, Ts(as_of));
        }
        let titled = check("titled");
        prop_assert_eq!(titled.exceptions_count, incs.iter().filter(|x| !x.titled).count() as u64);
        // Control results add up their checks.
        for ctl in &a.controls {
            let sum: u64 = ctl.checks.iter().map(|id| check(id).exceptions_count).sum();
            prop_assert_eq!(ctl.exceptions, sum);
            let pop: u64 = ctl.checks.iter().map(|id| check(id).population).sum();
            prop_assert_eq!(ctl.population, pop);
        }
    }
}

// ---------------------------------------------------------------------------------
// A deadline is never before its start.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// For any span evidentia accepts and a start anywhere around a DST change
    /// (including the repeated hour), the deadline is at or after the start.
    #[test]
    fn deadlines_are_never_before_the_start(
        (name, local) in local_near_transition(),
        later in any::<bool>(),
        span in proptest::sample::select(&["0d", "0bd", "0mo", "0w", "0y", "1d", "1bd", "1mo", "1h", "90m"][..]),
    ) {
        let zone = parse_zone(name).unwrap();
        let start = match zone.from_local_datetime(&local) {
            chrono::LocalResult::Single(t) => t,
            chrono::LocalResult::Ambiguous(a, b) => if later { a.max(b) } else { a.min(b) },
            chrono::LocalResult::None => return Ok(()),
        };
        let start = Ts(start.timestamp_nanos_opt().unwrap());
        let Ok(span) = parse_span(span) else { return Ok(()) };
        let cal = Calendar::plain(zone);
        for clock in [Clock { zone, calendar: None }, Clock { zone, calendar: Some(&cal) }] {
            if let Ok(d) = add_span(start, span, clock) {
                prop_assert!(d >= start, "{:?} from {} ({} {}) is {}", span, start, name, local, d);
            }
        }
    }
}
