//! `evidentia catalog list|show|crosswalk`: the catalog as text and JSON, for people
//! and for tools. Deterministic like every output.

use std::fmt::Write;

use serde_json::{Value, json};

use super::Catalog;

/// Every framework with its controls and their checks.
pub fn list_json(cat: &Catalog) -> Value {
    json!({
        "frameworks": cat.frameworks.iter().map(|f| json!({
            "id": f.id,
            "name": f.name,
            "version": f.version,
            "source": f.source,
            "controls": f.controls.iter().map(|c| json!({
                "id": c.id,
                "title": c.title,
                "objective": c.objective,
                "reference": c.reference,
                "checks": c.checks,
                "manual": c.manual,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "checks": cat.checks.iter().map(|c| json!({
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
        })).collect::<Vec<_>>(),
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

/// One check, framework or `framework/control`, as JSON; `None` when unknown.
pub fn show_json(cat: &Catalog, id: &str) -> Option<Value> {
    let all = list_json(cat);
    if let Some(c) = all["checks"].as_array()?.iter().find(|c| c["id"] == id) {
        return Some(c.clone());
    }
    let (fid, cid) = match id.split_once('/') {
        Some((f, c)) => (f, Some(c)),
        None => (id, None),
    };
    let f = all["frameworks"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == fid)?;
    match cid {
        None => Some(f.clone()),
        Some(cid) => {
            let c = f["controls"].as_array()?.iter().find(|c| c["id"] == cid)?;
            let mut c = c.clone();
            let mapped: Vec<Value> = cat
                .crosswalk
                .iter()
                .filter(|m| {
                    (m.from_framework == fid && m.from == cid)
                        || (m.to_framework == fid && m.to == cid)
                })
                .map(|m| json!(m))
                .collect();
            c["framework"] = json!(fid);
            c["crosswalk"] = json!(mapped);
            Some(c)
        }
    }
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
        let rel = serde_json::to_value(m.relation)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
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
