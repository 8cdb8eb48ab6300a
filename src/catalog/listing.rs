//! `evidentia catalog list|show|crosswalk`: the catalog as text and JSON, for people
//! and for tools. Deterministic like every output.

use std::fmt::Write;

use serde_json::{Value, json};

use super::{Catalog, Check, Control, Framework, Official};

/// The kebab-case name of a serialisable enum value (`deny`, `intersect`).
fn name_of<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// One control as JSON (`official` is null without official text).
fn control_json(c: &Control) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "objective": c.objective,
        "reference": c.reference,
        "checks": c.checks,
        "manual": c.manual,
        "official": c.official,
    })
}

/// One check as JSON.
fn check_json(cat: &Catalog, c: &Check) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "rule": c.rule.kind(),
        "table": c.table.name,
        "filter": c.filter_text,
        "severity": c.severity,
        "test": c.rule.describe(c.table),
        "file": c.origin.file,
        "line": c.origin.line,
        "controls": controls_of(cat, &c.id),
    })
}

/// Every framework with its controls and their checks.
pub fn list_json(cat: &Catalog) -> Value {
    json!({
        "frameworks": cat.frameworks.iter().map(|f| json!({
            "id": f.id,
            "name": f.name,
            "version": f.version,
            "source": f.source,
            "controls": f.controls.iter().map(control_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "checks": cat.checks.iter().map(|c| check_json(cat, c)).collect::<Vec<_>>(),
    })
}

/// `framework/control` ids that a check tests.
pub fn controls_of(cat: &Catalog, check: &str) -> Vec<String> {
    cat.frameworks
        .iter()
        .flat_map(|f| {
            f.controls
                .iter()
                .filter(|c| c.checks.iter().any(|x| x == check))
                .map(move |c| format!("{}/{}", f.id, c.id))
        })
        .collect()
}

/// The listing as text.
pub fn list_text(cat: &Catalog) -> String {
    let mut s = String::new();
    for f in &cat.frameworks {
        let _ = writeln!(
            s,
            "{} [{}]{}",
            f.name,
            f.id,
            f.version
                .as_ref()
                .map(|v| format!(" version {v}"))
                .unwrap_or_default()
        );
        for src in official_sources(f) {
            let _ = writeln!(s, "  official text: {src}");
        }
        for c in &f.controls {
            let what = if c.checks.is_empty() {
                format!("manual: {}", c.manual.as_deref().unwrap_or(""))
            } else {
                c.checks.join(", ")
            };
            let _ = writeln!(s, "  {:<12} {}\n               -> {what}", c.id, c.title);
        }
        s.push('\n');
    }
    let _ = writeln!(s, "Checks:");
    for c in &cat.checks {
        let _ = writeln!(
            s,
            "  {:<36} {:<11} {} ({})",
            c.id,
            c.rule.kind(),
            c.title,
            c.table.name
        );
    }
    s
}

/// What `catalog show ID` names.
enum Shown<'c> {
    Check(&'c Check),
    Framework(&'c Framework),
    Control(&'c Framework, &'c Control),
}

fn find<'c>(cat: &'c Catalog, id: &str) -> Option<Shown<'c>> {
    if let Some(c) = cat.check(id) {
        return Some(Shown::Check(c));
    }
    let (fid, cid) = match id.split_once('/') {
        Some((f, c)) => (f, Some(c)),
        None => (id, None),
    };
    let f = cat.frameworks.iter().find(|f| f.id == fid)?;
    match cid {
        None => Some(Shown::Framework(f)),
        Some(cid) => Some(Shown::Control(f, f.controls.iter().find(|c| c.id == cid)?)),
    }
}

/// Crosswalk mappings that name a control.
fn mappings_of<'c>(
    cat: &'c Catalog,
    fid: &'c str,
    cid: &'c str,
) -> impl Iterator<Item = &'c super::Mapping> {
    cat.crosswalk.iter().filter(move |m| {
        (m.from_framework == fid && m.from == cid) || (m.to_framework == fid && m.to == cid)
    })
}

/// One check, framework or `framework/control`, as JSON; `None` when unknown.
pub fn show_json(cat: &Catalog, id: &str) -> Option<Value> {
    Some(match find(cat, id)? {
        Shown::Check(c) => check_json(cat, c),
        Shown::Framework(f) => json!({
            "id": f.id,
            "name": f.name,
            "version": f.version,
            "source": f.source,
            "controls": f.controls.iter().map(control_json).collect::<Vec<_>>(),
        }),
        Shown::Control(f, c) => {
            let mut v = control_json(c);
            v["framework"] = json!(f.id);
            v["crosswalk"] = json!(mappings_of(cat, &f.id, &c.id).collect::<Vec<_>>());
            v
        }
    })
}

/// Distinct sources of a framework's official text, with how many controls each
/// gives ("FedRAMP Rev 5 Low Baseline, version ... (3 of 3 controls)").
fn official_sources(f: &Framework) -> Vec<String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for o in f.controls.iter().filter_map(|c| c.official.as_ref()) {
        let label = o.source_label();
        match seen.iter_mut().find(|(l, _)| *l == label) {
            Some((_, n)) => *n += 1,
            None => seen.push((label, 1)),
        }
    }
    seen.into_iter()
        .map(|(l, n)| format!("{l} ({n} of {} controls)", f.controls.len()))
        .collect()
}

