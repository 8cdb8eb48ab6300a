//! Catalog YAML: parse, schema-validate, compile every check (rules, filters,
//! durations, calendars, crosswalks). Two files, so that duplicate ids and
//! references across files are reached: the input is split at the first `\n---8<---\n`.
#![no_main]

use evidentia::catalog::load_texts;
use evidentia::diag::Diags;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fuzz_support::text(data) else {
        return;
    };
    let (a, b) = text.split_once("\n---8<---\n").unwrap_or((text, ""));
    let texts = vec![
        ("a.yaml".to_string(), a.to_string(), String::new()),
        ("b.yaml".to_string(), b.to_string(), String::new()),
    ];
    let mut diags = Diags::default();
    let cat = load_texts(&texts, &mut diags);
    let errors = diags.has_errors();
    let list = diags.finish();
    // Every catalog problem points at one of the two files, at a line.
    for d in &list {
        assert!(
            d.file == "a.yaml"
                || d.file == "b.yaml"
                || d.code == evidentia::diag::Code::TooManyErrors,
            "{d}"
        );
        assert!(
            d.line.is_some() || d.code == evidentia::diag::Code::TooManyErrors,
            "catalog diagnostic without a line: {d}"
        );
    }
    if !errors {
        // A clean catalog: every control's checks exist; listing never panics.
        for f in &cat.frameworks {
            for c in &f.controls {
                for id in &c.checks {
                    assert!(cat.check(id).is_some(), "dangling check {id}");
                }
            }
        }
        let _ = evidentia::catalog::listing::list_text(&cat);
        let _ = evidentia::catalog::listing::crosswalk_text(&cat);
        for c in &cat.checks {
            let _ = c.rule.describe(c.table);
        }
    }
});
