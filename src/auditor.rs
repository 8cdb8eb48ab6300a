//! The auditor's commands of the CLI: `explain`, `sample`, `diff` and
//! `catalog import-oscal`. Argument parsing and printing only; the work is in the
//! library (`evidentia::{explain, sample, diff, catalog::oscal_import}`).

use std::io::Write;
use std::path::{Path, PathBuf};

use evidentia::CheckOptions;
use evidentia::report::FailOn;

use super::{load_config, now, usage, write_atomic};

/// What to evaluate: the options `check` takes for the catalog, the evidence and the
/// scope (the settings file applies the same way).
#[derive(clap::Args, Debug)]
pub struct ScopeArgs {
    /// Project settings file (default: evidentia.yaml in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder of catalog files (*.yaml) [default: controls].
    #[arg(long)]
    controls: Option<PathBuf>,
    /// The sources file describing the exports [default: evidence/sources.yaml].
    #[arg(long)]
    sources: Option<PathBuf>,
    /// Folder the export paths in the sources file are relative to.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The instant the assessment is made at (RFC 3339); default: now.
    #[arg(long, value_name = "RFC3339")]
    as_of: Option<String>,
    /// The audit period, START..END (dates or RFC 3339; either side may be empty).
    #[arg(long, value_name = "START..END")]
    period: Option<String>,
    /// Only this framework (repeatable).
    #[arg(long = "framework", value_name = "ID")]
    frameworks: Vec<String>,
    /// Go on despite input errors (rejected records are explained as such).
    #[arg(long)]
    keep_going: bool,
    /// Waivers file (default: waivers.yaml beside the sources file, if present).
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
}

/// Resolve the scope options with the settings file, as `check` does.
fn resolve(a: &ScopeArgs) -> Result<CheckOptions, u8> {
    let cfg = load_config(a.config.as_deref())?;
    let controls = a
        .controls
        .clone()
        .or(cfg.controls)
        .unwrap_or_else(|| PathBuf::from("controls"));
    let sources = a
        .sources
        .clone()
        .or(cfg.sources)
        .unwrap_or_else(|| PathBuf::from("evidence/sources.yaml"));
    let as_of = match a.as_of.clone().or(cfg.as_of) {
        Some(s) => evidentia::parse_instant(&s).map_err(|m| usage(&format!("--as-of: {m}")))?,
        None => now(),
    };
    let period = match a.period.clone().or(cfg.period) {
        Some(p) => evidentia::parse_period(&p).map_err(|m| usage(&format!("--period: {m}")))?,
        None => evidentia::assess::Period {
            start: None,
            end: None,
        },
    };
    let waivers = a.waivers.clone().or(cfg.waivers).or_else(|| {
        let p = sources
            .parent()
            .unwrap_or(Path::new("."))
            .join("waivers.yaml");
        p.exists().then_some(p)
    });
    Ok(CheckOptions {
        controls,
        data: a.data.clone().or(cfg.data),
        sources,
        as_of,
        period,
        frameworks: if a.frameworks.is_empty() {
            cfg.frameworks
        } else {
            a.frameworks.clone()
        },
        keep_going: a.keep_going,
        fail_on: cfg.fail_on.unwrap_or(FailOn::Exception),
        allow_empty: false,
        entity: cfg.entity,
        waivers,
        sample: None,
        progress: None,
        preset: None,
        severity: Vec::new(),
        max_exceptions: None,
        remediations: false,
        open_findings: false,
    })
}

fn print_errors(diags: &[evidentia::diag::Diagnostic]) -> u8 {
    for d in diags {
        eprintln!("{d}");
    }
    let n = diags
        .iter()
        .filter(|d| d.level == evidentia::diag::Level::Error)
        .count();
    eprintln!("evidentia: {n} error(s)");
    2
}

fn out(text: &str) {
    let mut so = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is not an error.
    let _ = so.write_all(text.as_bytes());
}

/// `evidentia explain RECORD_ID`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The record's id (e.g. INC-3001, a finding key).
    record: String,
    /// The record's table, when the id is used in several tables.
    #[arg(long, value_name = "TABLE")]
    table: Option<String>,
    /// text or json.
    #[arg(long, default_value = "text")]
    format: String,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// Explain one record: every check, applies or not and why, values, verdict, controls.
