//! Presets: ready-made sources files for the exports of common incident tools
//! (PagerDuty, incident.io, FireHydrant, Opsgenie, Jira, ServiceNow). Part of the
//! evidence stage: a preset is sources.yaml text shipped in the binary
//! (`presets/*.yaml`), compiled like a user's file. `evidentia init --preset NAME`
//! writes it out, commented, for editing; `--preset NAME` on `check` and `evidence
//! inspect` uses it directly with the export files given by `--export` or `--data`.

use std::path::{Path, PathBuf};

use super::sources::{self, TableSource};
use crate::diag::{Code, Diagnostic, Diags};

/// One preset.
#[derive(Debug)]
pub struct Preset {
    /// Name given to `--preset`.
    pub name: &'static str,
    /// What export it reads, in a few words.
    pub about: &'static str,
    /// The sources file, with comments.
    pub text: &'static str,
    /// Why the export's timestamps need `--timezone`, when they do.
    pub needs_zone: Option<&'static str>,
}

/// Every preset, in the order `init --list` shows them.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "pagerduty",
        about: "PagerDuty REST API incidents list (GET /incidents, JSON `incidents[]`)",
        text: include_str!("presets/pagerduty.yaml"),
        needs_zone: None,
    },
    Preset {
        name: "pagerduty-analytics",
        about: "PagerDuty Analytics raw incidents (POST /analytics/raw/incidents, JSON `data[]`)",
        text: include_str!("presets/pagerduty-analytics.yaml"),
        needs_zone: Some(
            "PagerDuty Analytics writes timestamps without a zone (`2023-05-31T10:05:00`), on the clock of the request's `time_zone`",
        ),
    },
    Preset {
        name: "incidentio",
        about: "incident.io API v2 incidents (custom timestamps by name) and follow-ups as findings",
        text: include_str!("presets/incidentio.yaml"),
        needs_zone: None,
    },
    Preset {
        name: "firehydrant",
        about: "FireHydrant incidents with milestones, retrospective completion, tasks as findings",
        text: include_str!("presets/firehydrant.yaml"),
        needs_zone: None,
    },
    Preset {
        name: "opsgenie",
        about: "Opsgenie incidents list (GET /v1/incidents, JSON `data[]`)",
        text: include_str!("presets/opsgenie.yaml"),
        needs_zone: None,
    },
    Preset {
        name: "opsgenie-alerts",
        about: "Opsgenie alerts list (GET /v2/alerts, JSON `data[]`), each alert as an incident",
        text: include_str!("presets/opsgenie-alerts.yaml"),
        needs_zone: None,
    },
    Preset {
        name: "jira",
        about: "Jira / Jira Service Management CSV export (`25/Feb/26 10:17 PM` dates)",
        text: include_str!("presets/jira.yaml"),
        needs_zone: Some(
            "Jira writes dates like `25/Feb/26 10:17 PM` in the exporting user's zone, without an offset",
        ),
    },
    Preset {
        name: "servicenow",
        about: "ServiceNow incident table CSV, or its event log reduced to the latest row per `number`",
        text: include_str!("presets/servicenow.yaml"),
        needs_zone: Some(
            "ServiceNow writes dates like `29-02-2016 01:16` in the exporting user's zone, without an offset",
        ),
    },
];

/// Comma-separated preset names, for messages.
pub fn names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A preset by name.
pub fn get(name: &str) -> Result<&'static Preset, String> {
    PRESETS
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| format!("no preset `{name}` (presets: {})", names()))
}

