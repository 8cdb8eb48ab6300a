//! The `evidentia` command line: parses arguments, runs the library, writes outputs
//! and maps the result to an exit code (0 gate passed, 1 gate failed, 2 usage,
//! catalog or input error). The only place that reads the wall clock (the default
//! as-of) or prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

// Reports go to stdout and diagnostics to stderr, often through a pipe (`2>&1 | head`):
// a closed pipe ends the output, never the run. (The std macros panic on it: exit 101.)
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
macro_rules! eprint {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use evidentia::report::{self, FailOn, Format};
use evidentia::time::Ts;
use evidentia::{CheckOptions, parse_instant, parse_period};

mod auditor;
mod onboard;

#[derive(Parser)]
#[command(
    name = "evidentia",
    version,
    about = "Check security-incident exports against compliance controls and write the evidence an auditor needs."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Evaluate every in-scope record and write the reports.
    Check(CheckArgs),
    /// List, show, validate the catalog, or show its crosswalk.
    Catalog {
        #[command(subcommand)]
        cmd: CatalogCmd,
    },
    /// Verify an output folder: hashes of outputs and inputs, and a re-run of the
    /// recorded command line giving byte-identical outputs (exit 0 all match, 1 a
    /// difference, 2 no valid manifest.json).
    Verify(VerifyArgs),
    /// One record: every check that applies and every one that does not (and why),
    /// each computed value, the verdict, the controls it feeds.
    Explain(auditor::ExplainArgs),
    /// Draw a reproducible random sample of a check's population (seeded) into a
    /// sample file for `check --sample`.
    Sample(auditor::SampleArgs),
    /// What changed between two report.json: exceptions, controls, catalog, inputs.
    Diff(auditor::DiffArgs),
    /// Write a commented sources.yaml for a tool's export (`--preset NAME`), or list
    /// the presets (`--list`).
    Init(onboard::InitArgs),
    /// Look at an export through its sources file or a preset (`evidence inspect`).
    Evidence {
        #[command(subcommand)]
        cmd: onboard::EvidenceCmd,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The output folder holding manifest.json and SHA256SUMS.
    dir: PathBuf,
    /// Folder the check ran in: relative paths in the manifest are taken from here.
    #[arg(long, value_name = "DIR", default_value = ".")]
    root: PathBuf,
}

#[derive(Subcommand)]
enum CatalogCmd {
    /// Every framework and control with its checks, and every check.
    List(CatalogArgs),
    /// One check, framework, or framework/control.
    Show {
        /// Check id, framework id, or framework/control.
        id: String,
        #[command(flatten)]
        args: CatalogArgs,
    },
    /// Validate the catalog files (schema and references); exit 2 on any problem.
    Validate(CatalogArgs),
    /// The control matrix across frameworks.
    Crosswalk(CatalogArgs),
    /// Take the official title, statement and parameters of a framework's controls
    /// from an OSCAL catalog or resolved-profile catalog into a generated file.
    ImportOscal(auditor::ImportOscalArgs),
}

#[derive(clap::Args)]
struct CatalogArgs {
    /// Folder of catalog files.
    #[arg(long, default_value = "controls")]
    controls: PathBuf,
    /// text or json.
    #[arg(long, default_value = "text")]
    format: String,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Project settings file (default: evidentia.yaml in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder of catalog files (*.yaml) [default: controls].
    #[arg(long)]
    controls: Option<PathBuf>,
    /// The sources file describing the exports [default: evidence/sources.yaml].
    #[arg(long)]
    sources: Option<PathBuf>,
    /// The instant the assessment is made at (RFC 3339); default: now, recorded in the report.
    #[arg(long, value_name = "RFC3339")]
    as_of: Option<String>,
    /// The audit period, START..END (dates or RFC 3339; either side may be empty).
    #[arg(long, value_name = "START..END")]
    period: Option<String>,
    /// Folder the export paths in the sources file are relative to (default: the sources file's folder).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Assess only this framework (repeatable).
    #[arg(long = "framework", value_name = "ID")]
    frameworks: Vec<String>,
    /// Outputs, comma-separated: text, json, csv, ids, html, md, oscal, poam, junit, sarif, or all [default: text,json,csv].
    /// manifest.json and SHA256SUMS are written with any file output.
    #[arg(long)]
    format: Option<String>,
    /// Folder for report files [default: out].
    #[arg(long)]
    out: Option<PathBuf>,
    /// When the gate fails [default: exception].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Evaluate despite input errors: rejected records count as exceptions; exit at least 1.
    #[arg(long)]
    keep_going: bool,
    /// Waivers file (default: waivers.yaml beside the sources file, if present).
    #[arg(long, value_name = "FILE")]
    waivers: Option<PathBuf>,
    /// Pass the gate even when no record was evaluated.
    #[arg(long)]
    allow_empty: bool,
    /// Sample file from `evidentia sample`: evaluate only the sampled records of its check.
    #[arg(long, value_name = "FILE")]
    sample: Option<PathBuf>,
    /// Read the exports through a shipped preset instead of a sources file
    /// (`evidentia init --list` lists them).
    #[arg(long, value_name = "NAME", conflicts_with = "sources")]
    preset: Option<String>,
    /// With --preset: an export file, `FILE` for the incidents or `TABLE=FILE`
    /// (repeatable; only the tables given are read). Without it, the preset's file
    /// names are looked up in --data DIR.
    #[arg(long = "export", value_name = "[TABLE=]FILE", requires = "preset")]
    exports: Vec<String>,
    /// With --preset: the zone of timestamps written without an offset (IANA name).
    #[arg(long, value_name = "ZONE", requires = "preset")]
    timezone: Option<String>,
    /// This check fails the gate on exceptions, whatever the catalog says (repeatable).
    #[arg(long = "deny", value_name = "CHECK")]
    deny: Vec<String>,
    /// This check's exceptions are reported as warnings and never fail the gate (repeatable).
    #[arg(long = "warn", value_name = "CHECK")]
    warn: Vec<String>,
    /// This check is evaluated and reported but never affects the gate (repeatable).
    #[arg(long = "allow", value_name = "CHECK")]
    allow: Vec<String>,
    /// The gate fails on exceptions only when the deny checks have more than N in total.
    #[arg(long, value_name = "N")]
    max_exceptions: Option<u64>,
    /// Print CI annotations on standard output: github or none [default: github when
    /// GITHUB_ACTIONS=true, else none].
    #[arg(long, value_name = "KIND")]
    annotations: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Testing knob: read CSV files of at least MIN bytes in parallel, in BLOCK-byte
    // blocks (`EVIDENTIA_PARALLEL_READ=MIN,BLOCK`). The outcome never depends on it.
    if let Some((min, block)) = std::env::var("EVIDENTIA_PARALLEL_READ")
        .ok()
        .and_then(|v| {
            v.split_once(',')
                .map(|(a, b)| (a.parse().ok(), b.parse().ok()))
        })
        .and_then(|(a, b)| Some((a?, b?)))
    {
        evidentia::evidence::read::tune(min, block);
    }
    // Testing knob: `EVIDENTIA_STREAM=0` turns off streaming the population table
    // (`evidentia::stream`). The outcome never depends on it.
    if std::env::var("EVIDENTIA_STREAM").is_ok_and(|v| v == "0") {
        evidentia::stream::set_enabled(false);
    }
    let code = match cli.cmd {
        Cmd::Check(a) => check(a),
        Cmd::Catalog { cmd } => catalog(cmd),
        Cmd::Verify(a) => verify(a),
        Cmd::Explain(a) => auditor::explain(a),
        Cmd::Sample(a) => auditor::sample(a),
        Cmd::Diff(a) => auditor::diff(a),
        Cmd::Init(a) => onboard::init(a),
        Cmd::Evidence { cmd } => onboard::evidence(cmd),
    };
    ExitCode::from(code)
}

fn catalog(cmd: CatalogCmd) -> u8 {
    use evidentia::catalog::listing;
    let args = match &cmd {
        CatalogCmd::List(a) | CatalogCmd::Validate(a) | CatalogCmd::Crosswalk(a) => a,
        CatalogCmd::Show { args, .. } => args,
        CatalogCmd::ImportOscal(a) => return auditor::import_oscal(a),
    };
    let json = match args.format.as_str() {
        "json" => true,
        "text" => false,
        other => return usage(&format!("--format `{other}`: use text or json")),
    };
    let mut diags = evidentia::diag::Diags::default();
    let cat = evidentia::catalog::load_dir(&args.controls, &mut diags);
    if diags.has_errors() {
        let n = diags.error_count();
        for d in diags.finish() {
            eprintln!("{d}");
        }
        eprintln!("evidentia: {n} catalog error(s)");
        return 2;
    }
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let out = match cmd {
        CatalogCmd::List(_) => {
            if json {
                pretty(&listing::list_json(&cat))
            } else {
                listing::list_text(&cat)
            }
        }
        CatalogCmd::Show { id, .. } => {
            let shown = if json {
                listing::show_json(&cat, &id).map(|v| pretty(&v))
            } else {
                listing::show_text(&cat, &id)
            };
            match shown {
                Some(t) => t,
                None => {
                    // A bare control id: name the framework/control forms that exist.
                    let like: Vec<String> = cat
                        .frameworks
                        .iter()
                        .flat_map(|f| {
                            f.controls
                                .iter()
                                .filter(|c| c.id.eq_ignore_ascii_case(&id))
                                .map(move |c| format!("`{}/{}`", f.id, c.id))
                        })
                        .collect();
                    let hint = if like.is_empty() {
                        " (`evidentia catalog list` lists them)".to_string()
                    } else {
                        format!("; did you mean {}?", like.join(" or "))
                    };
                    return usage(&format!(
                        "`{id}` is not a check, framework or framework/control in the catalog{hint}"
                    ));
                }
            }
        }
        CatalogCmd::ImportOscal(_) => return 0,
        CatalogCmd::Crosswalk(_) => {
            if json {
                pretty(&listing::crosswalk_json(&cat))
            } else {
                listing::crosswalk_text(&cat)
            }
        }
        CatalogCmd::Validate(_) => {
            let controls: usize = cat.frameworks.iter().map(|f| f.controls.len()).sum();
            let v = serde_json::json!({
                "valid": true,
                "files": cat.files.len(),
                "checks": cat.checks.len(),
                "frameworks": cat.frameworks.len(),
                "controls": controls,
                "crosswalk_mappings": cat.crosswalk.len(),
            });
            if json {
                pretty(&v)
            } else {
                format!(
                    "catalog is valid: {} file(s), {} check(s), {} framework(s), {controls} control(s), {} crosswalk mapping(s)",
                    cat.files.len(),
                    cat.checks.len(),
                    cat.frameworks.len(),
                    cat.crosswalk.len()
                )
            }
        }
    };
    let mut so = std::io::stdout().lock();
    let _ = writeln!(so, "{}", out.trim_end());
    0
}

fn usage(msg: &str) -> u8 {
    eprintln!("error[usage]: {msg}");
    2
}

fn now() -> Ts {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Ts(secs * 1_000_000_000)
}

/// Project settings (`evidentia.yaml`); command-line options override them.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Name of the audited entity (report cover).
    #[serde(default)]
    entity: Option<String>,
    #[serde(default)]
    controls: Option<PathBuf>,
    #[serde(default)]
    sources: Option<PathBuf>,
    #[serde(default)]
    data: Option<PathBuf>,
    #[serde(default)]
    out: Option<PathBuf>,
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    period: Option<String>,
    #[serde(default)]
    frameworks: Vec<String>,
    #[serde(default)]
    fail_on: Option<FailOn>,
    #[serde(default)]
    waivers: Option<PathBuf>,
}

fn load_config(explicit: Option<&Path>) -> Result<Config, u8> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from("evidentia.yaml");
            if !p.exists() {
                return Ok(Config::default());
            }
            p
        }
    };
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return Err(usage(&format!("{shown}: {e}"))),
    };
    let doc = match evidentia::yaml::Doc::parse(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "error[yaml-syntax]: {shown}:{}:{}: {}",
                e.at.line, e.at.col, e.message
            );
            return Err(2);
        }
    };
    let mut diags = evidentia::diag::Diags::default();
    match evidentia::schema::typed::<Config>(&doc, &shown, &mut diags) {
        Some(c) => Ok(c),
        None => {
            for d in diags.finish() {
                eprintln!("{d}");
            }
            Err(2)
        }
    }
}

