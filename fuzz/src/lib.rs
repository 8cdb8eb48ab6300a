//! Helpers shared by the fuzz targets: a scratch folder per fuzzing process, the
//! repository root, the "every field" projection, and the invariants every target
//! checks on what the library returns (beyond "it did not panic").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use evidentia::diag::{Code, Diagnostic, Level};
use evidentia::evidence::Evidence;
use evidentia::evidence::read::Needs;
use evidentia::evidence::tables::TABLES;

/// The evidentia repository (the parent of `fuzz/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A scratch folder for this process (`/dev/shm/evidentia-fuzz-<pid>/<name>`, or under
/// the temp dir), created on first use. Each process gets its own, so parallel
/// `-jobs` workers never share files; targets overwrite the files they use. libFuzzer
/// exits without running destructors: remove `evidentia-fuzz-*` after a session.
pub fn scratch(name: &str) -> PathBuf {
    static BASE: OnceLock<PathBuf> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let root = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        root.join(format!("evidentia-fuzz-{}", std::process::id()))
    });
    let p = base.join(name);
    let _ = std::fs::create_dir_all(&p);
    p
}

/// Every field of every table: the reader then types (and may reject) every value.
pub fn all_needs() -> Needs {
    let mut n = Needs::new();
    for t in TABLES {
        n.insert(t.name, (0..t.fields.len()).collect::<BTreeSet<usize>>());
    }
    n
}

/// Every diagnostic names a file; an error about an export says where in it.
pub fn check_diagnostics(diags: &[Diagnostic], export_files: &[&str]) {
    for d in diags {
        assert!(!d.file.is_empty() || d.code == Code::TooManyErrors, "{d}");
        assert!(!d.message.is_empty(), "{d:?}");
        if d.level == Level::Error && export_files.iter().any(|f| d.file.ends_with(f)) {
            let located = d.line.is_some() || d.pointer.is_some();
            let whole_file = matches!(d.code, Code::EmptyFile | Code::Io);
            assert!(located || whole_file, "unlocated export error: {d}");
        }
    }
}

/// read = evaluated + out of period + rejected, for every input, without the
/// saturating subtraction in `apply_period` hiding an over-count of rejections.
pub fn check_reconcile(ev: &Evidence) {
    for i in &ev.inputs {
        assert!(
            i.rows_rejected <= i.rows_read,
            "{}: {} rejected of {} read",
            i.path,
            i.rows_rejected,
            i.rows_read
        );
        assert_eq!(
            i.rows_read,
            i.rows_evaluated + i.rows_out_of_period + i.rows_rejected,
            "{} does not reconcile",
            i.path
        );
    }
}

/// Bytes as text the way the CLI would take them (YAML files must be UTF-8).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}
