//! Timestamps, durations and deadline arithmetic: `parse_ts` under every zone,
//! date and ambiguity policy (and arbitrary strftime patterns), `parse_span`,
//! `add_span` / `sub_span` with business-day calendars, `format_elapsed`, and the
//! command-line `parse_instant` / `parse_period`. Checks round trips and that a
//! deadline is never before its start.
#![no_main]

use std::collections::BTreeSet;

use arbitrary::Arbitrary;
use chrono::{NaiveDate, Weekday};
use evidentia::time::{
    AmbiguousPolicy, Calendar, Clock, DateSemantics, Span, Ts, TsFormat, add_span, format_elapsed,
    parse_span, parse_ts, parse_zone, sub_span,
};
use libfuzzer_sys::fuzz_target;

const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Apia",
    "America/St_Johns",
];

#[derive(Debug, Arbitrary)]
struct Input {
    value: String,
    pattern: Option<String>,
    zone: Option<u8>,
    dates: u8,
    ambiguous: u8,
    span: String,
    start: i64,
    clock_zone: u8,
    weekend: u8,
    holidays: Vec<(u16, u8, u8)>,
    nanos: i64,
}

fuzz_target!(|inp: Input| {
    let _ = run(inp);
});

fn run(inp: Input) -> Option<()> {
    let fmt = TsFormat {
        pattern: inp.pattern.clone(),
        zone: inp.zone.map(zone_of),
        dates: match inp.dates % 3 {
            0 => None,
            1 => Some(DateSemantics::StartOfDay),
            _ => Some(DateSemantics::EndOfDay),
        },
        ambiguous: match inp.ambiguous % 3 {
            0 => AmbiguousPolicy::Error,
            1 => AmbiguousPolicy::Earliest,
            _ => AmbiguousPolicy::Latest,
        },
    };
    if let Ok(t) = parse_ts(&inp.value, &fmt) {
        // What we print we read back to the same nanosecond.
        let shown = t.to_string();
        assert_eq!(parse_ts(&shown, &TsFormat::default()), Ok(t), "{shown}");
    }
    let _ = evidentia::parse_instant(&inp.value);
    let _ = evidentia::parse_period(&inp.value);
    // Any instant prints and reads back.
    let t = Ts(inp.nanos);
    assert_eq!(parse_ts(&t.to_string(), &TsFormat::default()), Ok(t));
    let _ = format_elapsed(inp.nanos);

    let span = parse_span(&inp.span).ok()?;
    let _ = span.to_string();
    let mut cal = Calendar::plain(zone_of(inp.clock_zone));
    cal.weekend = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .enumerate()
    .filter(|(i, _)| inp.weekend & (1 << i) != 0)
    .map(|(_, d)| d)
    .collect();
    cal.holidays = inp
        .holidays
        .iter()
        .filter_map(|&(y, m, d)| {
            NaiveDate::from_ymd_opt(
                1970 + i32::from(y % 400),
                u32::from(m % 13),
                u32::from(d % 32),
            )
        })
        .collect::<BTreeSet<_>>();
    let start = Ts(inp.start);
    for clock in [
        Clock {
            zone: cal.zone,
            calendar: None,
        },
        Clock {
            zone: cal.zone,
            calendar: Some(&cal),
        },
    ] {
        if let Ok(d) = add_span(start, span, clock) {
            assert!(
                d >= start,
                "{span:?} after {start} is {d}, before the start"
            );
            if let Span::Exact(n) = span {
                assert_eq!(d.0, start.0 + n);
            }
        }
    }
    if let Some(b) = sub_span(start, span) {
        assert!(b <= start, "{span:?} before {start} is {b}, after it");
    }
    Some(())
}

fn zone_of(i: u8) -> chrono_tz::Tz {
    let name = ZONES
        .get(usize::from(i) % ZONES.len())
        .copied()
        .unwrap_or("UTC");
    parse_zone(name).unwrap_or(chrono_tz::Tz::UTC)
}
