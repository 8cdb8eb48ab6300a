//! The CLI's onboarding and CI-gate options: `init --preset`, `evidence inspect`, and
//! the `check` options `--preset/--export/--timezone`, `--deny/--warn/--allow` and
//! `--annotations`. Argument parsing and printing only; the work is in the library
//! (`evidentia::{evidence::presets, inspect, report::annotations}`).

use std::io::Write;
use std::path::{Path, PathBuf};

use evidentia::catalog::Severity;
use evidentia::evidence::presets::{self, PresetUse};

use super::{load_config, usage, write_atomic};

/// The file in `--out` holding the sources a preset expanded to (recorded in
/// manifest.json as the run's sources file).
pub const PRESET_SOURCES: &str = "preset-sources.yaml";

/// `evidentia init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The preset to write (`--list` shows them).
    #[arg(long, value_name = "NAME", required_unless_present = "list")]
    preset: Option<String>,
    /// Folder to write sources.yaml into.
    #[arg(long, value_name = "DIR", default_value = "evidence")]
    dir: PathBuf,
    /// Zone of timestamps written without an offset (IANA name), for the presets whose
    /// exports need one (pagerduty-analytics, jira, servicenow).
    #[arg(long, value_name = "ZONE")]
    timezone: Option<String>,
    /// Replace an existing sources.yaml.
    #[arg(long)]
    force: bool,
    /// List the presets and what each reads.
    #[arg(long)]
    list: bool,
}

/// Write a preset's sources.yaml (or list the presets).
pub fn init(a: InitArgs) -> u8 {
    let mut so = std::io::stdout().lock();
    if a.list {
        for p in presets::PRESETS {
            let files: Vec<String> = p
                .tables()
                .into_iter()
                .filter(|(_, f)| !f.is_empty())
                .map(|(t, f)| format!("{t}: {}", f.join(", ")))
                .collect();
            let _ = writeln!(
                so,
                "{:<20} {}{}\n{:<20} reads {}",
                p.name,
                p.about,
                if p.needs_zone.is_some() {
                    " [needs --timezone]"
                } else {
                    ""
                },
                "",
                files.join("; ")
            );
        }
        return 0;
    }
    let name = a.preset.unwrap_or_default();
    let p = match presets::get(&name) {
        Ok(p) => p,
        Err(m) => return usage(&format!("--preset: {m}")),
    };
    let text = match p.render(a.timezone.as_deref()) {
        Ok(t) => t,
        Err(m) => return usage(&m),
    };
    let target = a.dir.join("sources.yaml");
    if target.exists() && !a.force {
        return usage(&format!(
            "{} exists; pass --force to replace it",
            target.display()
        ));
    }
    if let Err(e) = write_atomic(&a.dir, "sources.yaml", text.as_bytes()) {
        eprintln!("error[io]: {}: {e}", target.display());
        return 2;
    }
    let files: Vec<String> = p
        .tables()
        .into_iter()
        .flat_map(|(_, f)| f)
        .map(|f| a.dir.join(f).display().to_string())
        .collect();
    let _ = writeln!(
        so,
        "wrote {} (preset `{}`: {}).\nPut the export(s) there as {}, read the comments in the file, then run:\n  evidentia evidence inspect --sources {}\n  evidentia check --sources {}",
        target.display(),
        p.name,
        p.about,
        files.join(", "),
        target.display(),
        target.display()
    );
    0
}

/// `--preset NAME [--export [TABLE=]FILE]... [--timezone ZONE]` as given.
pub fn preset_use(
    preset: Option<String>,
    exports: Vec<String>,
    timezone: Option<String>,
) -> Option<PresetUse> {
    preset.map(|name| PresetUse {
        name,
        timezone,
        exports,
    })
}

/// `--deny/--warn/--allow CHECK` as (check, severity); a check named twice is an error.
pub fn severity_overrides(
    deny: &[String],
    warn: &[String],
    allow: &[String],
) -> Result<Vec<(String, Severity)>, String> {
    let mut out: Vec<(String, Severity)> = Vec::new();
    for (list, sev) in [
        (deny, Severity::Deny),
        (warn, Severity::Warn),
        (allow, Severity::Allow),
    ] {
        for id in list {
            if let Some((_, s)) = out.iter().find(|(x, _)| x == id) {
                return Err(format!(
                    "check `{id}` is given to both --{} and --{}",
                    evidentia::severity_flag(*s),
                    evidentia::severity_flag(sev)
                ));
            }
            out.push((id.clone(), sev));
        }
    }
    Ok(out)
}

