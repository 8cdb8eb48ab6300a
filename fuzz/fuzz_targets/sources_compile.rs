//! sources.yaml: parse, schema-validate, compile every table source (formats,
//! zones, timestamp patterns, value maps, derived tables).
#![no_main]

use evidentia::diag::{Code, Diags};
use evidentia::evidence::sources::compile_text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fuzz_support::text(data) else {
        return;
    };
    let mut diags = Diags::default();
    let base = std::path::Path::new("/nonexistent-evidentia-fuzz");
    let sources = compile_text(text, "sources.yaml", base, &mut diags);
    let errors = diags.has_errors();
    for d in diags.finish() {
        assert!(
            d.file == "sources.yaml" || d.code == Code::TooManyErrors,
            "{d}"
        );
        assert!(
            d.line.is_some() || d.code == Code::TooManyErrors,
            "sources diagnostic without a line: {d}"
        );
    }
    if !errors {
        for s in &sources {
            assert!(
                !s.files.is_empty() || s.from.is_some(),
                "table {} reads nothing",
                s.def.name
            );
            for (&i, _) in &s.columns {
                assert!(i < s.def.fields.len());
            }
        }
    }
});
