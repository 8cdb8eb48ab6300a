//! `evidentia catalog import-oscal FILE --framework ID`: take the official text of
//! our framework's controls (title, statement, parameters) from an OSCAL catalog or
//! resolved-profile catalog (e.g. NIST SP 800-53 rev 5, a FedRAMP rev 5 baseline),
//! with the source file, its SHA-256, version and last-modified date, so the text can
//! be refreshed when the source changes. Part of the catalog stage.
//!
//! The result is a catalog file of its own with one top-level key, `control_text`
//! (the same types, [`Imported`], are written here and read back by the catalog
//! loader, so what the import writes is what the loader accepts); it never rewrites
//! the hand-written framework file. Its bytes depend only on the source's bytes, the
//! source path as given, the framework id and the framework's control ids: a re-run
//! on the same source writes the same file (refresh = re-run).
//!
//! Statements are rendered the way NIST renders them: item labels (`a.`, `1.`) before
//! the prose, and each parameter insertion replaced by its value (`values`), the
//! constraint a profile sets on it (FedRAMP's values), its choices
//! (`[Selection: ...]`), or `[Assignment: organization-defined <label>]`. One repair
//! of the source text: FedRAMP's JSON editions carry quotes escaped twice (`\"` where
//! the XML edition of the same version has `"`); the backslash is dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Layout version of the generated file.
pub const LAYOUT: u32 = 1;

/// Where the text came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The file read, as given.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// OSCAL document UUID.
    pub uuid: String,
    /// `metadata.title`.
    pub title: String,
    /// `metadata.version` (the catalog version, e.g. `5.1.1+u4`).
    pub version: String,
    /// `metadata.oscal-version`.
    pub oscal_version: String,
    /// `metadata.last-modified`.
    pub last_modified: String,
    /// `metadata.published`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

/// A parameter of a control.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// Parameter id (e.g. `ir-06_odp.01`).
    pub id: String,
    /// Label (e.g. `time period`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The value rendered in the statement.
    pub value: String,
    /// Where the value comes from: `values`, `constraint`, `select` or `unassigned`.
    pub value_source: String,
    /// What the organisation must define (the parameter's guideline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guideline: Option<String>,
}

/// One control's official text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ControlText {
    /// Our control id.
    pub id: String,
    /// The OSCAL control id.
    pub oscal_id: String,
    /// Official title.
    pub title: String,
    /// The statement, parameters filled in.
    pub statement: String,
    /// Parameters in the control's order.
    #[serde(default)]
    pub parameters: Vec<Param>,
}

/// The generated file's content, written under one top-level key `control_text`
/// and read back by the catalog loader (`schemas/catalog.schema.json`, `$defs/controlText`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Imported {
    /// Layout version ([`LAYOUT`]).
    pub layout: u32,
    /// Our framework id.
    pub framework: String,
    /// The command that refreshes this file (add `--out` and the file's path).
    #[serde(default)]
    pub refresh: String,
    /// The OSCAL source.
    pub source: Source,
    /// Controls found, in our framework's order.
    pub controls: Vec<ControlText>,
    /// Our controls the source does not contain.
    #[serde(default)]
    pub not_found: Vec<String>,
}