fn check(a: CheckArgs) -> u8 {
    let cfg = match load_config(a.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // For manifest.json: the command line as given and the settings file read.
    let argv: Vec<String> = std::env::args_os()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let settings_path = a
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("evidentia.yaml")).filter(|p| p.exists()));
    let controls = a
        .controls
        .or(cfg.controls)
        .unwrap_or_else(|| PathBuf::from("controls"));
    let sources = a
        .sources
        .or(cfg.sources)
        .unwrap_or_else(|| PathBuf::from("evidence/sources.yaml"));
    let data = a.data.or(cfg.data);
    let out_dir = a.out.or(cfg.out).unwrap_or_else(|| PathBuf::from("out"));
    let format = a
        .format
        .or(cfg.format)
        .unwrap_or_else(|| "text,json,csv".to_string());
    let fail_on = a.fail_on.or(cfg.fail_on).unwrap_or(FailOn::Exception);
    let frameworks = if a.frameworks.is_empty() {
        cfg.frameworks
    } else {
        a.frameworks
    };
    let as_of_arg = a.as_of.or(cfg.as_of);
    let period_arg = a.period.or(cfg.period);
    let entity = cfg.entity;
    let preset = onboard::preset_use(a.preset, a.exports, a.timezone);
    let severity = match onboard::severity_overrides(&a.deny, &a.warn, &a.allow) {
        Ok(s) => s,
        Err(m) => return usage(&m),
    };
    let annotate = match onboard::annotations_wanted(a.annotations.as_deref()) {
        Ok(x) => x,
        Err(m) => return usage(&m),
    };
    // With a preset there is no sources file to look for waivers.yaml beside.
    let waivers = a.waivers.or(cfg.waivers).or_else(|| {
        if preset.is_some() {
            return None;
        }
        let p = sources
            .parent()
            .unwrap_or(Path::new("."))
            .join("waivers.yaml");
        p.exists().then_some(p)
    });
    let mut formats = Vec::new();
    for f in format.split(',') {
        if f.trim() == "all" {
            formats.extend_from_slice(Format::ALL);
        } else {
            match Format::parse(f) {
                Some(x) => formats.push(x),
                None => {
                    return usage(&format!(
                        "--format `{f}`: use text, json, csv, ids, html, md, oscal, poam, junit, sarif or all"
                    ));
                }
            }
        }
    }
    formats.sort();
    formats.dedup();
    let as_of = match &as_of_arg {
        Some(s) => match parse_instant(s) {
            Ok(t) => t,
            Err(m) => return usage(&format!("--as-of: {m}")),
        },
        None => now(),
    };
    let period = match &period_arg {
        Some(p) => match parse_period(p) {
            Ok(p) => p,
            Err(m) => return usage(&format!("--period: {m}")),
        },
        None => evidentia::assess::Period {
            start: None,
            end: None,
        },
    };
    if let Err(m) = check_out_dir(&out_dir, &controls, &sources, data.as_deref()) {
        return usage(&m);
    }
    let opts = CheckOptions {
        controls,
        sources,
        data,
        as_of,
        period,
        frameworks,
        keep_going: a.keep_going,
        fail_on,
        allow_empty: a.allow_empty,
        entity,
        waivers,
        sample: a.sample,
        progress: terminal_progress(),
        preset,
        severity,
        max_exceptions: a.max_exceptions,
        remediations: formats.contains(&Format::Poam),
        open_findings: formats.contains(&Format::Html),
    };
    let out = match evidentia::run_check(&opts) {
        Ok(o) => o,
        Err(diags) => {
            let n = diags
                .iter()
                .filter(|d| {
                    d.level == evidentia::diag::Level::Error
                        && d.code != evidentia::diag::Code::TooManyErrors
                })
                .count()
                + diags
                    .iter()
                    .find(|d| d.code == evidentia::diag::Code::TooManyErrors)
                    .map(|d| {
                        d.message
                            .split_whitespace()
                            .next()
                            .and_then(|x| x.parse::<usize>().ok())
                            .unwrap_or(0)
                    })
                    .unwrap_or(0);
            let input_errors = diags.iter().any(|d| {
                use evidentia::diag::Code as C;
                matches!(
                    d.code,
                    C::UnparseableValue
                        | C::NaiveTimestamp
                        | C::DanglingReference
                        | C::RaggedRow
                        | C::MissingId
                        | C::DuplicateRecord
                        | C::InvalidUtf8
                        | C::CsvSyntax
                        | C::JsonSyntax
                )
            });
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "evidentia: {n} error(s); nothing was evaluated{}",
                if input_errors {
                    " (use --keep-going to evaluate the rest of the export and count rejected records as exceptions)"
                } else {
                    ""
                }
            );
            return 2;
        }
    };
    for d in &out.diagnostics {
        eprintln!("{d}");
    }
    // Each file written, with its SHA-256 for the manifest (the bytes are not kept: the
    // outputs of a large run are hundreds of megabytes).
    let mut written: Vec<(&str, String)> = Vec::new();
    for f in &formats {
        let (a, g) = (&out.assessment, &out.gate);
        let bytes = match f {
            Format::Text => {
                let text = report::text::render(a, g);
                let mut so = std::io::stdout().lock();
                // A closed pipe (e.g. `| head`) is not an error.
                let _ = so.write_all(text.as_bytes());
                continue;
            }
            Format::Json => Some(report::json::render(a, g)),
            Format::Csv => Some(report::csv::render(a)),
            Format::Ids => Some(report::csv::render_ids(a)),
            Format::Html => Some(report::html::render(a, g)),
            Format::Md => Some(report::markdown::render(a, g)),
            Format::Junit => Some(report::junit::render(a, g)),
            Format::Sarif => Some(report::sarif::render(a, g, &report::locate::Lines::scan(a))),
            // The OSCAL documents are the largest outputs: written as they are made.
            Format::Oscal | Format::Poam => None,
        };
        let Some(name) = f.file_name() else { continue };
        let hash = match (bytes, f) {
            (Some(b), _) => write_atomic(&out_dir, name, &b),
            (None, Format::Poam) => write_atomic_with(&out_dir, name, |w| {
                report::oscal::write_poam(a, &out.remediations, w)
            }),
            (None, _) => write_atomic_with(&out_dir, name, |w| report::oscal::write(a, g, w)),
        };
        match hash {
            Ok(h) => written.push((name, h)),
            Err(e) => {
                eprintln!("error[io]: {}: {e}", out_dir.join(name).display());
                return 2;
            }
        }
    }
    // A preset run: the sources it expanded to go into the bundle as its sources file.
    let mut sources_used = opts.sources.clone();
    if !written.is_empty()
        && let Some(text) = opts.preset.as_ref().and_then(onboard::preset_text)
    {
        match write_atomic(&out_dir, onboard::PRESET_SOURCES, text.as_bytes()) {
            Ok(h) => written.push((onboard::PRESET_SOURCES, h)),
            Err(e) => {
                eprintln!(
                    "error[io]: {}: {e}",
                    out_dir.join(onboard::PRESET_SOURCES).display()
                );
                return 2;
            }
        }
        sources_used = onboard::preset_sources_path(&out_dir);
    }
    // The evidence bundle: manifest.json and SHA256SUMS whenever a file was written.
    if !written.is_empty() {
        use report::manifest::{MANIFEST, RunInfo, SUMS, manifest, sha256sums};
        let run = RunInfo {
            argv: &argv,
            settings: settings_path.as_deref(),
            sources: &sources_used,
            waivers: opts.waivers.as_deref(),
        };
        let man = manifest(&out.assessment, &run, &written);
        written.push((MANIFEST, report::manifest::sha256_hex(&man)));
        let sums = sha256sums(&written);
        for (name, bytes) in [(MANIFEST, &man), (SUMS, &sums)] {
            if let Err(e) = write_atomic(&out_dir, name, bytes) {
                eprintln!("error[io]: {}: {e}", out_dir.join(name).display());
                return 2;
            }
        }
    }
    if annotate {
        let text = report::annotations::render(
            &out.assessment,
            &out.gate,
            &report::locate::Lines::scan(&out.assessment),
        );
        let mut so = std::io::stdout().lock();
        let _ = so.write_all(text.as_bytes());
    }
    if !out.gate.passed && !formats.contains(&Format::Text) {
        for r in &out.gate.reasons {
            eprintln!("gate: {r}");
        }
    }
    let code = out.exit_code() as u8;
    // The process ends here: freeing every record one by one would only slow the exit.
    std::mem::forget(out);
    code
}

