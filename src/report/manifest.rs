//! The evidence bundle: `manifest.json` and `SHA256SUMS`, and the checks behind
//! `evidentia verify`.
//!
//! `manifest.json` records what a reader needs to re-derive the outputs: the tool
//! version, the command line as given, the as-of instant and period, and the SHA-256
//! of the settings file, the sources file, the waivers file, every input export, every
//! catalog file and every output written beside it. It holds no wall-clock time, so the same command on
//! the same inputs writes the same bytes. `SHA256SUMS` (the format `sha256sum -c`
//! reads) covers every output, the manifest included.
//!
//! Verification is in three parts: the outputs' hashes (against the manifest and
//! SHA256SUMS), the inputs' hashes (reading the paths the manifest records, relative
//! to the folder the check ran in), and a re-run of the recorded command line whose
//! outputs must be byte-identical. The re-run itself is the binary's job
//! (`rerun_args` builds its arguments); this module compares.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use crate::assess::Assessment;
use crate::evidence::read::{hex, sha256_file};

/// File name of the manifest.
pub const MANIFEST: &str = "manifest.json";
/// File name of the checksum list.
pub const SUMS: &str = "SHA256SUMS";
/// Version of the manifest layout.
pub const MANIFEST_VERSION: u32 = 1;

/// What the binary knows about the run that the assessment does not.
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// The command line as given (`argv[0]` included).
    pub argv: &'a [String],
    /// The settings file read (`--config`, or `evidentia.yaml` when present).
    pub settings: Option<&'a Path>,
    /// The sources file.
    pub sources: &'a Path,
    /// The waivers file applied, if any.
    pub waivers: Option<&'a Path>,
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)[..])
}

fn file_entry(p: &Path) -> serde_json::Value {
    json!({
        "path": p.display().to_string(),
        "sha256": sha256_file(p).ok(),
    })
}

/// manifest.json for the outputs written (`(file name, bytes)`, any order).
/// `outputs`: each file written, with its SHA-256 (hex).
pub fn manifest(a: &Assessment, run: &RunInfo<'_>, outputs: &[(&str, String)]) -> Vec<u8> {
    let mut outs: Vec<(&str, &str)> = outputs.iter().map(|(n, h)| (*n, h.as_str())).collect();
    outs.sort();
    let v = json!({
        "manifest_version": MANIFEST_VERSION,
        "tool": { "name": "evidentia", "version": env!("CARGO_PKG_VERSION") },
        "command_line": run.argv,
        "as_of": a.as_of.to_string(),
        "period": {
            "start": a.period.start.map(|t| t.to_string()),
            "end": a.period.end.map(|t| t.to_string()),
        },
        "entity": a.entity,
        "settings": run.settings.map(file_entry),
        "sources": file_entry(run.sources),
        "waivers": run.waivers.map(file_entry),
        "inputs": a.inputs.iter().map(|i| json!({"path": i.path, "sha256": i.sha256})).collect::<Vec<_>>(),
        "catalog": a.catalog_files.iter().map(|(p, h)| json!({"path": p, "sha256": h})).collect::<Vec<_>>(),
        "outputs": outs.iter().map(|(n, h)| json!({"path": n, "sha256": h})).collect::<Vec<_>>(),
    });
    let mut b = serde_json::to_vec_pretty(&v).unwrap_or_default();
    b.push(b'\n');
    b
}

/// SHA256SUMS: `<hex>  <name>` per file (given with its SHA-256), sorted by name.
pub fn sha256sums(files: &[(&str, String)]) -> Vec<u8> {
    let mut lines: Vec<(&str, &str)> = files.iter().map(|(n, h)| (*n, h.as_str())).collect();
    lines.sort();
    let mut s = String::new();
    for (n, h) in lines {
        s.push_str(h);
        s.push_str("  ");
        s.push_str(n);
        s.push('\n');
    }
    s.into_bytes()
}