pub fn explain(a: ExplainArgs) -> u8 {
    let json = match a.format.as_str() {
        "json" => true,
        "text" => false,
        other => return usage(&format!("--format `{other}`: use text or json")),
    };
    let opts = match resolve(&a.scope) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let loaded = match evidentia::explain::load(&opts) {
        Ok(l) => l,
        Err(d) => return print_errors(&d),
    };
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    match evidentia::explain::explain(&loaded, &a.record, a.table.as_deref()) {
        Ok(x) => {
            if json {
                out(&evidentia::explain::render_json(&x));
            } else {
                out(&evidentia::explain::render_text(&x));
            }
            0
        }
        Err(m) => usage(&m),
    }
}

/// `evidentia sample`.
#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    /// The check whose population is sampled.
    #[arg(long, value_name = "ID")]
    check: String,
    /// The seed (a whole number 0..2^64-1): the same seed and population give the same sample.
    #[arg(long)]
    seed: u64,
    /// Sample size.
    #[arg(long, conflicts_with = "frequency")]
    size: Option<u64>,
    /// How often the control operates; the size then follows the commonly used table:
    /// annual 1, quarterly 2, monthly 2-5, weekly 5-15, daily 20-40, many-times-daily 25-60
    /// (the low end is taken; use --size for more).
    #[arg(long, value_name = "FREQUENCY")]
    frequency: Option<String>,
    /// The sample file to write (JSON), for `check --sample FILE`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    #[command(flatten)]
    scope: ScopeArgs,
}

/// Draw a reproducible sample of a check's population and write the sample file.
pub fn sample(a: SampleArgs) -> u8 {
    use evidentia::sample::{self as smp, Frequency};
    let (size, basis) = match (&a.size, &a.frequency) {
        (Some(n), _) => (Some(*n), format!("--size {n} given")),
        (None, Some(f)) => match Frequency::parse(f) {
            Some(_) => (None, String::new()),
            None => {
                return usage(&format!(
                    "--frequency `{f}`: use annual, quarterly, monthly, weekly, daily or many-times-daily"
                ));
            }
        },
        (None, None) => {
            return usage("give --size N, or --frequency to take the size from the table");
        }
    };
    if a.scope.keep_going {
        return usage(
            "a sample is drawn from a clean population: fix the input errors first (no --keep-going)",
        );
    }
    let opts = match resolve(&a.scope) {
        Ok(o) => o,
        Err(c) => return c,
    };
    let loaded = match evidentia::explain::load(&opts) {
        Ok(l) => l,
        Err(d) => return print_errors(&d),
    };
    for d in &loaded.diagnostics {
        eprintln!("{d}");
    }
    let Some(check) = loaded.cat.check(&a.check) else {
        return usage(&format!("`{}` is not a check of the catalog", a.check));
    };
    if !evidentia::assess::selected_checks(&loaded.cat, &opts.frameworks)
        .iter()
        .any(|c| c.id == check.id)
    {
        return usage(&format!(
            "check `{}` tests no control of the selected frameworks",
            check.id
        ));
    }
    let (table, population) = match smp::population(
        check,
        &loaded.ev,
        opts.as_of,
        opts.period,
        &loaded.cat.calendars,
    ) {
        Ok(p) => p,
        Err(m) => return usage(&m),
    };
    let (size, basis) = match (size, a.frequency.as_deref().and_then(Frequency::parse)) {
        (Some(n), _) => (n, basis),
        (None, Some(f)) => smp::size_for(f, population.len() as u64),
        (None, None) => (0, basis),
    };
    let info = smp::PopulationInfo::new(&table, &population, opts.as_of, opts.period);
    let file = smp::build(&check.id, a.seed, &population, size, basis, info);
    let dir = a
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sample.json".into());
    if let Err(e) = write_atomic(dir, &name, &file.to_bytes()) {
        eprintln!("error[io]: {}: {e}", a.out.display());
        return 2;
    }
    out(&format!(
        "{}: {} of {} sampled, seed {} ({}); written to {}\n{}\n",
        file.check,
        file.size,
        file.population.size,
        file.seed,
        file.size_basis,
        a.out.display(),
        file.ids.join("\n")
    ));
    0
}