/// `evidentia verify DIR`: recompute the hashes the manifest records, re-run the
/// recorded command line into a temporary folder and compare the outputs byte for byte.
fn verify(a: VerifyArgs) -> u8 {
    use report::manifest;
    let m = match manifest::load(&a.dir) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error[manifest]: {e}");
            return 2;
        }
    };
    let mut diffs = manifest::check_hashes(&a.dir, &a.root, &m);
    let tmp = match tempdir_for_verify() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error[io]: cannot create a temporary folder: {e}");
            return 2;
        }
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("evidentia"));
    let run = std::process::Command::new(exe)
        .args(manifest::rerun_args(&m, &tmp))
        .current_dir(&a.root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output();
    match run {
        Ok(o) if o.status.code() == Some(2) || o.status.code().is_none() => diffs.push(format!(
            "re-run of the recorded command line failed: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        )),
        Ok(_) => diffs.extend(manifest::compare_outputs(&a.dir, &tmp, &m)),
        Err(e) => diffs.push(format!("re-run could not start: {e}")),
    }
    let _ = std::fs::remove_dir_all(&tmp);
    if diffs.is_empty() {
        println!(
            "verified: {} output(s) and {} input and catalog file(s) match manifest.json and SHA256SUMS; the re-run at as-of {} gives byte-identical outputs",
            m.outputs.len(),
            m.inputs.len()
                + m.catalog.len()
                + 1
                + usize::from(m.settings.is_some())
                + usize::from(m.waivers.is_some()),
            m.as_of
        );
        0
    } else {
        for d in &diffs {
            println!("differs: {d}");
        }
        eprintln!("evidentia verify: {} difference(s)", diffs.len());
        1
    }
}

/// A fresh temporary folder for the re-run of `verify`.
fn tempdir_for_verify() -> std::io::Result<PathBuf> {
    let base = std::env::temp_dir();
    for i in 0..1000u32 {
        let p = base.join(format!("evidentia-verify-{}-{i}", std::process::id()));
        match std::fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free temporary folder name"))
}

/// On an interactive terminal (and not in CI), show reading progress on stderr: rows
/// read per file, the rate and the elapsed time. Never on a pipe or in CI logs.
fn terminal_progress() -> Option<evidentia::ProgressSink> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return None;
    }
    let start = std::time::Instant::now();
    Some(evidentia::ProgressSink(std::sync::Arc::new(
        move |file: &str, rows: u64, done: bool| {
            let secs = start.elapsed().as_secs_f64().max(1e-3);
            let end = if done { "\n" } else { "\r" };
            eprint!(
                "\x1b[2K  reading {file}: {rows} records, {:.0}/s, {secs:.1} s{end}",
                rows as f64 / secs
            );
        },
    )))
}

/// Refuse an output folder that is (or is inside) the controls or evidence folder.
fn check_out_dir(
    out: &Path,
    controls: &Path,
    sources: &Path,
    data: Option<&Path>,
) -> Result<(), String> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let evidence_dir = data.map(Path::to_path_buf).unwrap_or_else(|| {
        sources
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    });
    // The deepest folder of `out` that exists, made absolute, with the rest appended:
    // `evidence/new/out` is inside `evidence` before `new` exists.
    let out_abs = {
        let mut base = out;
        let mut rest = Vec::new();
        loop {
            let probe = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base
            };
            if let Some(c) = canon(probe) {
                break Some(rest.iter().rev().fold(c, |acc: PathBuf, p| acc.join(p)));
            }
            match (base.parent(), base.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name.to_os_string());
                    base = parent;
                }
                _ => break None,
            }
        }
    };
    for (what, dir) in [
        ("controls", controls.to_path_buf()),
        ("evidence", evidence_dir),
    ] {
        if let (Some(o), Some(d)) = (&out_abs, canon(&dir))
            && o.starts_with(&d)
        {
            return Err(format!(
                "--out {} is inside the {what} folder {}; evidentia never writes there",
                out.display(),
                dir.display()
            ));
        }
    }
    Ok(())
}

/// Write to a temporary file in the same folder, then rename: a reader never sees a
/// half-written report. Gives the SHA-256 (hex) of the bytes written.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<String> {
    write_atomic_with(dir, name, |w| w.write_all(bytes))
}

/// `write_atomic` for an output written piece by piece, hashed as it goes.
fn write_atomic_with(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<String> {
    use sha2::Digest;
    /// Hashes what goes through it.
    struct Hashed<W> {
        out: W,
        sha: sha2::Sha256,
    }
    impl<W: Write> Write for Hashed<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.out.write(buf)?;
            self.sha.update(buf.get(..n).unwrap_or(buf));
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.out.flush()
        }
    }
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|f| {
        let mut w = Hashed {
            out: std::io::BufWriter::with_capacity(1 << 20, f),
            sha: sha2::Sha256::new(),
        };
        write(&mut w)?;
        let f = w.out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(evidentia::evidence::read::hex(&w.sha.finalize()))
    });
    match written {
        Ok(h) => {
            std::fs::rename(&tmp, dir.join(name))?;
            Ok(h)
        }
        Err(e) => {
            // A failed write (disk full, file-size limit) leaves no temporary file behind.
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