/// A file and its recorded hash.
#[derive(Debug, Clone, Deserialize)]
pub struct FileHash {
    /// Path (outputs: a file name in the bundle).
    pub path: String,
    /// SHA-256; `None` when the file could not be read when the manifest was written.
    pub sha256: Option<String>,
}

/// The parts of manifest.json that verification reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// Layout version.
    pub manifest_version: u32,
    /// Command line as given.
    pub command_line: Vec<String>,
    /// As-of instant.
    pub as_of: String,
    /// Settings file.
    #[serde(default)]
    pub settings: Option<FileHash>,
    /// Sources file.
    pub sources: FileHash,
    /// Waivers file.
    #[serde(default)]
    pub waivers: Option<FileHash>,
    /// Input exports.
    pub inputs: Vec<FileHash>,
    /// Catalog files.
    pub catalog: Vec<FileHash>,
    /// Outputs.
    pub outputs: Vec<FileHash>,
}

/// Read and check `DIR/manifest.json`. `Err` is a missing or invalid manifest.
pub fn load(dir: &Path) -> Result<Manifest, String> {
    let p = dir.join(MANIFEST);
    let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: not a valid manifest: {e}", p.display()))?;
    if m.manifest_version != MANIFEST_VERSION {
        return Err(format!(
            "{}: manifest_version {} is not supported (this evidentia reads {MANIFEST_VERSION})",
            p.display(),
            m.manifest_version
        ));
    }
    if m.command_line.get(1).map(String::as_str) != Some("check") {
        return Err(format!(
            "{}: the recorded command line is not an `evidentia check` run",
            p.display()
        ));
    }
    for o in &m.outputs {
        let bare = Path::new(&o.path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned());
        if bare.as_deref() != Some(o.path.as_str()) || o.path == MANIFEST || o.path == SUMS {
            return Err(format!(
                "{}: output `{}` is not a file name of the bundle",
                p.display(),
                o.path
            ));
        }
    }
    Ok(m)
}

fn resolve(root: &Path, p: &str) -> PathBuf {
    let path = Path::new(p);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}

fn compare_hash(what: &str, shown: &str, path: &Path, want: Option<&str>, out: &mut Vec<String>) {
    match (sha256_file(path), want) {
        (Ok(h), Some(w)) if h == w => {}
        (Ok(h), Some(w)) => out.push(format!(
            "{what} {shown}: SHA-256 is {h}, the manifest records {w}"
        )),
        (Ok(_), None) => out.push(format!(
            "{what} {shown}: the manifest records no SHA-256 (unreadable when written)"
        )),
        (Err(e), _) => out.push(format!(
            "{what} {shown}: cannot read {}: {e}",
            path.display()
        )),
    }
}

/// Differences between the bundle's files and their recorded hashes: every output
/// (against the manifest and SHA256SUMS), and every input, catalog, sources, waivers
/// and settings file (at the recorded paths, relative ones taken from `root`).
pub fn check_hashes(dir: &Path, root: &Path, m: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for o in &m.outputs {
        compare_hash(
            "output",
            &o.path,
            &dir.join(&o.path),
            o.sha256.as_deref(),
            &mut out,
        );
    }
    // SHA256SUMS: every line must match, and it must cover the manifest and outputs.
    match std::fs::read_to_string(dir.join(SUMS)) {
        Err(e) => out.push(format!("{SUMS}: cannot read: {e}")),
        Ok(text) => {
            let mut listed = Vec::new();
            for (n, line) in text.lines().enumerate() {
                let Some((h, name)) = line.split_once("  ") else {
                    out.push(format!("{SUMS}:{}: not `<sha256>  <file>`", n + 1));
                    continue;
                };
                listed.push(name.to_string());
                compare_hash(SUMS, name, &dir.join(name), Some(h), &mut out);
            }
            for need in std::iter::once(MANIFEST).chain(m.outputs.iter().map(|o| o.path.as_str())) {
                if !listed.iter().any(|l| l == need) {
                    out.push(format!("{SUMS}: does not list {need}"));
                }
            }
        }
    }
    let mut inputs: Vec<(&str, &FileHash)> = Vec::new();
    if let Some(s) = &m.settings {
        inputs.push(("settings file", s));
    }
    inputs.push(("sources file", &m.sources));
    if let Some(w) = &m.waivers {
        inputs.push(("waivers file", w));
    }
    inputs.extend(m.inputs.iter().map(|f| ("input", f)));
    inputs.extend(m.catalog.iter().map(|f| ("catalog file", f)));
    for (what, f) in inputs {
        compare_hash(
            what,
            &f.path,
            &resolve(root, &f.path),
            f.sha256.as_deref(),
            &mut out,
        );
    }
    out
}