impl Preset {
    /// The sources file text, with `timezone:` set when a zone is given. `Err` when the
    /// preset needs a zone and none is given, or the zone is not an IANA name.
    pub fn render(&self, timezone: Option<&str>) -> Result<String, String> {
        let Some(zone) = timezone else {
            return match self.needs_zone {
                Some(why) => Err(format!(
                    "preset `{}` needs the time zone of the export: {why}. Pass it with --timezone ZONE (an IANA name such as Etc/UTC or Europe/Berlin); evidentia never guesses one",
                    self.name
                )),
                None => Ok(self.text.to_string()),
            };
        };
        crate::time::parse_zone(zone).map_err(|m| format!("--timezone: {m}"))?;
        let mut out = String::with_capacity(self.text.len() + 64);
        let mut done = false;
        for line in self.text.split_inclusive('\n') {
            if !done && line.starts_with("tables:") {
                out.push_str(&format!(
                    "# Timestamps without an offset are read in this zone.\ntimezone: {zone}\n"
                ));
                done = true;
            }
            out.push_str(line);
        }
        Ok(out)
    }

    /// The tables the preset fills and their default export files, e.g.
    /// `[("incidents", ["incidents.json"])]` (derived tables have none).
    pub fn tables(&self) -> Vec<(String, Vec<String>)> {
        let mut d = Diags::default();
        compile(self, None, Path::new(""), &mut d)
            .iter()
            .map(|t| {
                (
                    t.def.name.to_string(),
                    t.files.iter().map(|(_, s)| s.clone()).collect(),
                )
            })
            .collect()
    }

    /// The label that names the preset in messages and reports: `preset:NAME`.
    pub fn label(&self) -> String {
        format!("preset:{}", self.name)
    }
}

fn compile(p: &Preset, zone: Option<&str>, base: &Path, diags: &mut Diags) -> Vec<TableSource> {
    // A preset that needs a zone compiles without one for listings (`tables`).
    let text = p.render(zone).unwrap_or_else(|_| p.text.to_string());
    sources::compile_text(&text, &p.label(), base, diags)
}

/// `--preset NAME` on the command line, with its export files.
#[derive(Debug, Clone, Default)]
pub struct PresetUse {
    /// Preset name.
    pub name: String,
    /// `--timezone`.
    pub timezone: Option<String>,
    /// `--export [TABLE=]FILE`, as given (a bare FILE is the incidents export).
    pub exports: Vec<String>,
}

