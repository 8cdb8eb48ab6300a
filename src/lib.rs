//! evidentia: checks exported security-incident records against compliance controls
//! and writes the evidence an auditor needs.
//!
//! Pipeline (each stage a module; data flows forward only):
//! `catalog` (controls/*.yaml -> Catalog) and `evidence` (sources.yaml + exports ->
//! Evidence) feed `assess` (-> Assessment), which `report` renders. The library never
//! prints and never reads the wall clock: the as-of instant comes in through
//! `assess::Scope`.

#![warn(missing_docs)]

pub mod assess;
pub mod catalog;
pub mod diag;
pub mod diff;
pub mod evidence;
pub mod explain;
pub mod inspect;
pub mod report;
pub mod rules;
pub mod sample;
pub mod schema;
pub mod stream;
pub mod time;
pub mod waivers;
pub mod yaml;

use std::path::PathBuf;

use assess::{Assessment, Period, Scope};
use diag::{Code, Diagnostic, Diags, Level};
use report::{FailOn, Gate};
use time::{Ts, TsFormat, parse_ts};

/// A progress callback for reading (see `evidence::read::Progress`).
#[derive(Clone)]
pub struct ProgressSink(pub std::sync::Arc<evidence::read::Progress>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// What `evidentia check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Reading progress, shown by the binary on a terminal.
    pub progress: Option<ProgressSink>,
    /// Folder of catalog files.
    pub controls: PathBuf,
    /// sources.yaml.
    pub sources: PathBuf,
    /// Folder the export paths in sources.yaml are relative to (default: its own folder).
    pub data: Option<PathBuf>,
    /// As-of instant.
    pub as_of: Ts,
    /// Audit period.
    pub period: Period,
    /// Frameworks to assess (empty: all).
    pub frameworks: Vec<String>,
    /// Evaluate what can be evaluated despite input errors.
    pub keep_going: bool,
    /// Gate policy.
    pub fail_on: FailOn,
    /// A run with an empty population passes the gate.
    pub allow_empty: bool,
    /// Name of the audited entity, for report covers.
    pub entity: Option<String>,
    /// Waivers file, if any.
    pub waivers: Option<PathBuf>,
    /// Sample file (`evidentia sample`): evaluate only the sampled records of its check.
    pub sample: Option<PathBuf>,
    /// `--preset`: read the exports through a shipped preset instead of `sources`.
    pub preset: Option<evidence::presets::PresetUse>,
    /// `--deny/--warn/--allow CHECK`: per-check severity overrides of the catalog's.
    pub severity: Vec<(String, catalog::Severity)>,
    /// `--max-exceptions N`: the gate tolerates up to N exceptions in deny checks.
    pub max_exceptions: Option<u64>,
    /// Look up the owner and due date of exception findings (`RunOutput::remediations`,
    /// for the POA&M); without it they are left empty.
    pub remediations: bool,
    /// List the findings open at as-of (`Assessment::open_findings`, for the aging
    /// chart of report.html); without it the list is empty and the findings' dates
    /// only the chart reads are validated but not kept.
    pub open_findings: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct RunOutput {
    /// The assessment.
    pub assessment: Assessment,
    /// The gate's decision.
    pub gate: Gate,
    /// Input errors tolerated by `--keep-going`, and warnings.
    pub diagnostics: Vec<Diagnostic>,
    /// Owner and due date of exception records that are findings (for the POA&M; empty
    /// unless `CheckOptions::remediations`).
    pub remediations: report::oscal::Remediations,
    /// The table whose records were judged as they were read (`stream`), if any.
    pub streamed: Option<&'static str>,
}

impl RunOutput {
    /// Exit code: 0 passed, 1 gate failed (or input errors tolerated by --keep-going).
    pub fn exit_code(&self) -> i32 {
        let tolerated = self.diagnostics.iter().any(|d| d.level == Level::Error);
        if self.gate.passed && !tolerated { 0 } else { 1 }
    }
}

/// Load, evaluate and decide. `Err` carries the catalog or input errors (exit 2).
pub fn run_check(opts: &CheckOptions) -> Result<RunOutput, Vec<Diagnostic>> {
    let mut diags = Diags::default();
    let cat = catalog::load_dir(&opts.controls, &mut diags);
    for f in &opts.frameworks {
        if !cat.frameworks.iter().any(|x| &x.id == f) {
            diags.push(Diagnostic::error(
                Code::UnknownFramework,
                opts.controls.display().to_string(),
                format!(
                    "--framework `{f}` is not in the catalog (frameworks: {})",
                    cat.frameworks
                        .iter()
                        .map(|x| x.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    for (id, sev) in &opts.severity {
        if cat.check(id).is_none() {
            diags.push(Diagnostic::error(
                Code::UnknownCheck,
                format!("--{}", severity_flag(*sev)),
                format!(
                    "`{id}` is not a check of the catalog in {} (`evidentia catalog list` lists them)",
                    opts.controls.display()
                ),
            ));
        }
    }
    let waivers = match &opts.waivers {
        Some(p) => waivers::load(p, &cat, &mut diags),
        None => Vec::new(),
    };
    let sample = opts
        .sample
        .as_deref()
        .and_then(|p| sample::load_checked(p, &cat, &opts.frameworks, &mut diags));
    if diags.has_errors() {
        return Err(diags.finish());
    }
    let sources = load_sources(opts, &mut diags);
    if diags.has_errors() {
        return Err(diags.finish());
    }
    let scope = Scope {
        as_of: opts.as_of,
        period: opts.period,
        frameworks: opts.frameworks.clone(),
        sample,
    };
    let checks = assess::selected_checks(&cat, &scope.frameworks);
    let mut needs = assess::needs(&checks);
    report::oscal::extend_needs(&mut needs);
    assess::extend_needs_for_aging(
        &mut needs,
        sources.iter().any(|s| s.def.name == "findings"),
        opts.open_findings,
    );
    let progress = opts.progress.as_ref().map(|p| &*p.0);
    let (mut ev, streamed) = stream::load(
        &checks,
        &sources,
        &needs,
        &scope,
        &cat.calendars,
        progress,
        stream::Keep {
            ids: opts.remediations,
            values: opts.remediations || opts.open_findings,
        },
    );
    let streamed_table = streamed.table;
    let ev_diags = std::mem::take(&mut ev.diags);
    if ev_diags.has_errors() && !opts.keep_going {
        return Err(ev_diags.finish());
    }
    assess::apply_period(&mut ev, opts.period);
    for t in ev.tables.values_mut() {
        if !opts.remediations {
            t.drop_id_index();
        }
        // A reference that no check reads or follows was kept only to check it: its
        // text and the rows it resolved to go.
        let wanted = needs.get(t.def.name);
        let refs: Vec<usize> = (0..t.def.fields.len())
            .filter(|&i| {
                t.def.fields.get(i).is_some_and(|f| f.refers_to.is_some())
                    && !wanted.is_some_and(|w| w.contains(&i))
            })
            .collect();
        for i in refs {
            t.drop_field(i);
        }
    }
    let mut assessment = assess::assess_with(&cat, &ev, &scope, streamed);
    if opts.open_findings {
        assessment.open_findings = assess::open_findings(&ev, opts.as_of);
    }
    assessment.entity = opts.entity.clone();
    if let Some(p) = &opts.waivers {
        let w = waivers::apply(&mut assessment, &waivers, &p.display().to_string());
        assessment.warnings.extend(w);
    }
    for c in assessment.checks.iter_mut() {
        if let Some((_, sev)) = opts.severity.iter().find(|(id, _)| id == &c.id) {
            c.severity = *sev;
        }
    }
    let gate = report::gate_with(
        &assessment,
        &report::GatePolicy {
            fail_on: opts.fail_on,
            allow_empty: opts.allow_empty,
            max_exceptions: opts.max_exceptions,
        },
    );
    let remediations = if opts.remediations {
        report::oscal::remediations(&assessment, &ev)
    } else {
        report::oscal::Remediations::new()
    };
    Ok(RunOutput {
        assessment,
        gate,
        diagnostics: ev_diags.finish(),
        remediations,
        streamed: streamed_table,
    })
}

/// The sources of a run: the sources file, or the preset given with `--preset`.
pub fn load_sources(opts: &CheckOptions, diags: &mut Diags) -> Vec<evidence::sources::TableSource> {
    match &opts.preset {
        Some(p) => evidence::presets::load(p, opts.data.as_deref(), diags),
        None => evidence::sources::load(&opts.sources, opts.data.as_deref(), diags),
    }
}

/// The option that sets a severity: `deny`, `warn` or `allow`.
pub fn severity_flag(s: catalog::Severity) -> &'static str {
    match s {
        catalog::Severity::Deny => "deny",
        catalog::Severity::Warn => "warn",
        catalog::Severity::Allow => "allow",
    }
}

/// Parse an instant given on the command line: RFC 3339, or a date (UTC midnight).
pub fn parse_instant(s: &str) -> Result<Ts, String> {
    let fmt = TsFormat {
        zone: Some(chrono_tz::Tz::UTC),
        dates: Some(time::DateSemantics::StartOfDay),
        ..TsFormat::default()
    };
    let after_date = s.get(10..).unwrap_or("");
    if s.len() > 10 && !s.ends_with('Z') && !s.ends_with('z') && !after_date.contains(['+', '-']) {
        return Err(format!("`{s}` has no UTC offset: write e.g. {s}Z"));
    }
    parse_ts(s, &fmt).map_err(|e| e.to_string())
}

/// Parse `START..END` (either side may be empty). Dates are whole UTC days and the
/// end date is included; instants are taken as written, the end excluded.
pub fn parse_period(s: &str) -> Result<Period, String> {
    let Some((a, b)) = s.split_once("..") else {
        return Err(format!(
            "`{s}` is not a period: write START..END, e.g. 2025-01-01..2025-12-31"
        ));
    };
    let start = if a.trim().is_empty() {
        None
    } else {
        Some(parse_instant(a.trim())?)
    };
    let end = if b.trim().is_empty() {
        None
    } else {
        let t = parse_instant(b.trim())?;
        if b.trim().len() == 10 {
            Some(Ts(t.0 + 24 * time::NANOS_PER_HOUR))
        } else {
            Some(t)
        }
    };
    if let (Some(x), Some(y)) = (start, end)
        && x >= y
    {
        return Err(format!("period `{s}` ends before it starts"));
    }
    Ok(Period { start, end })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p = parse_period("2025-01-01..2025-12-31").unwrap();
        assert!(p.contains(parse_instant("2025-12-31T23:59:59Z").unwrap()));
        assert!(!p.contains(parse_instant("2026-01-01T00:00:00Z").unwrap()));
        assert!(!p.contains(parse_instant("2024-12-31T23:59:59Z").unwrap()));
        let open = parse_period("..2025-07-01T00:00:00Z").unwrap();
        assert!(open.start.is_none());
        assert!(parse_period("2025-02-01..2025-01-01").is_err());
        assert!(parse_period("2025").is_err());
        assert!(parse_instant("2025-01-01T00:00:00").is_err());
    }
}