fn s(v: &Value) -> String {
    match v {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

/// Every control of a catalog (groups and enhancements included), by id.
fn index(cat: &Value) -> BTreeMap<String, &Value> {
    fn walk<'v>(v: &'v Value, out: &mut BTreeMap<String, &'v Value>) {
        for c in arr(&v["controls"]) {
            out.insert(s(&c["id"]), c);
            walk(c, out);
        }
        for g in arr(&v["groups"]) {
            walk(g, out);
        }
    }
    let mut m = BTreeMap::new();
    walk(cat, &mut m);
    m
}

fn label_of(v: &Value) -> Option<String> {
    // The plain `label` prop (no class), e.g. `a.`.
    arr(&v["props"])
        .iter()
        .find(|p| p["name"] == "label" && p.get("class").is_none())
        .map(|p| s(&p["value"]))
}

/// Render one parameter: its value text and where it comes from.
fn param_value(p: &Value, params: &BTreeMap<String, &Value>, depth: u32) -> (String, &'static str) {
    let values: Vec<String> = arr(&p["values"]).iter().map(s).collect();
    if !values.is_empty() {
        return (values.join(", "), "values");
    }
    let constraints: Vec<String> = arr(&p["constraints"])
        .iter()
        .map(|c| s(&c["description"]))
        .filter(|x| !x.trim().is_empty())
        .collect();
    if !constraints.is_empty() {
        return (
            format!("[Assignment: {}]", constraints.join("; ")),
            "constraint",
        );
    }
    if let Some(sel) = p.get("select") {
        let choices: Vec<String> = arr(&sel["choice"])
            .iter()
            .map(|c| fill(&s(c), params, depth + 1))
            .collect();
        let how = match sel["how-many"].as_str() {
            Some("one-or-more") => "Selection (one or more)",
            _ => "Selection",
        };
        return (format!("[{how}: {}]", choices.join("; ")), "select");
    }
    let label = p["label"].as_str().unwrap_or("value");
    (
        format!("[Assignment: organization-defined {label}]"),
        "unassigned",
    )
}

/// Replace `{{ insert: param, ID }}` in prose.
fn fill(prose: &str, params: &BTreeMap<String, &Value>, depth: u32) -> String {
    let mut out = String::new();
    let mut rest = prose;
    while let Some(i) = rest.find("{{") {
        let Some(j) = rest[i..].find("}}") else {
            break;
        };
        out.push_str(&rest[..i]);
        let inner = rest[i + 2..i + j].trim();
        let text = match inner.strip_prefix("insert:") {
            Some(args) => {
                let mut it = args.split(',').map(str::trim);
                let kind = it.next().unwrap_or("");
                let id = it.next().unwrap_or("");
                match (kind, params.get(id)) {
                    ("param", Some(p)) if depth < 8 => param_value(p, params, depth).0,
                    _ => format!("[{id}]"),
                }
            }
            None => rest[i..i + j + 2].to_string(),
        };
        out.push_str(&text);
        rest = &rest[i + j + 2..];
    }
    out.push_str(rest);
    // ` ;` left by NIST's prose before a parameter at the end of an item.
    out.replace(" ;", ";")
}

fn render_part(
    part: &Value,
    params: &BTreeMap<String, &Value>,
    indent: usize,
    out: &mut Vec<String>,
) {
    let pad = "  ".repeat(indent);
    let label = label_of(part);
    let prose = part["prose"].as_str().map(|p| fill(p, params, 0));
    let title = part["title"].as_str();
    let head = match (label, title, prose) {
        (Some(l), _, Some(p)) => Some(format!("{l} {p}")),
        (None, _, Some(p)) => Some(p),
        (Some(l), Some(t), None) => Some(format!("{l} {t}:")),
        (None, Some(t), None) => Some(format!("{t}:")),
        (Some(l), None, None) => Some(l),
        (None, None, None) => None,
    };
    let child_indent = if head.is_some() { indent + 1 } else { indent };
    if let Some(h) = head {
        out.push(format!("{pad}{}", h.trim_end()));
    }
    for p in arr(&part["parts"]) {
        render_part(p, params, child_indent, out);
    }
}

/// Undo the double escaping of quotes in FedRAMP's JSON editions (`\"` -> `"`).
fn tidy(x: &str) -> String {
    x.replace("\\\"", "\"")
}

fn control_text(our_id: &str, c: &Value) -> ControlText {
    let params: BTreeMap<String, &Value> =
        arr(&c["params"]).iter().map(|p| (s(&p["id"]), p)).collect();
    let mut lines = Vec::new();
    for p in arr(&c["parts"]).iter().filter(|p| p["name"] == "statement") {
        // The statement part itself has no label; render its prose and items.
        if let Some(prose) = p["prose"].as_str() {
            lines.push(fill(prose, &params, 0));
        }
        for sub in arr(&p["parts"]) {
            render_part(sub, &params, 0, &mut lines);
        }
    }
    let parameters = arr(&c["params"])
        .iter()
        .map(|p| {
            let (value, source) = param_value(p, &params, 0);
            Param {
                id: s(&p["id"]),
                label: p["label"].as_str().map(tidy),
                value: tidy(&value),
                value_source: source.to_string(),
                guideline: {
                    let g: Vec<String> = arr(&p["guidelines"])
                        .iter()
                        .map(|g| s(&g["prose"]))
                        .filter(|x| !x.is_empty())
                        .collect();
                    (!g.is_empty()).then(|| tidy(&g.join(" ")))
                },
            }
        })
        .collect();
    ControlText {
        id: our_id.to_string(),
        oscal_id: s(&c["id"]),
        title: tidy(&s(&c["title"])),
        statement: tidy(&lines.join("\n")),
        parameters,
    }
}

/// Whether the catalog's publisher is NIST or FedRAMP (US-government works: public
/// domain, released under CC0), from `metadata.parties`.
fn us_government(md: &Value) -> bool {
    const MARKS: [&str; 4] = [
        "nist.gov",
        "national institute of standards and technology",
        "fedramp.gov",
        "federal risk and authorization management program",
    ];
    arr(&md["parties"]).iter().any(|p| {
        let text = p.to_string().to_lowercase();
        MARKS.iter().any(|m| text.contains(m))
    })
}

/// Import the text of `controls` (our ids, in our order) from an OSCAL catalog's
/// bytes. `file` is the path as given (recorded in the source and in the refresh
/// command). Also returns the licence note for the generated file's header.
pub fn import(
    bytes: &[u8],
    file: &str,
    framework: &str,
    controls: &[String],
) -> Result<(Imported, &'static str), String> {
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .and_then(|i| bytes.get(i));
    if trimmed == Some(&b'<') {
        return Err(format!(
            "{file}: an OSCAL XML file; evidentia reads OSCAL JSON (convert it with NIST's oscal-cli, or use the JSON edition)"
        ));
    }
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("{file}: not JSON: {e}"))?;
    let cat = match (doc.get("catalog"), doc.get("profile")) {
        (Some(c), _) => c,
        (None, Some(_)) => {
            return Err(format!(
                "{file}: an OSCAL profile, not a catalog: import the resolved-profile catalog (e.g. *-resolved-profile_catalog.json) instead"
            ));
        }
        _ => {
            return Err(format!(
                "{file}: not an OSCAL catalog (no top-level `catalog`)"
            ));
        }
    };
    let md = &cat["metadata"];
    let sha = crate::evidence::read::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)[..]);
    let source = Source {
        file: file.to_string(),
        sha256: sha,
        uuid: s(&cat["uuid"]),
        title: s(&md["title"]),
        version: s(&md["version"]),
        oscal_version: s(&md["oscal-version"]),
        last_modified: s(&md["last-modified"]),
        published: md["published"].as_str().map(String::from),
    };
    let idx = index(cat);
    let mut found = Vec::new();
    let mut not_found = Vec::new();
    for id in controls {
        let oid = crate::report::oscal::control_id(id);
        match idx.get(&oid) {
            Some(c) => found.push(control_text(id, c)),
            None => not_found.push(id.clone()),
        }
    }
    let licence = if us_government(md) {
        "The text is a work of the US government (NIST, FedRAMP): public domain in the United States, released under CC0."
    } else {
        "The text is the source publisher's: check its terms before shipping this file."
    };
    Ok((
        Imported {
            layout: LAYOUT,
            framework: framework.to_string(),
            refresh: format!("evidentia catalog import-oscal {file} --framework {framework}"),
            source,
            controls: found,
            not_found,
        },
        licence,
    ))
}

