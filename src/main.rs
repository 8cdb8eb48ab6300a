//! The `evidentia` command line: parses arguments, runs the library, writes outputs
//! and maps the result to an exit code (0 gate passed, 1 gate failed, 2 usage,
//! catalog or input error). The only place that reads the wall clock (the default
//! as-of) or prints.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use evidentia::report::{self, FailOn, Format};
use evidentia::time::Ts;
use evidentia::{CheckOptions, parse_instant, parse_period};

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
    /// Outputs, comma-separated: text, json, csv, ids, or all [default: text,json,csv].
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        Cmd::Check(a) => check(a),
        Cmd::Catalog { cmd } => catalog(cmd),
    };
    ExitCode::from(code)
}

fn catalog(cmd: CatalogCmd) -> u8 {
    use evidentia::catalog::listing;
    let args = match &cmd {
        CatalogCmd::List(a) | CatalogCmd::Validate(a) | CatalogCmd::Crosswalk(a) => a,
        CatalogCmd::Show { args, .. } => args,
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
        CatalogCmd::Show { id, .. } => match listing::show_json(&cat, &id) {
            Some(v) => pretty(&v),
            None => {
                return usage(&format!(
                    "`{id}` is not a check, framework or framework/control in the catalog"
                ));
            }
        },
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
    let waivers = a.waivers.or(cfg.waivers).or_else(|| {
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
                None => return usage(&format!("--format `{f}`: use text, json, csv, ids or all")),
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
    };
    let out = match evidentia::run_check(&opts) {
        Ok(o) => o,
        Err(diags) => {
            let n = diags
                .iter()
                .filter(|d| d.level == evidentia::diag::Level::Error)
                .count();
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "evidentia: {n} error(s); nothing was evaluated (use --keep-going to evaluate the rest of an export)"
            );
            return 2;
        }
    };
    for d in &out.diagnostics {
        eprintln!("{d}");
    }
    for f in &formats {
        let bytes = match f {
            Format::Text => {
                let text = report::text::render(&out.assessment, &out.gate);
                let mut so = std::io::stdout().lock();
                // A closed pipe (e.g. `| head`) is not an error.
                let _ = so.write_all(text.as_bytes());
                continue;
            }
            Format::Json => report::json::render(&out.assessment, &out.gate),
            Format::Csv => report::csv::render(&out.assessment),
            Format::Ids => report::csv::render_ids(&out.assessment),
        };
        let Some(name) = f.file_name() else { continue };
        if let Err(e) = write_atomic(&out_dir, name, &bytes) {
            eprintln!("error[io]: {}: {e}", out_dir.join(name).display());
            return 2;
        }
    }
    if !out.gate.passed && !formats.contains(&Format::Text) {
        for r in &out.gate.reasons {
            eprintln!("gate: {r}");
        }
    }
    out.exit_code() as u8
}

/// Refuse an output folder that is (or is inside) the controls or evidence folder.
fn check_out_dir(
    out: &Path,
    controls: &Path,
    sources: &Path,
    data: Option<&Path>,
) -> Result<(), String> {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let evidence_dir = data
        .map(Path::to_path_buf)
        .unwrap_or_else(|| sources.parent().map(Path::to_path_buf).unwrap_or_default());
    let out_abs = canon(out).or_else(|| {
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        canon(parent).map(|p| p.join(out.file_name().unwrap_or_default()))
    });
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
/// half-written report.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))
}