/// Compile the preset for this run. Export files come from `--export` (only the
/// tables given are read, with the tables derived from them) or, without it, the
/// preset's default file names inside `data`. Every problem is an error in `diags`.
pub fn load(u: &PresetUse, data: Option<&Path>, diags: &mut Diags) -> Vec<TableSource> {
    let mut err = |m: String| diags.push(Diagnostic::error(Code::BadValue, "--preset", m));
    let p = match get(&u.name) {
        Ok(p) => p,
        Err(m) => {
            err(m);
            return vec![];
        }
    };
    let text = match p.render(u.timezone.as_deref()) {
        Ok(t) => t,
        Err(m) => {
            err(m);
            return vec![];
        }
    };
    if u.exports.is_empty() && data.is_none() {
        let files: Vec<String> = p.tables().into_iter().flat_map(|(_, f)| f).collect();
        err(format!(
            "preset `{}` reads {}: give the export with --export FILE (and --export TABLE=FILE for the others), or --data DIR holding those files",
            p.name,
            files.join(", ")
        ));
        return vec![];
    }
    let base = data.map(Path::to_path_buf).unwrap_or_default();
    let mut out = sources::compile_text(&text, &p.label(), &base, diags);
    if u.exports.is_empty() {
        return out;
    }
    // --export: the files named, table by table; tables given none are not read.
    let primaries: Vec<&'static str> = out
        .iter()
        .filter(|t| t.from.is_none())
        .map(|t| t.def.name)
        .collect();
    let mut given: Vec<(&'static str, PathBuf, String)> = Vec::new();
    for e in &u.exports {
        let (table, file) = match e.split_once('=') {
            Some((t, f)) if super::tables::table(t).is_some() => {
                match primaries.iter().find(|p| **p == t) {
                    Some(p) => (*p, f),
                    None => {
                        diags.push(Diagnostic::error(
                            Code::UnknownTable,
                            "--export",
                            format!(
                                "`{e}`: preset `{}` reads no export into table `{t}` (its exports: {})",
                                p.name,
                                primaries.join(", ")
                            ),
                        ));
                        continue;
                    }
                }
            }
            _ => ("incidents", e.as_str()),
        };
        if file.is_empty() {
            diags.push(Diagnostic::error(
                Code::BadValue,
                "--export",
                format!("`{e}`: no file named"),
            ));
            continue;
        }
        given.push((table, PathBuf::from(file), file.to_string()));
    }
    if !given.iter().any(|(t, _, _)| *t == "incidents") {
        diags.push(Diagnostic::error(
            Code::BadValue,
            "--export",
            format!(
                "preset `{}` needs the incidents export: --export FILE",
                p.name
            ),
        ));
        return vec![];
    }
    let kept: Vec<&'static str> = given.iter().map(|(t, _, _)| *t).collect();
    out.retain(|t| {
        let root = t.from.as_deref().unwrap_or(t.def.name);
        kept.contains(&root)
    });
    for t in out.iter_mut().filter(|t| t.from.is_none()) {
        t.files = given
            .iter()
            .filter(|(g, _, _)| *g == t.def.name)
            .map(|(_, p, s)| (p.clone(), s.clone()))
            .collect();
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_compiles_and_names_its_files() {
        for p in PRESETS {
            let mut d = Diags::default();
            let zone = p.needs_zone.map(|_| "Etc/UTC");
            let text = p.render(zone).unwrap();
            let t = sources::compile_text(&text, &p.label(), Path::new("x"), &mut d);
            assert!(!d.has_errors(), "{}: {:?}", p.name, d.items);
            assert!(t.iter().any(|t| t.def.name == "incidents"), "{}", p.name);
            assert!(p.tables().iter().any(|(_, f)| !f.is_empty()), "{}", p.name);
            assert!(!p.about.is_empty());
        }
        let mut names: Vec<_> = PRESETS.iter().map(|p| p.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), PRESETS.len());
    }

    #[test]
    fn a_zone_is_required_where_the_export_has_none() {
        let p = get("pagerduty-analytics").unwrap();
        let e = p.render(None).unwrap_err();
        assert!(e.contains("--timezone"), "{e}");
        assert!(p.render(Some("Mars/Olympus")).is_err());
        let t = p.render(Some("Etc/UTC")).unwrap();
        assert!(t.contains("\ntimezone: Etc/UTC\ntables:"), "{t}");
        assert!(get("pagerduty").unwrap().render(None).is_ok());
        assert!(get("nope").unwrap_err().contains("pagerduty"));
    }

    #[test]
    fn exports_replace_the_default_files() {
        let u = PresetUse {
            name: "incidentio".into(),
            timezone: None,
            exports: vec!["a/inc.json".into()],
        };
        let mut d = Diags::default();
        let t = load(&u, None, &mut d);
        assert!(!d.has_errors(), "{:?}", d.items);
        // Follow-ups were not given: findings is not read; postmortems derive from incidents.
        let names: Vec<_> = t.iter().map(|t| t.def.name).collect();
        assert_eq!(names, vec!["incidents", "postmortems"]);
        assert_eq!(
            t[0].files,
            vec![(PathBuf::from("a/inc.json"), "a/inc.json".to_string())]
        );

        let u = PresetUse {
            exports: vec!["findings=f.json".into()],
            ..u
        };
        let mut d = Diags::default();
        load(&u, None, &mut d);
        assert!(d.has_errors());
        let u = PresetUse {
            exports: vec!["x.json".into(), "notifications=n.json".into()],
            ..u
        };
        let mut d = Diags::default();
        load(&u, None, &mut d);
        assert!(d.items.iter().any(|x| x.code == Code::UnknownTable));
        let u = PresetUse {
            exports: vec![],
            ..u
        };
        let mut d = Diags::default();
        load(&u, None, &mut d);
        assert!(d.items.iter().any(|x| x.message.contains("--export FILE")));
    }
}