/// The document written: `{ control_text: ... }`.
#[derive(Serialize)]
struct Doc<'a> {
    control_text: &'a Imported,
}

/// The generated file as YAML (a catalog file), with a header saying it is
/// generated, where from, under which terms, and how to refresh it.
pub fn render_yaml(x: &Imported, licence: &str) -> Result<String, String> {
    let body = serde_saphyr::to_string(&Doc { control_text: x }).map_err(|e| e.to_string())?;
    Ok(format!(
        "# yaml-language-server: $schema=../../schemas/catalog.schema.json\n\
         # Official control text of framework `{fw}`, generated by `evidentia catalog import-oscal`\n\
         # from {file}\n\
         # ({title}, version {version}, last modified {modified}).\n\
         # {licence}\n\
         # Do not edit by hand. To refresh it from the source (a new version of it), run the\n\
         # command in `refresh` with `--out` and this file's path, then review the diff\n\
         # (docs/auditor-workflow.md).\n{body}",
        fw = x.framework,
        file = one_line(&x.source.file),
        title = one_line(&x.source.title),
        version = one_line(&x.source.version),
        modified = one_line(&x.source.last_modified),
    ))
}

/// A value for a comment line: line breaks become spaces.
fn one_line(x: &str) -> String {
    x.split(['\n', '\r']).collect::<Vec<_>>().join(" ")
}

