//! Population filters: compile a condition (JSON, as a catalog's `where:` holds it)
//! against incidents or postmortems, then evaluate it on a fixed set of records
//! holding every kind of value (missing, blank, text, lists, booleans, numbers,
//! instants). Checks the boolean laws: `not`, `all`, `any`, De Morgan.
//!
//! Input: one selector byte (table and as-of), then a JSON value: one condition, or
//! a list of two.
#![no_main]

use std::sync::OnceLock;

use evidentia::catalog::filter::Cond;
use evidentia::diag::Diags;
use evidentia::evidence::tables::table;
use evidentia::evidence::{Evidence, read, sources};
use evidentia::time::Ts;
use libfuzzer_sys::fuzz_target;

const INCIDENTS: &str = "\
id,title,severity,classification,declared_at,resolved_at,data_breach,customer_impacting,users_affected,status
INC-1,Leaked key,sev1,security-incident,2025-03-01T10:00:00Z,2025-03-05T10:00:00Z,true,true,120,closed
INC-2,  ,sev2,event,2025-07-01T00:00:00Z,,false,,0,open
INC-3,Phish,SEV3,security-incident,2024-02-29T23:59:59.999999999Z,2024-03-01T00:00:00Z,,false,-5,
INC-4,,,,,,,,,
INC-5,Ünïcödé \u{1f} sep,sev1;sev2,event,1970-01-01T00:00:00Z,2262-04-11T23:47:16Z,true,false,9223372036854775807,closed
";

const POSTMORTEMS: &str = "\
id,incident_id,status,completed_at,lapses,takeaways
PM-1,INC-1,complete,2025-03-10T00:00:00Z,technical;process,Rotate keys
PM-2,INC-2,draft,,,
PM-3,INC-3,complete,2025-01-01T00:00:00+14:00,; ;manual-error;,  
PM-4,INC-5,in-review,2025-03-30T01:30:00Z,communication,x
";

const SOURCES: &str = "\
tables:
  incidents: { file: incidents.csv }
  postmortems: { file: postmortems.csv }
";

fn evidence() -> &'static Evidence {
    static EV: OnceLock<Evidence> = OnceLock::new();
    EV.get_or_init(|| {
        let dir = fuzz_support::scratch("filter");
        std::fs::write(dir.join("incidents.csv"), INCIDENTS).unwrap_or_default();
        std::fs::write(dir.join("postmortems.csv"), POSTMORTEMS).unwrap_or_default();
        let mut diags = Diags::default();
        let srcs = sources::compile_text(SOURCES, "sources.yaml", &dir, &mut diags);
        assert!(!diags.has_errors(), "{:?}", diags.finish());
        let ev = read::load(&srcs, &fuzz_support::all_needs());
        assert!(!ev.diags.has_errors(), "{:?}", ev.diags.items);
        ev
    })
}

const AS_OF: &[i64] = &[
    0,
    1_740_787_200_000_000_000, // 2025-03-01T00:00:00Z
    1_751_328_000_000_000_000, // 2025-07-01T00:00:00Z
    i64::MAX,
    i64::MIN,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let name = if sel & 1 == 0 {
        "incidents"
    } else {
        "postmortems"
    };
    let Some(def) = table(name) else { return };
    let as_of = Ts(AS_OF[usize::from(sel >> 1) % AS_OF.len()]);
    let (va, vb) = match &v {
        serde_json::Value::Array(items) if items.len() == 2 => (&items[0], &items[1]),
        _ => (&v, &v),
    };
    let mut errs = Vec::new();
    let a = Cond::compile(va, def, &mut errs);
    let b = Cond::compile(vb, def, &mut errs);
    for e in &errs {
        assert!(!e.message.is_empty());
        assert!(e.rel.is_empty() || e.rel.starts_with('/'), "{e:?}");
    }
    let mut fields = Vec::new();
    a.fields(&mut fields);
    b.fields(&mut fields);
    assert!(fields.iter().all(|&f| f < def.fields.len()));
    if !errs.is_empty() {
        return;
    }
    let ev = evidence();
    let Some(t) = ev.table(name) else { return };
    let not = |c: &Cond| Cond::Not(Box::new(c.clone()));
    for row in 0..t.len() as u32 {
        let x = a.eval(t, row, as_of);
        let y = b.eval(t, row, as_of);
        assert_eq!(not(&a).eval(t, row, as_of), !x);
        assert_eq!(not(&not(&a)).eval(t, row, as_of), x);
        assert_eq!(
            Cond::All(vec![a.clone(), b.clone()]).eval(t, row, as_of),
            x && y
        );
        assert_eq!(
            Cond::Any(vec![a.clone(), b.clone()]).eval(t, row, as_of),
            x || y
        );
        assert_eq!(
            not(&Cond::All(vec![a.clone(), b.clone()])).eval(t, row, as_of),
            Cond::Any(vec![not(&a), not(&b)]).eval(t, row, as_of)
        );
        // The same condition compiled twice decides the same.
        let mut e2 = Vec::new();
        assert_eq!(Cond::compile(va, def, &mut e2).eval(t, row, as_of), x);
    }
    assert!(Cond::All(vec![]).eval(t, 0, as_of));
    assert!(!Cond::Any(vec![]).eval(t, 0, as_of));
});