/// A control's official text as indented lines.
fn official_text(o: &Official, s: &mut String) {
    let _ = writeln!(s, "\nOfficial text ({}):", o.source_label());
    let _ = writeln!(s, "  {} {}", o.oscal_id, o.title);
    for l in o.statement.lines() {
        let _ = writeln!(s, "  {l}");
    }
    if !o.parameters.is_empty() {
        let _ = writeln!(s, "  Parameters:");
        for p in &o.parameters {
            let label = p
                .label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            let _ = writeln!(s, "    {}{label}: {} [{}]", p.id, p.value, p.value_source);
        }
    }
    let _ = writeln!(
        s,
        "  Source: {} (SHA-256 {}; OSCAL {}; last modified {}); text at {}:{}",
        o.source.file,
        o.source.sha256,
        o.source.oscal_version,
        o.source.last_modified,
        o.origin.file,
        o.origin.line
    );
}

/// One check, framework or `framework/control`, as text; `None` when unknown.
pub fn show_text(cat: &Catalog, id: &str) -> Option<String> {
    let mut s = String::new();
    let opt = |label: &str, v: &Option<String>, s: &mut String| {
        if let Some(v) = v {
            let _ = writeln!(s, "{label}: {v}");
        }
    };
    match find(cat, id)? {
        Shown::Check(c) => {
            let _ = writeln!(s, "check {}: {}", c.id, c.title);
            let sev = name_of(c.severity);
            let _ = writeln!(
                s,
                "rule: {}; population: {}; severity: {sev}",
                c.rule.kind(),
                c.table.name
            );
            opt("filter", &c.filter_text, &mut s);
            let _ = writeln!(s, "test: {}", c.rule.describe(c.table));
            let _ = writeln!(s, "defined at: {}:{}", c.origin.file, c.origin.line);
            let ctl = controls_of(cat, &c.id);
            if !ctl.is_empty() {
                let _ = writeln!(s, "tests: {}", ctl.join(", "));
            }
        }
        Shown::Framework(f) => {
            let _ = writeln!(s, "{} [{}]", f.name, f.id);
            opt("version", &f.version, &mut s);
            opt("source", &f.source, &mut s);
            opt("description", &f.description, &mut s);
            for src in official_sources(f) {
                let _ = writeln!(s, "official text: {src}");
            }
            let _ = writeln!(s, "controls:");
            for c in &f.controls {
                let _ = writeln!(s, "  {:<12} {}", c.id, c.title);
            }
        }
        Shown::Control(f, c) => {
            let _ = writeln!(s, "{}/{}: {}", f.id, c.id, c.title);
            let _ = writeln!(s, "framework: {} [{}]", f.name, f.id);
            opt("reference", &c.reference, &mut s);
            opt("objective", &c.objective, &mut s);
            if !c.checks.is_empty() {
                let _ = writeln!(s, "checks: {}", c.checks.join(", "));
            }
            opt("manual", &c.manual, &mut s);
            let maps: Vec<_> = mappings_of(cat, &f.id, &c.id).collect();
            if !maps.is_empty() {
                let _ = writeln!(s, "crosswalk:");
                for m in maps {
                    let rel = name_of(m.relation);
                    let note = m
                        .note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "  {}/{} {rel} {}/{}{note}",
                        m.from_framework, m.from, m.to_framework, m.to
                    );
                }
            }
            match &c.official {
                Some(o) => official_text(o, &mut s),
                None => {
                    let _ = writeln!(
                        s,
                        "\nNo official text in the catalog (see `catalog import-oscal`)."
                    );
                }
            }
        }
    }
    Some(s)
}

/// The crosswalk as JSON: every mapping, and for each control the checks it shares
/// with controls of other frameworks.
pub fn crosswalk_json(cat: &Catalog) -> Value {
    let mut shared = Vec::new();
    for c in &cat.checks {
        let ctl = controls_of(cat, &c.id);
        if ctl.len() > 1 {
            shared.push(json!({ "check": c.id, "controls": ctl }));
        }
    }
    json!({ "mappings": cat.crosswalk, "shared_checks": shared })
}

/// The crosswalk as a text matrix.
pub fn crosswalk_text(cat: &Catalog) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{:<36} {:<10} to", "from", "relation");
    for m in &cat.crosswalk {
        let rel = name_of(m.relation);
        let _ = writeln!(
            s,
            "{:<36} {:<10} {}/{}",
            format!("{}/{}", m.from_framework, m.from),
            rel,
            m.to_framework,
            m.to
        );
    }
    let _ = writeln!(s, "\nChecks that test controls of several frameworks:");
    for c in &cat.checks {
        let ctl = controls_of(cat, &c.id);
        if ctl.len() > 1 {
            let _ = writeln!(s, "  {:<36} {}", c.id, ctl.join(", "));
        }
    }
    s
}