/// The generated file as pretty JSON (keys sorted).
pub fn render_json(x: &Imported) -> String {
    let v = serde_json::to_value(Doc { control_text: x }).unwrap_or_default();
    let mut out = serde_json::to_string_pretty(&v).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statement_with_parameters() {
        let cat = json!({"catalog": {"uuid": "u", "metadata": {"title": "T", "version": "1", "oscal-version": "1.1.2", "last-modified": "2024-01-01T00:00:00Z"},
        "groups": [{"id": "ir", "controls": [{"id": "ir-6", "title": "Incident Reporting",
          "params": [
            {"id": "p1", "label": "time period", "constraints": [{"description": "one hour"}]},
            {"id": "p2", "label": "authorities"},
            {"id": "p3", "select": {"how-many": "one-or-more", "choice": ["x", "y {{ insert: param, p2 }}"]}}
          ],
          "parts": [{"id": "ir-6_smt", "name": "statement", "parts": [
            {"name": "item", "props": [{"name": "label", "value": "a."}], "prose": "Report within {{ insert: param, p1 }} ; and"},
            {"name": "item", "props": [{"name": "label", "value": "b."}], "prose": "Report to {{ insert: param, p2 }} by {{ insert: param, p3 }}."}
          ]}],
          "controls": [{"id": "ir-6.1", "title": "Automated Reporting", "parts": []}]
        }]}]}});
        let bytes = serde_json::to_vec(&cat).unwrap();
        let (x, licence) = import(
            &bytes,
            "c.json",
            "fw",
            &["IR-6".into(), "IR-6(1)".into(), "IR-9".into()],
        )
        .unwrap();
        assert_eq!(x.controls.len(), 2);
        assert_eq!(
            x.controls[0].statement,
            "a. Report within [Assignment: one hour]; and\nb. Report to [Assignment: organization-defined authorities] by [Selection (one or more): x; y [Assignment: organization-defined authorities]]."
        );
        assert_eq!(x.controls[0].parameters[0].value_source, "constraint");
        assert_eq!(x.controls[1].oscal_id, "ir-6.1");
        assert_eq!(x.not_found, vec!["IR-9".to_string()]);
        assert!(licence.contains("check its terms"), "{licence}");
        let yaml = render_yaml(&x, licence).unwrap();
        assert!(yaml.contains("control_text:\n  layout: 1"), "{yaml}");
        assert!(import(b"<catalog/>", "c.xml", "fw", &[]).is_err());
        assert!(import(br#"{"profile": {}}"#, "p.json", "fw", &[]).is_err());
    }

    /// What the import writes, the catalog loader reads back unchanged, whatever the
    /// text holds (YAML-significant words and characters, numbers, blank lines, edge
    /// spaces, line breaks in a title).
    #[test]
    fn the_yaml_written_reads_back_as_written() {
        let tricky = [
            "true",
            "null",
            "~",
            "1.0",
            "0123",
            "1e5",
            "yes",
            "- a",
            "a: b",
            "# c",
            " lead",
            "trail ",
            "x\n\n  y\n",
            "tab\tend",
            "quote \" and \\",
            "{a}",
            "[b]",
            "'s'",
            "\u{a0}nbsp",
            "",
        ];
        let params = tricky
            .iter()
            .enumerate()
            .map(|(i, t)| Param {
                id: format!("p{i}"),
                label: Some(t.to_string()),
                value: t.to_string(),
                value_source: "values".into(),
                guideline: (i % 2 == 0).then(|| format!("{t}\n{t}")),
            })
            .collect();
        let x = Imported {
            layout: LAYOUT,
            framework: "fw".into(),
            refresh: "evidentia catalog import-oscal a.json --framework fw".into(),
            source: Source {
                file: "dir/a b.json".into(),
                sha256: "0123456789".repeat(6) + "0123",
                uuid: "1".into(),
                title: "Title\nwith a break".into(),
                version: "5.1".into(),
                oscal_version: "1.1.2".into(),
                last_modified: "2024-02-13T17:43:49Z".into(),
                published: None,
            },
            controls: vec![ControlText {
                id: "C-1".into(),
                oscal_id: "c-1".into(),
                title: "yes".into(),
                statement: tricky.join("\n"),
                parameters: params,
            }],
            not_found: vec!["null".into()],
        };
        let yaml = render_yaml(&x, "licence").unwrap();
        let doc = crate::yaml::Doc::parse(&yaml).unwrap();
        let back: Doc2 = serde_json::from_value(doc.value.clone()).unwrap();
        assert_eq!(back.control_text, x, "{yaml}");
    }

    #[derive(Deserialize)]
    struct Doc2 {
        control_text: Imported,
    }
}