/// `evidentia diff OLD.json NEW.json`.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The earlier report.json.
    old: PathBuf,
    /// The later report.json.
    new: PathBuf,
    /// text, json or md.
    #[arg(long, default_value = "text")]
    format: String,
}

fn read_report(p: &Path) -> Result<serde_json::Value, String> {
    let shown = p.display().to_string();
    let bytes = std::fs::read(p).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{shown}: not JSON: {e}"))?;
    evidentia::diff::check_report(&v, &shown)?;
    Ok(v)
}

/// Compare two report.json files.
pub fn diff(a: DiffArgs) -> u8 {
    let render: fn(&evidentia::diff::Diff) -> String = match a.format.as_str() {
        "text" => evidentia::diff::render_text,
        "json" => evidentia::diff::render_json,
        "md" => evidentia::diff::render_md,
        other => return usage(&format!("--format `{other}`: use text, json or md")),
    };
    let (old, new) = match (read_report(&a.old), read_report(&a.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(m), _) | (_, Err(m)) => {
            eprintln!("error[report]: {m}");
            return 2;
        }
    };
    let d = evidentia::diff::diff(
        &old,
        &a.old.display().to_string(),
        &new,
        &a.new.display().to_string(),
    );
    out(&render(&d));
    0
}

/// `evidentia catalog import-oscal FILE --framework ID`.
#[derive(clap::Args, Debug)]
pub struct ImportOscalArgs {
    /// OSCAL catalog or resolved-profile catalog (JSON).
    file: PathBuf,
    /// Our framework whose controls take the text.
    #[arg(long, value_name = "ID")]
    framework: String,
    /// Folder of catalog files.
    #[arg(long, default_value = "controls")]
    controls: PathBuf,
    /// Write the generated file here (default: standard output). A .yaml file in
    /// the controls folder is a catalog file: the catalog loader attaches its text to
    /// the framework's controls. When it is there already, it is left out while the
    /// catalog is read, so a stale file never blocks its own refresh.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// yaml or json.
    #[arg(long, default_value = "yaml")]
    format: String,
}

/// Fill our framework's control titles, statements and parameters from OSCAL.
pub fn import_oscal(a: &ImportOscalArgs) -> u8 {
    use evidentia::catalog::oscal_import;
    let yaml = match a.format.as_str() {
        "yaml" => true,
        "json" => false,
        other => return usage(&format!("--format `{other}`: use yaml or json")),
    };
    let mut diags = evidentia::diag::Diags::default();
    let cat = evidentia::catalog::load_dir_except(&a.controls, a.out.as_deref(), &mut diags);
    if diags.has_errors() {
        return print_errors(&diags.finish());
    }
    let Some(fw) = cat.frameworks.iter().find(|f| f.id == a.framework) else {
        return usage(&format!(
            "--framework `{}` is not in the catalog (frameworks: {})",
            a.framework,
            cat.frameworks
                .iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    };
    let ids: Vec<String> = fw.controls.iter().map(|c| c.id.clone()).collect();
    let shown = a.file.display().to_string();
    let bytes = match std::fs::read(&a.file) {
        Ok(b) => b,
        Err(e) => return usage(&format!("{shown}: cannot read: {e}")),
    };
    let (imported, licence) = match oscal_import::import(&bytes, &shown, &fw.id, &ids) {
        Ok(x) => x,
        Err(m) => return usage(&m),
    };
    let text = if yaml {
        match oscal_import::render_yaml(&imported, licence) {
            Ok(t) => t,
            Err(m) => {
                eprintln!("error[io]: cannot write YAML: {m}");
                return 2;
            }
        }
    } else {
        oscal_import::render_json(&imported)
    };
    for id in &imported.not_found {
        eprintln!("warning: control `{id}` of `{}` is not in {shown}", fw.id);
    }
    match &a.out {
        None => out(&text),
        Some(o) => {
            let dir = o
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = o
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Err(e) = write_atomic(dir, &name, text.as_bytes()) {
                eprintln!("error[io]: {}: {e}", o.display());
                return 2;
            }
            eprintln!(
                "wrote {} control(s) of `{}` from {} ({} {}) to {}",
                imported.controls.len(),
                fw.id,
                shown,
                imported.source.title,
                imported.source.version,
                o.display()
            );
        }
    }
    0
}