/// Print annotations? `--annotations github|none`, else `GITHUB_ACTIONS=true`.
pub fn annotations_wanted(arg: Option<&str>) -> Result<bool, String> {
    match arg {
        Some("github") => Ok(true),
        Some("none") => Ok(false),
        Some(o) => Err(format!("--annotations `{o}`: use github or none")),
        None => Ok(std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")),
    }
}

/// The text a preset expanded to, for the evidence bundle.
pub fn preset_text(p: &PresetUse) -> Option<String> {
    presets::get(&p.name)
        .ok()
        .and_then(|x| x.render(p.timezone.as_deref()).ok())
}

/// `evidentia evidence ...`.
#[derive(clap::Subcommand, Debug)]
pub enum EvidenceCmd {
    /// What an export gives, per table: records read, rejected (with reasons) and
    /// superseded; each field with its source, coverage and date range or common
    /// values; columns no field reads; and the fields each check needs that the export
    /// lacks. Exit 0 when the export reads without input errors, 1 with input errors,
    /// 2 when the sources or catalog cannot be loaded.
    Inspect(InspectArgs),
}

/// `evidentia evidence inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Project settings file (default: evidentia.yaml in the working directory, if present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The sources file describing the exports [default: evidence/sources.yaml].
    #[arg(long, conflicts_with = "preset")]
    sources: Option<PathBuf>,
    /// Read the exports through a shipped preset (`evidentia init --list`).
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// With --preset: an export file, `FILE` for incidents or `TABLE=FILE` (repeatable).
    #[arg(long = "export", value_name = "[TABLE=]FILE", requires = "preset")]
    exports: Vec<String>,
    /// With --preset: the zone of timestamps written without an offset (IANA name).
    #[arg(long, value_name = "ZONE", requires = "preset")]
    timezone: Option<String>,
    /// Folder the export paths are relative to.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Folder of catalog files, for the fields each check needs [default: controls, when present].
    #[arg(long)]
    controls: Option<PathBuf>,
    /// Only the checks of this framework (repeatable).
    #[arg(long = "framework", value_name = "ID")]
    frameworks: Vec<String>,
    /// text or json.
    #[arg(long, default_value = "text")]
    format: String,
}

/// Run `evidentia evidence inspect`.
pub fn evidence(cmd: EvidenceCmd) -> u8 {
    let EvidenceCmd::Inspect(a) = cmd;
    let json = match a.format.as_str() {
        "json" => true,
        "text" => false,
        other => return usage(&format!("--format `{other}`: use text or json")),
    };
    let cfg = match load_config(a.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let explicit_controls = a.controls.is_some();
    let controls = a
        .controls
        .or(cfg.controls)
        .unwrap_or_else(|| PathBuf::from("controls"));
    if explicit_controls && !controls.exists() {
        return usage(&format!(
            "--controls {}: no such folder",
            controls.display()
        ));
    }
    let opts = evidentia::inspect::InspectOptions {
        controls: Some(controls),
        sources: a
            .sources
            .or(cfg.sources)
            .unwrap_or_else(|| PathBuf::from("evidence/sources.yaml")),
        data: a.data.or(cfg.data),
        preset: preset_use(a.preset, a.exports, a.timezone),
        frameworks: if a.frameworks.is_empty() {
            cfg.frameworks
        } else {
            a.frameworks
        },
    };
    match evidentia::inspect::inspect(&opts) {
        Ok(x) => {
            let text = if json {
                evidentia::inspect::render_json(&x)
            } else {
                evidentia::inspect::render_text(&x)
            };
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(text.as_bytes());
            x.exit_code()
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            eprintln!(
                "evidentia: {} error(s); nothing was read",
                evidentia::inspect::error_count(&diags)
            );
            2
        }
    }
}

/// Where the bundle records the sources of a preset run.
pub fn preset_sources_path(out_dir: &Path) -> PathBuf {
    out_dir.join(PRESET_SOURCES)
}