/// The recorded command line (without `argv[0]`) with `--out` set to `out` and
/// `--as-of` set to the recorded instant, so a run that defaulted to "now" re-runs
/// at the same instant.
pub fn rerun_args(m: &Manifest, out: &Path) -> Vec<String> {
    let mut args = Vec::new();
    let mut it = m.command_line.iter().skip(1);
    while let Some(a) = it.next() {
        if a == "--out" || a == "--as-of" {
            it.next();
            continue;
        }
        if a.starts_with("--out=") || a.starts_with("--as-of=") {
            continue;
        }
        args.push(a.clone());
    }
    args.push("--out".into());
    args.push(out.display().to_string());
    args.push("--as-of".into());
    args.push(m.as_of.clone());
    args
}

/// Differences between the bundle's outputs and those of the re-run in `rerun`.
pub fn compare_outputs(dir: &Path, rerun: &Path, m: &Manifest) -> Vec<String> {
    let mut out = Vec::new();
    for o in &m.outputs {
        match (
            std::fs::read(dir.join(&o.path)),
            std::fs::read(rerun.join(&o.path)),
        ) {
            (Ok(a), Ok(b)) if a == b => {}
            (Ok(a), Ok(b)) => {
                let at = a
                    .iter()
                    .zip(&b)
                    .position(|(x, y)| x != y)
                    .unwrap_or(a.len().min(b.len()));
                out.push(format!(
                    "output {}: the re-run gives different bytes (first difference at byte {at}; {} vs {} bytes)",
                    o.path,
                    a.len(),
                    b.len()
                ));
            }
            (Err(_), _) => {} // reported by check_hashes
            (Ok(_), Err(e)) => out.push(format!(
                "output {}: the re-run did not write it: {e}",
                o.path
            )),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn m(argv: &[&str]) -> Manifest {
        Manifest {
            manifest_version: 1,
            command_line: argv.iter().map(|s| s.to_string()).collect(),
            as_of: "2026-03-31T12:00:00Z".into(),
            settings: None,
            sources: FileHash {
                path: "s".into(),
                sha256: None,
            },
            waivers: None,
            inputs: vec![],
            catalog: vec![],
            outputs: vec![],
        }
    }

    #[test]
    fn rerun_replaces_out_and_as_of() {
        let a = rerun_args(
            &m(&[
                "evidentia",
                "check",
                "--out",
                "o",
                "--as-of=2020-01-01T00:00:00Z",
                "--format",
                "all",
            ]),
            Path::new("/tmp/x"),
        );
        assert_eq!(
            a,
            [
                "check",
                "--format",
                "all",
                "--out",
                "/tmp/x",
                "--as-of",
                "2026-03-31T12:00:00Z"
            ]
        );
    }

    #[test]
    fn sums_are_sorted_sha256sum_lines() {
        let s = String::from_utf8(sha256sums(&[
            ("b", sha256_hex(b"x")),
            ("a", sha256_hex(b"")),
        ]))
        .unwrap();
        assert_eq!(
            s,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n\
             2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881  b\n"
        );
    }
}
