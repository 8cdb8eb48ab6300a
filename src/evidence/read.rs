//! Readers: CSV, JSON and NDJSON exports through a `TableSource` mapping into
//! canonical tables. Part of the evidence stage.
//!
//! Each file is read once, streaming through a SHA-256 hasher, and every table bound
//! to it (its own and the tables derived from it) takes its rows from the same pass.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::PathBuf;

use serde_json::Value as J;
use sha2::{Digest, Sha256};

use super::csvscan::{Record, Scanner, bom_len};
use super::sources::{ColumnSpec, Format, TableSource};
use super::tables::{Kind, TableDef};
use super::{Evidence, Input, Loc, Near, Owned, Rejected, Table, Value};
use crate::diag::{Code, Diagnostic, Diags};
use crate::time::{TimeError, parse_ts};

mod par;
use par::as_part;
pub use par::{tune, tune_defaults};

/// Canonical fields each table must materialise (by canonical index).
pub type Needs = BTreeMap<&'static str, BTreeSet<usize>>;

/// A reader that hashes every byte it passes on.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = buf.get(..n) {
            self.hash.update(b);
        }
        Ok(n)
    }
}

impl<R: Read> Hashing<R> {
    /// Hash what is left unread, then return the digest.
    fn finish(mut self) -> io::Result<String> {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = self.inner.read(&mut buf)?;
            if n == 0 {
                break;
            }
            if let Some(b) = buf.get(..n) {
                self.hash.update(b);
            }
        }
        Ok(hex(&self.hash.finalize()))
    }
}

/// A reader fed by a thread that reads the file and hashes it: SHA-256 runs on the
/// other core while this one parses.
struct Pipe {
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.chunk = c;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        Ok(copy_out(&self.chunk, &mut self.pos, buf))
    }
}

/// Copy what is left of `cur` from `pos` into `buf`, advancing `pos`.
fn copy_out(cur: &[u8], pos: &mut usize, buf: &mut [u8]) -> usize {
    let rest = cur.get(*pos..).unwrap_or(&[]);
    let n = rest.len().min(buf.len());
    if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
        dst.copy_from_slice(src);
    }
    *pos += n;
    n
}

/// Read `f` on a second thread, hashing every byte, and hand the bytes to `parse`.
/// Returns what `parse` returns and the file's SHA-256 (all bytes, even those `parse`
/// did not consume).
fn read_hashed<T>(f: File, parse: impl FnOnce(&mut Pipe) -> T) -> (T, io::Result<String>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<io::Result<Vec<u8>>>(8);
    std::thread::scope(|s| {
        let hasher = s.spawn(move || -> io::Result<String> {
            let mut f = f;
            let mut hash = Sha256::new();
            let mut open = true;
            loop {
                let mut chunk = vec![0u8; 1 << 20];
                let mut filled = 0;
                while filled < chunk.len() {
                    match f.read(chunk.get_mut(filled..).unwrap_or(&mut [])) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let msg = e.to_string();
                            let _ = tx.send(Err(e));
                            return Err(io::Error::other(msg));
                        }
                    }
                }
                if filled == 0 {
                    return Ok(hex(&hash.finalize()));
                }
                chunk.truncate(filled);
                hash.update(&chunk);
                if open && tx.send(Ok(chunk)).is_err() {
                    // The parser stopped early: keep hashing the rest.
                    open = false;
                }
            }
        });
        let mut pipe = Pipe {
            rx,
            chunk: Vec::new(),
            pos: 0,
        };
        let out = parse(&mut pipe);
        drop(pipe);
        let h = hasher
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("hashing thread failed")));
        (out, h)
    })
}

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// SHA-256 of a file's bytes.
pub fn sha256_file(path: &std::path::Path) -> io::Result<String> {
    let f = File::open(path)?;
    Hashing {
        inner: BufReader::new(f),
        hash: Sha256::new(),
    }
    .finish()
}

/// A table bound to a file, with its compiled getters.
struct Binding<'s> {
    src: &'s TableSource,
    /// For the id and each projected field: (canonical index, getter).
    getters: Vec<(usize, Getter)>,
    /// Index of `getters` entry per slot, in slot order.
    slot_of: Vec<usize>,
    /// The id getter.
    id: Getter,
    /// Fields read only to validate them: (canonical index, getter).
    validate: Vec<(usize, Getter)>,
    is_derived: bool,
    /// The `latest_by` column, when rows of one id are updates of one record.
    latest: Option<Getter>,
}

/// The columns (below 64) of a CSV file that no binding reads: bit `i` for column
/// `i` (`Scanner::set_unread`: their doubled quotes need not be undone).
fn unread_columns(ncols: usize, bindings: &[Binding<'_>]) -> u64 {
    let mut read = 0u64;
    for b in bindings {
        let named = (b.getters.iter().chain(&b.validate))
            .map(|(_, g)| g)
            .chain([&b.id])
            .chain(&b.latest);
        for g in named {
            if let Getter::Cols(cols, _) = g {
                for &c in cols {
                    read |= u32::try_from(c)
                        .ok()
                        .and_then(|c| 1u64.checked_shl(c))
                        .unwrap_or(0);
                }
            }
        }
    }
    let all = u32::try_from(ncols)
        .ok()
        .and_then(|n| 1u64.checked_shl(n))
        .map_or(u64::MAX, |b| b - 1);
    all & !read
}

#[derive(Debug, Clone)]
enum Getter {
    Absent,
    Const(String),
    /// CSV column index(es) (several when a header repeats), or JSON key/pointer.
    Cols(Vec<usize>, String),
    Json(String),
    /// JSON: a value inside an array element that matches a condition (`pick`).
    Pick(super::select::Pick),
}

/// Called while exports are read: (file as named, records read so far, finished?).
/// The binary shows it on a terminal; the library never prints.
pub type Progress = dyn Fn(&str, u64, bool) + Sync;

/// How often (in records) progress is reported.
const PROGRESS_EVERY: u64 = 1 << 16;

/// Load every table the sources describe, materialising the needed fields.
pub fn load(sources: &[TableSource], needs: &Needs) -> Evidence {
    load_with_progress(sources, needs, None)
}

/// `load`, reporting progress per file.
pub fn load_with_progress(
    sources: &[TableSource],
    needs: &Needs,
    progress: Option<&Progress>,
) -> Evidence {
    let (ev, rest) = load_phased(sources, needs, progress, None);
    rest.finish(ev, Vec::new())
}

/// Is a CSV file of this size read in parallel (in parts)?
pub fn read_in_parallel(len: u64) -> bool {
    par::parallel(len)
}

/// Receives each part of a streamed table as it is read (`crate::stream`): the
/// part's tables (the streamed table's and its derived tables' rows, those rejected
/// as duplicates already dead) and the lines of the part's records that were
/// rejected (perhaps with lines of other parts).
pub type Sink<'a> = dyn FnMut(&mut Evidence, &HashSet<u64>) + 'a;

/// A dangling reference found: (table, field, row, diagnostic).
pub type Late = (&'static str, usize, u32, Diagnostic);

/// Rejected ids by table (a reference to one is not dangling).
pub type RejectedIds = BTreeMap<&'static str, HashSet<Box<str>>>;

/// The rest of a load whose streamed table is read last (`load_phased`).
pub struct Pending<'s> {
    /// The streamed table's source group: its sources and input indexes.
    group: Option<(&'s TableSource, Vec<&'s TableSource>, Vec<u32>)>,
    /// Where the streamed group's tables are read (with every input slot).
    part: Evidence,
    /// Per source group, in order: its rejected records and diagnostics, held until
    /// `finish` so that they come in the order of a load without streaming. `None`:
    /// the streamed group.
    held: Vec<Option<(Vec<Rejected>, Diags)>>,
    rejected_ids: RejectedIds,
    /// Dangling references between the other tables, found before the streamed table
    /// is read (their rows are dead already, `early`), rejected in `finish`.
    late: Vec<Late>,
    early: HashSet<(&'static str, u32)>,
    progress: Option<&'s Progress>,
}

/// Load every table but `stream` (and the tables derived from it), and check the
/// references between them; the streamed table is read by `Pending::read` and the
/// load completed by `Pending::finish`. Without `stream` this is the whole load (the
/// rejections are held until `finish`).
pub fn load_phased<'s>(
    sources: &'s [TableSource],
    needs: &Needs,
    progress: Option<&'s Progress>,
    stream: Option<&str>,
) -> (Evidence, Pending<'s>) {
    let mut ev = Evidence::default();
    // Tables, with the projection: needed fields + id + period + references + skip_unless.
    for s in sources {
        let def = s.def;
        // The id is kept apart (Table::ids); it is a slot only when a check reads it.
        let mut proj: BTreeSet<usize> = needs.get(def.name).cloned().unwrap_or_default();
        for (i, f) in def.fields.iter().enumerate() {
            if f.refers_to.is_some() || def.period_fields.contains(&f.name) {
                proj.insert(i);
            }
        }
        if let Some(i) = s.skip_unless {
            proj.insert(i);
        }
        let proj: Vec<usize> = proj.into_iter().collect();
        ev.tables.insert(def.name, Table::new(def, &proj));
    }
    // Files in a stable order: each primary table's files, with its derived tables.
    // Inputs are numbered first; then each primary table (with its derived tables) is
    // read on its own thread into its own part, and the parts are merged in order, so
    // the result does not depend on which thread finishes first.
    let mut groups: Vec<(&TableSource, Vec<&TableSource>, Vec<u32>)> = Vec::new();
    for s in sources.iter().filter(|s| s.from.is_none()) {
        let derived: Vec<&TableSource> = sources
            .iter()
            .filter(|d| d.from.as_deref() == Some(s.def.name))
            .collect();
        let mut idxs = Vec::new();
        for (path, shown) in &s.files {
            idxs.push(ev.inputs.len() as u32);
            let mut tables = vec![s.def.name.to_string()];
            tables.extend(derived.iter().map(|d| d.def.name.to_string()));
            ev.inputs.push(Input {
                path: shown_path(path, shown),
                sha256: String::new(),
                tables,
                rows_read: 0,
                rows_evaluated: 0,
                rows_out_of_period: 0,
                rows_rejected: 0,
                rows_superseded: 0,
                records_pointer: None,
            });
            ev.primary.push(Some(s.def.name));
            ev.rejected_keys.push(HashSet::new());
        }
        groups.push((s, derived, idxs));
    }
    // Each part owns its tables and sees every input slot (locations are global).
    let new_part = |ev: &mut Evidence, s: &TableSource, derived: &[&TableSource]| {
        let mut part = Evidence {
            inputs: ev.inputs.clone(),
            primary: ev.primary.clone(),
            rejected_keys: vec![HashSet::new(); ev.inputs.len()],
            ..Evidence::default()
        };
        for t in std::iter::once(s).chain(derived.iter().copied()) {
            if let Some(table) = ev.tables.remove(t.def.name) {
                part.tables.insert(t.def.name, table);
            }
        }
        part
    };
    let streamed = groups
        .iter()
        .position(|(s, _, _)| Some(s.def.name) == stream);
    let mut pending = Pending {
        group: None,
        part: Evidence::default(),
        held: Vec::new(),
        rejected_ids: BTreeMap::new(),
        late: Vec::new(),
        early: HashSet::new(),
        progress,
    };
    if let Some(g) = streamed.and_then(|i| groups.get(i)) {
        let (s, derived, idxs) = g.clone();
        pending.part = new_part(&mut ev, s, &derived);
        for t in pending.part.tables.values_mut() {
            t.streamed = true;
        }
        pending.group = Some((s, derived, idxs));
    }
    type Part = (Evidence, RejectedIds);
    let parts: Vec<Option<Part>> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .enumerate()
            .map(|(gi, (s, derived, idxs))| {
                if Some(gi) == streamed {
                    return None;
                }
                let mut part = new_part(&mut ev, s, derived);
                let binds: Vec<&TableSource> =
                    std::iter::once(*s).chain(derived.iter().copied()).collect();
                Some(scope.spawn(move || {
                    let mut rejected_ids = BTreeMap::new();
                    for (&idx, (path, _)) in idxs.iter().zip(&s.files) {
                        read_file(
                            &mut part,
                            idx,
                            path,
                            &binds,
                            &mut rejected_ids,
                            progress,
                            None,
                        );
                    }
                    for t in part.tables.values_mut() {
                        t.shrink();
                    }
                    (part, rejected_ids)
                }))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                Some(h?.join().unwrap_or_else(|_| {
                    // Never silently lose a table: a failed reader is an error of the run.
                    let mut e = Evidence::default();
                    e.diags.push(Diagnostic::error(
                        Code::Io,
                        "-",
                        "internal error: a reading thread failed",
                    ));
                    (e, BTreeMap::new())
                }))
            })
            .collect()
    });
    for ((_, _, idxs), part) in groups.iter().zip(parts) {
        let held = part.map(|(part, rids)| {
            for (k, v) in rids {
                pending.rejected_ids.entry(k).or_default().extend(v);
            }
            take_part(&mut ev, part, idxs)
        });
        pending.held.push(held);
    }
    // References between the tables read: their rows are rejected in `finish`, but
    // are dead already for the streamed table's checks.
    pending.late = find_dangling(&mut ev, &pending.rejected_ids, &|_| true);
    for &(name, _, row, _) in &pending.late {
        if let Some(t) = ev.tables.get_mut(name)
            && t.dead.get(row as usize) == Some(false)
        {
            t.dead.set(row as usize, true);
            pending.early.insert((name, row));
        }
    }
    (ev, pending)
}

/// Move a group's tables and input counts into `ev`; give back its rejected records
/// and diagnostics.
fn take_part(ev: &mut Evidence, part: Evidence, idxs: &[u32]) -> (Vec<Rejected>, Diags) {
    let Evidence {
        tables,
        inputs,
        rejected,
        diags,
        rejected_keys,
        ..
    } = part;
    ev.tables.extend(tables);
    for &i in idxs {
        let i = i as usize;
        if let (Some(dst), Some(src)) = (ev.inputs.get_mut(i), inputs.get(i)) {
            *dst = src.clone();
        }
        if let (Some(dst), Some(src)) = (ev.rejected_keys.get_mut(i), rejected_keys.get(i)) {
            *dst = src.clone();
        }
    }
    (rejected, diags)
}

impl Pending<'_> {
    /// Read the streamed table's files, handing each part to `sink` as it is read.
    /// (Nothing to do without a streamed table.)
    pub fn read(&mut self, sink: &mut Sink<'_>) {
        let Some((s, derived, idxs)) = &self.group else {
            return;
        };
        let binds: Vec<&TableSource> = std::iter::once(*s).chain(derived.iter().copied()).collect();
        for (&idx, (path, _)) in idxs.iter().zip(&s.files) {
            read_file(
                &mut self.part,
                idx,
                path,
                &binds,
                &mut self.rejected_ids,
                self.progress,
                Some(&mut *sink),
            );
        }
        for t in self.part.tables.values_mut() {
            t.shrink();
        }
    }

    /// The ids rejected so far, by table.
    pub fn rejected_ids(&self) -> &RejectedIds {
        &self.rejected_ids
    }

    /// Complete the load: the streamed group's tables (ids and locations only) and
    /// counts, every rejection in the order of a load without streaming, and the
    /// references into the streamed group. `streamed_late`: the dangling references
    /// of the streamed table's rows, found as they were read (their rows by number in
    /// the streamed table).
    pub fn finish(mut self, mut ev: Evidence, streamed_late: Vec<Late>) -> Evidence {
        let mut group_tables: Vec<&'static str> = Vec::new();
        if let Some((_, _, idxs)) = &self.group {
            group_tables = self.part.tables.keys().copied().collect();
            let part = std::mem::take(&mut self.part);
            let held = take_part(&mut ev, part, idxs);
            if let Some(slot) = self.held.iter_mut().find(|h| h.is_none()) {
                *slot = Some(held);
            }
        }
        for (rejected, diags) in self.held.into_iter().flatten() {
            ev.rejected.extend(rejected);
            ev.diags.extend(diags);
        }
        let mut late = self.late;
        late.extend(streamed_late);
        if !group_tables.is_empty() {
            late.extend(find_dangling(&mut ev, &self.rejected_ids, &|to| {
                group_tables.contains(&to)
            }));
            // In the order one pass over every reference field gives.
            late.sort_by_key(|(name, fi, _, _)| (*name, *fi));
        }
        reject_dangling(&mut ev, late, &self.early);
        ev
    }
}

fn shown_path(path: &std::path::Path, shown: &str) -> String {
    let p = path.display().to_string();
    if p.is_empty() { shown.to_string() } else { p }
}

/// Per-file state while reading.
struct FileCtx<'a> {
    file: String,
    /// For JSON arrays: the array's pointer (record locations are indexes into it).
    records_pointer: Option<String>,
    /// Progress callback.
    progress: Option<&'a Progress>,
    file_idx: u32,
    rejected_recs: HashSet<u64>,
    diags: &'a mut Diags,
    /// A streamed table's file: each part goes to the sink once merged.
    sink: Option<&'a mut Sink<'a>>,
}

#[allow(clippy::too_many_arguments)]
fn read_file(
    ev: &mut Evidence,
    file_idx: u32,
    path: &PathBuf,
    binds: &[&TableSource],
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
    progress: Option<&Progress>,
    sink: Option<&mut Sink<'_>>,
) {
    let shown = ev
        .inputs
        .get(file_idx as usize)
        .map(|i| i.path.clone())
        .unwrap_or_default();
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            ev.diags.push(Diagnostic::error(
                Code::Io,
                &shown,
                format!("cannot open export: {e}"),
            ));
            return;
        }
    };
    let Some(format) = binds.first().map(|b| b.format) else {
        return;
    };
    let mut diags = std::mem::take(&mut ev.diags);
    let mut fc = FileCtx {
        file: shown.clone(),
        records_pointer: None,
        progress,
        file_idx,
        rejected_recs: HashSet::new(),
        diags: &mut diags,
        // The sink's own lifetime shortened to this reading's.
        sink: match sink {
            Some(s) => Some(s),
            None => None,
        },
    };
    let parallel = format == Format::Csv
        && binds.iter().all(|b| b.latest_by.is_none())
        && f.metadata().is_ok_and(|m| par::parallel(m.len()));
    let (rows_read, hash) = if parallel {
        par::read_csv_parallel(f, binds, ev, &mut fc, rejected_ids)
    } else if fc.sink.is_some() {
        // A streamed table's small file: one part.
        read_hashed(f, |reader| {
            as_part(
                ev,
                &mut fc,
                rejected_ids,
                |pev, fc, rids, names| match format {
                    Format::Csv => read_csv(reader, binds, pev, fc, rids, names),
                    Format::Json | Format::Ndjson => {
                        read_json(reader, format, binds, pev, fc, rids, names)
                    }
                },
            )
        })
    } else {
        read_hashed(f, |reader| match format {
            Format::Csv => read_csv(reader, binds, ev, &mut fc, rejected_ids, &mut Vec::new()),
            Format::Json | Format::Ndjson => read_json(
                reader,
                format,
                binds,
                ev,
                &mut fc,
                rejected_ids,
                &mut Vec::new(),
            ),
        })
    };
    if let Some(p) = fc.progress {
        p(&fc.file, rows_read, true);
    }
    let rejected = fc.rejected_recs.len() as u64;
    let keys: HashSet<u32> = fc
        .rejected_recs
        .iter()
        .map(|&k| u32::try_from(k).unwrap_or(u32::MAX))
        .collect();
    let records_pointer = fc.records_pointer.take();
    ev.diags = diags;
    match hash {
        Ok(h) => {
            if let Some(inp) = ev.inputs.get_mut(file_idx as usize) {
                inp.sha256 = h;
                inp.rows_read = rows_read;
                inp.rows_rejected = rejected;
                inp.records_pointer = records_pointer;
                if let Some(k) = ev.rejected_keys.get_mut(file_idx as usize) {
                    *k = keys;
                }
            }
        }
        Err(e) => ev.diags.push(Diagnostic::error(
            Code::Io,
            &shown,
            format!("read error: {e}"),
        )),
    }
}

/// Is this header cell the given column name (exact, else trimmed case-insensitive)?
fn find_cols(headers: &[String], name: &str) -> Vec<usize> {
    let exact: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.as_str() == name)
        .map(|(i, _)| i)
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    headers
        .iter()
        .enumerate()
        .filter(|(_, h)| h.trim().eq_ignore_ascii_case(name.trim()))
        .map(|(i, _)| i)
        .collect()
}

/// A column the sources file maps is not in the CSV header: say which, listing the
/// header's columns (line 1).
fn not_in_header(fc: &mut FileCtx<'_>, header: &[String], what: String) {
    fc.diags.push(
        Diagnostic::error(
            Code::MissingColumn,
            &fc.file,
            format!("{what}; columns: {}", header.join(", ")),
        )
        .at(1, 0),
    );
}

/// Compile getters for a binding. `headers`: CSV header names (None for JSON).
fn bind<'s>(
    src: &'s TableSource,
    parent: Option<&TableSource>,
    table: &mut Table,
    headers: Option<&[String]>,
    fc: &mut FileCtx<'_>,
) -> Option<Binding<'s>> {
    let def = src.def;
    let mut ok = true;
    let mut getter = |idx: usize, spec: Option<&ColumnSpec>, fc: &mut FileCtx<'_>| -> Getter {
        let fname = def.fields.get(idx).map(|f| f.name).unwrap_or("");
        match spec {
            Some(ColumnSpec::Const(v)) => Getter::Const(v.clone()),
            Some(ColumnSpec::Pick(p)) => match headers {
                Some(_) => Getter::Absent,
                None => Getter::Pick(p.clone()),
            },
            Some(ColumnSpec::Column { name, explicit }) => match headers {
                Some(h) => {
                    let cols = find_cols(h, name);
                    if cols.is_empty() {
                        if *explicit || idx == 0 {
                            ok = false;
                            not_in_header(
                                fc,
                                h,
                                format!(
                                    "column `{name}` (mapped to `{}.{fname}`) is not in the header",
                                    def.name
                                ),
                            );
                        }
                        Getter::Absent
                    } else {
                        Getter::Cols(cols, name.clone())
                    }
                }
                None => Getter::Json(name.clone()),
            },
            None => match headers {
                Some(h) => {
                    let cols = find_cols(h, fname);
                    if cols.is_empty() {
                        if idx == 0 {
                            ok = false;
                            not_in_header(
                                fc,
                                h,
                                format!(
                                    "no `id` column for table `{}`: map one in sources.yaml (`columns: {{ id: <column> }}`)",
                                    def.name
                                ),
                            );
                        }
                        Getter::Absent
                    } else {
                        Getter::Cols(cols, fname.to_string())
                    }
                }
                None => Getter::Json(fname.to_string()),
            },
        }
    };
    let id_spec = src
        .columns
        .get(&0)
        .or_else(|| parent.and_then(|p| p.columns.get(&0)));
    let id = getter(0, id_spec, fc);
    let mut getters = Vec::new();
    let mut slot_of = vec![usize::MAX; table.width];
    for (idx, slot) in table.slots.clone().iter().enumerate() {
        let Some(slot) = slot else { continue };
        let g = if idx == 0 {
            id.clone()
        } else {
            getter(idx, src.columns.get(&idx), fc)
        };
        if !matches!(g, Getter::Absent)
            && let Some(p) = table.provided.get_mut(idx)
        {
            *p = true;
        }
        if let Some(s) = slot_of.get_mut(*slot as usize) {
            *s = getters.len();
        }
        getters.push((idx, g));
    }
    if let Some(p) = table.provided.get_mut(0) {
        *p = true;
    }
    // Typed fields the export provides but no check reads are still validated (and
    // then dropped), so which rows are rejected never depends on the checks selected.
    let mut validate = Vec::new();
    for (idx, fd) in def.fields.iter().enumerate() {
        let projected = table.slots.get(idx).copied().flatten().is_some();
        if idx == 0 || projected || matches!(fd.kind, Kind::Text | Kind::List) {
            continue;
        }
        let explicit = src.columns.get(&idx);
        if explicit.is_none() && headers.is_some_and(|h| find_cols(h, fd.name).is_empty()) {
            continue;
        }
        let g = getter(idx, explicit, fc);
        if !matches!(g, Getter::Absent) {
            if let Some(p) = table.provided.get_mut(idx) {
                *p = true;
            }
            validate.push((idx, g));
        }
    }
    let latest = match (&src.latest_by, headers) {
        (None, _) => None,
        (Some(name), None) => Some(Getter::Json(name.clone())),
        (Some(name), Some(h)) => {
            let cols = find_cols(h, name);
            if cols.is_empty() {
                ok = false;
                not_in_header(
                    fc,
                    h,
                    format!(
                        "column `{name}` (`latest_by` of table `{}`) is not in the header",
                        def.name
                    ),
                );
            }
            Some(Getter::Cols(cols, name.clone()))
        }
    };
    ok.then_some(Binding {
        src,
        getters,
        slot_of,
        id,
        validate,
        is_derived: src.from.is_some(),
        latest,
    })
}

/// A raw cell before typing.
enum Cell<'a> {
    Absent,
    Str(Cow<'a, str>),
    Json(&'a J),
    Many(Vec<Cow<'a, str>>),
}

/// The header names from the first record (a `\r` before the `\n` is dropped).
fn csv_header(rec: &Record<'_>, fc: &mut FileCtx<'_>) -> Vec<String> {
    let mut hs = Vec::new();
    let last = rec.len().saturating_sub(1);
    for (i, h) in rec.iter().enumerate() {
        let h = if i == last {
            h.strip_suffix(b"\r").unwrap_or(h)
        } else {
            h
        };
        match std::str::from_utf8(h) {
            Ok(s) => hs.push(s.to_string()),
            Err(_) => {
                fc.diags.push(
                    Diagnostic::error(
                        Code::InvalidUtf8,
                        &fc.file,
                        format!("header column {} is not valid UTF-8", i + 1),
                    )
                    .at(1, 0),
                );
                hs.push(String::from_utf8_lossy(h).into_owned());
            }
        }
    }
    hs
}

/// No header: the file is empty.
fn csv_empty(fc: &mut FileCtx<'_>) {
    fc.diags.push(Diagnostic::error(
        Code::EmptyFile,
        &fc.file,
        "the file is empty: a CSV export needs a header row",
    ));
}

/// Bind every table of the file to the header; `None` when a mapped column is missing
/// (the diagnostics say which).
fn csv_bindings<'s>(
    binds: &[&'s TableSource],
    headers: &[String],
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
) -> Option<Vec<Binding<'s>>> {
    let mut bindings = Vec::new();
    for s in binds {
        let parent = binds.first().copied().filter(|_| s.from.is_some());
        let Some(t) = ev.tables.get_mut(s.def.name) else {
            continue;
        };
        if let Some(b) = bind(s, parent, t, Some(headers), fc) {
            bindings.push(b);
        }
    }
    (bindings.len() == binds.len()).then_some(bindings)
}

/// A record that is a blank line with a `\r` (one empty field, or a lone `\r`): not a row.
fn blank_record(rec: &Record<'_>) -> bool {
    rec.len() == 1 && rec.get(0).is_some_and(|f| f.is_empty() || f == b"\r")
}

/// A missing column makes every row unreadable: the error says why once, and every row
/// is counted as read and rejected (with --keep-going each is an exception).
fn reject_unbound(ev: &mut Evidence, fc: &mut FileCtx<'_>, binds: &[&TableSource], line: u64) {
    fc.rejected_recs.insert(line);
    if let Some(b) = binds.first() {
        ev.rejected.push(Rejected {
            table: b.def.name,
            record_id: None,
            diagnostic: Diagnostic::error(
                Code::MissingColumn,
                &fc.file,
                "record not read: a mapped column is missing from the header",
            )
            .at(line, 0),
        });
    }
}

/// Scan the records of `reader` (read piece by piece) with `csvscan`, calling `each`
/// with every record and the line it starts on in the file. With `bom`, a byte-order
/// mark at the start is skipped. `Err` (with the line reached) when reading fails.
fn scan_reader<R: Read>(
    reader: &mut R,
    delim: u8,
    bom: bool,
    mut each: impl FnMut(&Record<'_>, u64),
) -> Result<(), (io::Error, u64)> {
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
    let mut pos = 0usize;
    let mut eof = false;
    let mut first = bom;
    let mut sc = Scanner::new(delim);
    let mut spare: Record<'static> = Record::new();
    loop {
        if !eof {
            // Keep what is not scanned yet; read more (the buffer doubles for a record
            // longer than it).
            buf.drain(..pos);
            pos = 0;
            let len = buf.len();
            let want = (1usize << 16).max(len);
            buf.resize(len + want, 0);
            let mut filled = len;
            loop {
                match reader.read(buf.get_mut(filled..).unwrap_or(&mut [])) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(k) => {
                        filled += k;
                        if filled == buf.len() {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        buf.truncate(filled);
                        return Err((e, sc.line()));
                    }
                }
            }
            buf.truncate(filled);
            if first && (buf.len() >= 3 || eof) {
                pos = bom_len(&buf);
                first = false;
            } else if first {
                continue;
            }
        }
        let mut rec = spare.recycle();
        loop {
            let got = if eof {
                sc.next_record(&buf, &mut pos, &mut rec)
            } else {
                sc.next_complete_record(&buf, &mut pos, &mut rec)
            };
            match got {
                Some(line) => each(&rec, line + sc.blank_lines_before()),
                None => break,
            }
        }
        spare = rec.recycle();
        if eof {
            return Ok(());
        }
    }
}

/// What the reader knows of a CSV file's columns.
enum Header<'s> {
    /// Not read yet.
    Unread,
    /// Every table is bound: rows are mapped.
    Bound(Vec<Binding<'s>>, usize),
    /// A mapped column is missing: every row is rejected.
    Unbound,
}

/// The tables bound to a file, with how their id column is named in messages.
fn id_names(bindings: &[Binding<'_>]) -> Vec<(&'static str, String)> {
    bindings
        .iter()
        .map(|b| (b.src.def.name, col_name(b.src.def, &b.id, "id")))
        .collect()
}

/// Read a CSV export into the tables bound to it; `id_out` is given the bound
/// tables' id names (`id_names`).
fn read_csv<R: Read>(
    reader: &mut R,
    binds: &[&TableSource],
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
    id_out: &mut Vec<(&'static str, String)>,
) -> u64 {
    let delim = binds.first().map(|b| b.delimiter).unwrap_or(b',');
    let mut header = Header::Unread;
    let mut n: u64 = 0;
    let res = scan_reader(reader, delim, true, |rec, line| match &header {
        Header::Unread => {
            let names = csv_header(rec, fc);
            header = match csv_bindings(binds, &names, ev, fc) {
                Some(b) => Header::Bound(b, names.len()),
                None => Header::Unbound,
            };
        }
        Header::Unbound => {
            if !blank_record(rec) {
                n += 1;
                reject_unbound(ev, fc, binds, line);
            }
        }
        Header::Bound(bindings, ncols) => {
            if csv_record(rec, line, *ncols, bindings, ev, fc, rejected_ids) {
                n += 1;
                if n.is_multiple_of(PROGRESS_EVERY)
                    && let Some(p) = fc.progress
                {
                    p(&fc.file, n, false);
                }
            }
        }
    });
    match (res, &header) {
        (Ok(()), Header::Unread) => csv_empty(fc),
        (Ok(()), _) => {}
        (Err((e, _)), Header::Unread) => fc.diags.push(
            Diagnostic::error(
                Code::CsvSyntax,
                &fc.file,
                format!("cannot read the header: {e}"),
            )
            .at(1, 0),
        ),
        (Err((e, line)), _) => {
            n += 1;
            let d = Diagnostic::error(Code::CsvSyntax, &fc.file, format!("read error: {e}"))
                .at(line, 0);
            reject_line(ev, fc, binds, line, d);
        }
    }
    if let Header::Bound(b, _) = &header {
        *id_out = id_names(b);
    }
    n
}

/// Map every record of `reader` into the tables (or reject it); `line0`: lines before
/// its first byte, which is at a record boundary. Returns the records read.
#[allow(clippy::too_many_arguments)]
fn scan_rows<R: Read>(
    reader: &mut R,
    delim: u8,
    line0: u64,
    ncols: usize,
    bindings: &[Binding<'_>],
    binds: &[&TableSource],
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
) -> u64 {
    let mut n = 0u64;
    let res = scan_reader(reader, delim, false, |rec, line| {
        if csv_record(rec, line0 + line, ncols, bindings, ev, fc, rejected_ids) {
            n += 1;
        }
    });
    if let Err((e, line)) = res {
        n += 1;
        let d = Diagnostic::error(Code::CsvSyntax, &fc.file, format!("read error: {e}"))
            .at(line0 + line, 0);
        reject_line(ev, fc, binds, line0 + line, d);
    }
    n
}

/// Map one CSV record into every table bound to its file, or reject it. `false` for a
/// blank line with a `\r`, which is not a row.
fn csv_record(
    rec: &Record<'_>,
    line: u64,
    ncols: usize,
    bindings: &[Binding<'_>],
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
) -> bool {
    if rec.len() != ncols {
        if blank_record(rec) {
            return false;
        }
        let d = Diagnostic::error(
            Code::RaggedRow,
            &fc.file,
            format!("row has {} fields; the header has {ncols}", rec.len()),
        )
        .at(line, 0);
        reject_all(ev, fc, bindings, line, None, d);
        return true;
    }
    let loc = Loc {
        file: fc.file_idx,
        line: u32::try_from(line).unwrap_or(u32::MAX),
    };
    // The last field of a CRLF line carries the `\r`: dropped.
    let field = |c: usize| match rec.text(c) {
        Some(Ok(s)) if c + 1 == ncols => Ok(s.strip_suffix('\r').unwrap_or(s)),
        Some(Ok(s)) => Ok(s),
        Some(Err(_)) => Err(c),
        None => Ok(""),
    };
    // (The usual getter, one column, is kept small enough to be inlined.)
    let get = |g: &Getter| -> Result<Cell<'_>, usize> {
        if let Getter::Cols(cols, _) = g
            && let [c] = cols.as_slice()
        {
            return field(*c).map(|s| Cell::Str(Cow::Borrowed(s)));
        }
        csv_cell(g, &field)
    };
    for b in bindings {
        add_record(ev, fc, b, line, loc, &get, rejected_ids);
    }
    true
}

/// A CSV getter's cell, for any getter but a single column (`csv_record`'s `get`).
#[cold]
#[inline(never)]
fn csv_cell<'a>(
    g: &Getter,
    field: &dyn Fn(usize) -> Result<&'a str, usize>,
) -> Result<Cell<'a>, usize> {
    match g {
        Getter::Absent => Ok(Cell::Absent),
        Getter::Const(v) => Ok(Cell::Str(Cow::Owned(v.clone()))),
        Getter::Cols(cols, _) => match cols.as_slice() {
            [c] => field(*c).map(|s| Cell::Str(Cow::Borrowed(s))),
            _ => {
                let mut v = Vec::new();
                for &c in cols {
                    v.push(Cow::Borrowed(field(c)?));
                }
                Ok(Cell::Many(v))
            }
        },
        Getter::Json(_) | Getter::Pick(_) => Ok(Cell::Absent),
    }
}

/// serde_json's message without its own " at line N column M" (we print the position,
/// which for NDJSON is the file's line, not the line inside the record).
fn json_message(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(i) => m.get(..i).unwrap_or(&m).to_string(),
        None => m,
    }
}

/// Reject a record that could not even be read (fail closed: it is reported as rejected
/// for the file's own table).
fn reject_line(
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    binds: &[&TableSource],
    n: u64,
    d: Diagnostic,
) {
    fc.rejected_recs.insert(n);
    if let Some(b) = binds.first() {
        ev.rejected.push(Rejected {
            table: b.def.name,
            record_id: None,
            diagnostic: d.clone(),
        });
    }
    fc.diags.push(d);
}

fn reject_all(
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    bindings: &[Binding<'_>],
    n: u64,
    id: Option<String>,
    d: Diagnostic,
) {
    fc.rejected_recs.insert(n);
    if let Some(b) = bindings.first() {
        ev.rejected.push(Rejected {
            table: b.src.def.name,
            record_id: id,
            diagnostic: d.clone(),
        });
    }
    fc.diags.push(d);
}

/// How a field's source is named in messages.
fn col_name(def: &TableDef, g: &Getter, field: &str) -> String {
    match g {
        Getter::Cols(_, n) | Getter::Json(n) if n != field => {
            format!("column `{n}` (field `{}.{field}`)", def.name)
        }
        Getter::Pick(p) => format!("`{}` (field `{}.{field}`)", p.shown(), def.name),
        _ => format!("column `{field}`"),
    }
}

/// Map one record into a binding's table, or reject it.
fn add_record<'r>(
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    b: &Binding<'_>,
    n: u64,
    loc: Loc,
    // (Generic, not `dyn`: the CSV reader's getter is then inlined, once per field.)
    get: &impl Fn(&Getter) -> Result<Cell<'r>, usize>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
) {
    let def = b.src.def;
    let line = loc.line;
    let ptr = fc.records_pointer.as_deref();
    let file = fc.file.as_str();
    let mk = |code: Code, msg: String| match ptr {
        Some(p) => Diagnostic::error(code, file, msg).pointer(format!("{p}/{line}")),
        None => Diagnostic::error(code, file, msg).at(u64::from(line), 0),
    };
    let col_name = |g: &Getter, field: &str| col_name(def, g, field);
    let utf8 = |g: &Getter, field: &str, col: usize| {
        mk(
            Code::InvalidUtf8,
            format!(
                "{} (column {}): value is not valid UTF-8",
                col_name(g, field),
                col + 1
            ),
        )
    };
    // A derived row exists only where its `skip_unless` field has a value.
    if b.is_derived
        && let Some(i) = b.src.skip_unless
        && let Some((_, g)) = b.getters.iter().find(|(idx, _)| *idx == i)
        && let Some(fd) = def.fields.get(i)
    {
        let blank = match get(g) {
            Ok(cell) => match typed(&cell, fd.kind, i, b.src) {
                Ok(v) => {
                    matches!(v, Owned::Missing)
                        || matches!(&v, Owned::Text(s) if s.trim().is_empty())
                }
                Err(_) => false,
            },
            Err(_) => false,
        };
        if blank {
            return;
        }
    }
    let id_cell = get(&b.id);
    let id: Option<Cow<'_, str>> = match &id_cell {
        Ok(c) => cell_text(c)
            .map(|s| match s {
                Cow::Borrowed(b) => Cow::Borrowed(trim(b)),
                Cow::Owned(o) => Cow::Owned(trim(&o).to_string()),
            })
            .filter(|s| !s.is_empty()),
        Err(_) => None,
    };
    let Some(t) = ev.tables.get_mut(def.name) else {
        return;
    };
    // Each error with the index of its field: the fields a check reads are read first,
    // then those only validated, and the errors are put back in the fields' order
    // before they are reported, so that the reason a record is rejected for does not
    // depend on which fields the selected checks and outputs read.
    let mut errs: Vec<(usize, Diagnostic)> = Vec::new();
    if id.is_none() {
        errs.push((
            0,
            mk(
                Code::MissingId,
                format!("{}: record has no id", col_name(&b.id, "id")),
            ),
        ));
    }
    let store = errs.is_empty();
    for (slot, &gi) in b.slot_of.iter().enumerate() {
        let Some((idx, g)) = b.getters.get(gi) else {
            if store {
                t.push_value(slot, &Owned::Missing);
            }
            continue;
        };
        let Some(fd) = def.fields.get(*idx) else {
            continue;
        };
        // The cell and its value used in place, not moved: a moved enum is stored in
        // pieces and read back whole, which the CPU cannot forward from its stores
        // (a stall of some 15 cycles a field, 5% of a run).
        let got = get(g);
        let cell = match &got {
            Ok(c) => c,
            Err(col) => {
                errs.push((*idx, utf8(g, fd.name, *col)));
                continue;
            }
        };
        if let Some(v) = typed_short(cell, fd.kind, *idx, b.src) {
            if store {
                t.push_value(slot, &v);
            }
            continue;
        }
        match typed(cell, fd.kind, *idx, b.src) {
            Ok(v) => {
                if store {
                    t.push_value(slot, &v);
                }
            }
            Err((code, why)) => {
                errs.push((*idx, mk(code, format!("{}: {why}", col_name(g, fd.name)))))
            }
        }
    }
    for (idx, g) in b.validate.iter().filter(|_| !b.is_derived) {
        let Some(fd) = def.fields.get(*idx) else {
            continue;
        };
        match get(g) {
            Ok(cell) => {
                // Valid by the short way: nothing to say (`typed` words the errors).
                if typed_short(&cell, fd.kind, *idx, b.src).is_some() {
                    continue;
                }
                if let Err((code, why)) = typed(&cell, fd.kind, *idx, b.src) {
                    errs.push((*idx, mk(code, format!("{}: {why}", col_name(g, fd.name)))));
                }
            }
            Err(col) => errs.push((*idx, utf8(g, fd.name, col))),
        }
    }
    // `latest_by`: rows of one id are updates; the one with the highest key is kept.
    if errs.is_empty()
        && let Some(id) = &id
        && let Some(g) = &b.latest
    {
        match latest_key(get(g), b.src) {
            Ok(key) => {
                let keys = ev.latest_keys.entry(def.name).or_default();
                let superseded = match t.commit_latest(id, loc, key, keys) {
                    super::latest::Latest::New => return,
                    super::latest::Latest::Replaced(old) => old,
                    super::latest::Latest::Older => {
                        t.rollback();
                        loc
                    }
                };
                if !b.is_derived
                    && let Some(inp) = ev.inputs.get_mut(superseded.file as usize)
                {
                    inp.rows_superseded += 1;
                }
                return;
            }
            Err(why) => errs.push((
                usize::MAX,
                mk(
                    Code::UnparseableValue,
                    format!(
                        "column `{}` (`latest_by`): {why}",
                        b.src.latest_by.as_deref().unwrap_or("")
                    ),
                ),
            )),
        }
    }
    if errs.is_empty()
        && let Some(id) = &id
    {
        match t.commit(id, loc) {
            Ok(_) => return,
            Err(first) => {
                let where_first = match &fc.records_pointer {
                    Some(p) => format!("{p}/{}", first.line),
                    None => format!("line {}", first.line),
                };
                errs.push((
                    usize::MAX,
                    mk(
                        Code::DuplicateRecord,
                        format!(
                            "{}: id `{id}` is already used at {where_first}",
                            col_name(&b.id, "id")
                        ),
                    ),
                ));
            }
        }
    }
    if store {
        t.rollback();
    }
    if let Some(id) = &id {
        rejected_ids
            .entry(def.name)
            .or_default()
            .insert((**id).into());
    }
    // In the order of the fields (stable: the id's error, field 0, stays first).
    errs.sort_by_key(|(idx, _)| *idx);
    let errs = errs.into_iter().map(|(_, d)| d).collect();
    reject(ev, fc, def.name, n, id.map(Cow::into_owned), errs);
}

fn reject(
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    table: &'static str,
    n: u64,
    id: Option<String>,
    errs: Vec<Diagnostic>,
) {
    fc.rejected_recs.insert(n);
    if let Some(first) = errs.first() {
        ev.rejected.push(Rejected {
            table,
            record_id: id,
            diagnostic: first.clone(),
        });
    }
    for e in errs {
        fc.diags.push(e);
    }
}

/// The `latest_by` key of a row: a whole number, or an instant (nanoseconds).
fn latest_key(cell: Result<Cell<'_>, usize>, src: &TableSource) -> Result<i64, String> {
    let cell = cell.map_err(|c| format!("column {}: value is not valid UTF-8", c + 1))?;
    let text = cell_text(&cell)
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    if text.is_empty() || src.missing.iter().any(|m| m.trim() == text) {
        return Err("no value: the row cannot be ordered among the updates of its id".into());
    }
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i);
    }
    parse_ts(&text, &src.ts)
        .map(|t| t.0)
        .map_err(|e| format!("`{text}` is neither a whole number nor a timestamp ({e})"))
}

fn cell_text<'a>(c: &'a Cell<'_>) -> Option<Cow<'a, str>> {
    match c {
        Cell::Absent => None,
        Cell::Str(s) => Some(Cow::Borrowed(s)),
        Cell::Many(v) => v
            .iter()
            .find(|s| !s.trim().is_empty())
            .map(|s| Cow::Borrowed(&**s)),
        Cell::Json(j) => match j {
            J::String(s) => Some(Cow::Borrowed(s)),
            J::Number(n) => Some(Cow::Owned(n.to_string())),
            J::Bool(b) => Some(Cow::Owned(b.to_string())),
            _ => None,
        },
    }
}

/// `str::trim`, with a fast way out for the usual value that starts and ends with a
/// visible ASCII character (then there is nothing to trim).
#[inline]
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let solid = |c: Option<&u8>| c.is_some_and(|&c| c.is_ascii_graphic());
    if b.is_empty() || (solid(b.first()) && solid(b.last())) {
        s
    } else {
        s.trim()
    }
}

/// Is trimmed text `p` one of the source's missing markers? (Lengths first: most
/// cells are not missing, and an empty one is compared without calling `memcmp`.)
#[inline]
fn is_missing(src: &TableSource, p: &str) -> bool {
    src.missing.iter().any(|m| {
        let m = trim(m);
        m.len() == p.len() && (p.is_empty() || m == p)
    })
}

/// The spellings of a boolean that are read without a value map.
#[inline]
fn bool_word(t: &str) -> Option<bool> {
    match t {
        "true" | "TRUE" | "True" => Some(true),
        "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// `typed_str` for a cell that is a plain borrowed text (a CSV field); `None` else.
#[inline]
fn typed_short<'c>(
    cell: &'c Cell<'_>,
    kind: Kind,
    idx: usize,
    src: &TableSource,
) -> Option<Owned<'c>> {
    match cell {
        Cell::Str(Cow::Borrowed(raw)) => typed_str(raw, kind, idx, src),
        _ => None,
    }
}

/// `typed` for a plain text cell (a CSV field), by a shorter way: the same value for
/// a field without a value map whose value parses; `None` for anything else (a list, a
/// mapped field, an error), which `typed` then reads.
#[inline]
fn typed_str<'c>(raw: &'c str, kind: Kind, idx: usize, src: &TableSource) -> Option<Owned<'c>> {
    if kind == Kind::List || (!src.values.is_empty() && src.values.contains_key(&idx)) {
        return None;
    }
    let t = trim(raw);
    if is_missing(src, t) {
        return Some(Owned::Missing);
    }
    if t.is_empty() {
        // Blank but not a missing marker: text keeps its spaces, other kinds are missing.
        return Some(if kind == Kind::Text && !raw.is_empty() {
            Owned::Text(Cow::Borrowed(raw))
        } else {
            Owned::Missing
        });
    }
    match kind {
        Kind::Text => Some(Owned::Text(Cow::Borrowed(raw))),
        Kind::Bool => bool_word(t).map(Owned::Bool),
        Kind::Int => t
            .parse::<i64>()
            .ok()
            .filter(|&i| i != i64::MIN)
            .map(Owned::Int),
        // The usual RFC 3339 layout read directly (`parse_ts` would find it the same).
        Kind::Time => match src.ts.pattern {
            None => crate::time::parse_usual(t.as_bytes()),
            Some(_) => None,
        }
        .or_else(|| parse_ts(raw, &src.ts).ok())
        .filter(|ts| ts.0 != i64::MIN)
        .map(Owned::Time),
        Kind::List => None,
    }
}

/// Type one cell for a field: missing markers, value mapping, then the kind's parser.
fn typed<'c>(
    cell: &'c Cell<'_>,
    kind: Kind,
    idx: usize,
    src: &TableSource,
) -> Result<Owned<'c>, (Code, String)> {
    let is_missing = |p: &str| is_missing(src, p);
    if let (Kind::List, Cell::Json(J::Array(items))) = (kind, cell) {
        let mut v = Vec::new();
        for it in items {
            match it {
                J::String(s) if !s.trim().is_empty() && !is_missing(s.trim()) => {
                    v.push(Cow::Borrowed(s.trim()))
                }
                J::Null | J::String(_) => {}
                other => v.push(Cow::Owned(other.to_string())),
            }
        }
        // An empty list is missing, as an empty CSV cell is.
        return Ok(if v.is_empty() {
            Owned::Missing
        } else {
            Owned::List(v)
        });
    }
    if let (Kind::List, Cell::Many(items)) = (kind, cell) {
        let mut v = Vec::new();
        for s in items {
            for part in s.split(src.list_separator.as_str()) {
                let p = part.trim();
                if !p.is_empty() && !is_missing(p) {
                    v.push(Cow::Borrowed(p));
                }
            }
        }
        return Ok(if v.is_empty() {
            Owned::Missing
        } else {
            Owned::List(v)
        });
    }
    if let Cell::Json(j) = cell
        && (j.is_object() || j.is_array())
    {
        return Err((
            Code::UnparseableValue,
            format!(
                "expected a single value, found {}",
                if j.is_object() { "an object" } else { "a list" }
            ),
        ));
    }
    let Some(raw) = cell_text(cell) else {
        return Ok(Owned::Missing);
    };
    let trimmed = trim(&raw);
    if is_missing(trimmed) {
        return Ok(Owned::Missing);
    }
    let mapped: Cow<'c, str> = match (!src.values.is_empty())
        .then(|| src.values.get(&idx))
        .flatten()
        .and_then(|m| m.get(trimmed).or_else(|| m.get(&*raw)))
    {
        Some(to) => Cow::Owned(to.clone()),
        None => raw,
    };
    if trim(&mapped).is_empty() && kind != Kind::Text {
        return Ok(Owned::Missing);
    }
    match kind {
        Kind::Text => {
            if mapped.is_empty() {
                Ok(Owned::Missing)
            } else {
                Ok(Owned::Text(mapped))
            }
        }
        Kind::Bool => match trim(&mapped) {
            t if let Some(b) = bool_word(t) => Ok(Owned::Bool(b)),
            other => Err((
                Code::UnparseableValue,
                format!(
                    "`{other}` is not true/false (map other spellings under `values:` in sources.yaml)"
                ),
            )),
        },
        Kind::Int => match trim(&mapped).parse::<i64>() {
            Ok(i) if i != i64::MIN => Ok(Owned::Int(i)),
            _ => Err((
                Code::UnparseableValue,
                format!("`{}` is not a whole number", mapped.trim()),
            )),
        },
        Kind::Time => match parse_ts(&mapped, &src.ts) {
            Ok(t) if t.0 != i64::MIN => Ok(Owned::Time(t)),
            Ok(_) => Err((Code::UnparseableValue, TimeError::OutOfRange.to_string())),
            Err(e) => {
                let code = if e == TimeError::NoZone {
                    Code::NaiveTimestamp
                } else {
                    Code::UnparseableValue
                };
                let shown = if matches!(e, TimeError::Syntax(_) | TimeError::Impossible(_)) {
                    e.to_string()
                } else {
                    format!("`{}`: {e}", mapped.trim())
                };
                Err((code, shown))
            }
        },
        Kind::List => {
            let items: Vec<Cow<'c, str>> = match mapped {
                Cow::Borrowed(b) => b
                    .split(src.list_separator.as_str())
                    .map(str::trim)
                    .filter(|p| !p.is_empty() && !is_missing(p))
                    .map(Cow::Borrowed)
                    .collect(),
                Cow::Owned(o) => o
                    .split(src.list_separator.as_str())
                    .map(str::trim)
                    .filter(|p| !p.is_empty() && !is_missing(p))
                    .map(|p| Cow::Owned(p.to_string()))
                    .collect(),
            };
            Ok(Owned::List(items))
        }
    }
}

/// Read a JSON or NDJSON export into the tables bound to it; `id_out` is given the
/// bound tables' id names (`id_names`).
fn read_json<R: Read>(
    reader: &mut R,
    format: Format,
    binds: &[&TableSource],
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
    id_out: &mut Vec<(&'static str, String)>,
) -> u64 {
    let mut bindings = Vec::new();
    for s in binds {
        let parent = binds.first().copied().filter(|_| s.from.is_some());
        let Some(t) = ev.tables.get_mut(s.def.name) else {
            continue;
        };
        if let Some(b) = bind(s, parent, t, None, fc) {
            bindings.push(b);
        }
    }
    *id_out = id_names(&bindings);
    let mut records: Vec<(J, Loc)> = Vec::new();
    let mut bad: u64 = 0;
    if format == Format::Ndjson {
        let mut text = Vec::new();
        if let Err(e) = reader.read_to_end(&mut text) {
            fc.diags.push(Diagnostic::error(
                Code::Io,
                &fc.file,
                format!("read error: {e}"),
            ));
            return 0;
        }
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            let lineno = i as u64 + 1;
            let l = line.strip_suffix(b"\r").unwrap_or(line);
            let l = if i == 0 {
                l.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(l)
            } else {
                l
            };
            if l.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match super::strict_json::from_slice(l) {
                Ok(v) if v.is_object() => records.push((
                    v,
                    Loc {
                        file: fc.file_idx,
                        line: u32::try_from(lineno).unwrap_or(u32::MAX),
                    },
                )),
                Ok(_) => {
                    bad += 1;
                    let d =
                        Diagnostic::error(Code::JsonSyntax, &fc.file, "line is not a JSON object")
                            .at(lineno, 0);
                    reject_line(ev, fc, binds, lineno, d);
                }
                Err(e) => {
                    bad += 1;
                    let d = Diagnostic::error(Code::JsonSyntax, &fc.file, json_message(&e))
                        .at(lineno, e.column() as u64);
                    reject_line(ev, fc, binds, lineno, d);
                }
            }
        }
    } else {
        let mut text = Vec::new();
        if let Err(e) = reader.read_to_end(&mut text) {
            fc.diags.push(Diagnostic::error(
                Code::Io,
                &fc.file,
                format!("read error: {e}"),
            ));
            return 0;
        }
        let body = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
        if let Err(e) = std::str::from_utf8(body) {
            let at = e.valid_up_to();
            let before = body.get(..at).unwrap_or(&[]);
            let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            let col = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
            fc.diags.push(
                Diagnostic::error(
                    Code::InvalidUtf8,
                    &fc.file,
                    format!("not valid UTF-8 at byte {at}"),
                )
                .at(line, col),
            );
            return 0;
        }
        let doc: J = match super::strict_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                fc.diags.push(
                    Diagnostic::error(Code::JsonSyntax, &fc.file, json_message(&e))
                        .at(e.line() as u64, e.column() as u64),
                );
                return 0;
            }
        };
        let rp = binds
            .first()
            .and_then(|b| b.records.clone())
            .unwrap_or_default();
        let arr = match doc.pointer(&rp) {
            Some(J::Array(a)) => a.clone(),
            Some(_) | None => {
                let keys = doc
                    .as_object()
                    .map(|m| {
                        m.keys()
                            .map(|k| format!("/{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default();
                let shown = if rp.is_empty() { "the top level" } else { &rp };
                fc.diags.push(
                    Diagnostic::error(
                        Code::RecordsPath,
                        &fc.file,
                        format!(
                            "{shown} is not an array of records; set `records:` in sources.yaml to a JSON pointer{}",
                            if keys.is_empty() { String::new() } else { format!(" (top-level keys: {keys})") }
                        ),
                    )
                    .pointer(if rp.is_empty() { "/".to_string() } else { rp.clone() }),
                );
                return 0;
            }
        };
        fc.records_pointer = Some(rp.clone());
        for (i, v) in arr.into_iter().enumerate() {
            let ptr = format!("{rp}/{i}");
            if v.is_object() {
                records.push((
                    v,
                    Loc {
                        file: fc.file_idx,
                        line: u32::try_from(i).unwrap_or(u32::MAX),
                    },
                ));
            } else {
                bad += 1;
                let d =
                    Diagnostic::error(Code::RecordsPath, &fc.file, "record is not a JSON object")
                        .pointer(ptr);
                reject_line(ev, fc, binds, i as u64, d);
            }
        }
    }
    if bindings.len() != binds.len() {
        return records.len() as u64 + bad;
    }
    let total = records.len() as u64 + bad;
    for (rec, loc) in records.iter() {
        // The record's key for reconciliation: its NDJSON line or JSON index.
        let n = u64::from(loc.line);
        let get = |g: &Getter| -> Result<Cell<'_>, usize> {
            Ok(match g {
                Getter::Absent | Getter::Cols(..) => Cell::Absent,
                Getter::Const(v) => Cell::Str(Cow::Owned(v.clone())),
                Getter::Pick(p) => p.find(rec).map_or(Cell::Absent, Cell::Json),
                Getter::Json(key) => {
                    let v = if key.starts_with('/') {
                        rec.pointer(key)
                    } else {
                        rec.get(key)
                    };
                    match v {
                        None | Some(J::Null) => Cell::Absent,
                        Some(v) => Cell::Json(v),
                    }
                }
            })
        };
        for b in &bindings {
            add_record(ev, fc, b, n, *loc, &get, rejected_ids);
        }
    }
    total
}

/// Dangling references of the reference fields of `ev`'s tables into the tables
/// `want` names (a streamed table's own references are checked as it is read): each
/// field's parent rows are kept in its table (`parents`), the dangling rows returned
/// in field order (table name, then field), not yet rejected.
fn find_dangling(
    ev: &mut Evidence,
    rejected_ids: &BTreeMap<&'static str, HashSet<Box<str>>>,
    want: &dyn Fn(&str) -> bool,
) -> Vec<Late> {
    let mut jobs: Vec<(&'static str, usize, &'static str)> = Vec::new();
    for (name, t) in &ev.tables {
        for (fi, fd) in t.def.fields.iter().enumerate() {
            let Some(target) = fd.refers_to else { continue };
            // A streamed table keeps no values: its references were checked as it was
            // read (`crate::stream`).
            if ev.tables.contains_key(target)
                && !t.streamed
                && t.provided.get(fi).copied().unwrap_or(false)
                && want(target)
            {
                jobs.push((name, fi, target));
            }
        }
    }
    // Each field's rows are resolved in stretches, on every core: one field (the
    // postmortems' incident references, resolved after the stream) would otherwise
    // keep one core busy while the other idles. Each stretch writes its rows' parents
    // into its own part of the field's list, allocated once: no stretch's list is
    // copied (the end of the stream is a run's peak of memory).
    let mut parents: Vec<Vec<u32>> = jobs
        .iter()
        .map(|&(name, _, _)| vec![u32::MAX; ev.tables.get(name).map_or(0, Table::len)])
        .collect();
    let rows = par::stretch_rows();
    let mut stretches = Vec::new();
    for (j, p) in parents.iter_mut().enumerate() {
        for (k, part) in p.chunks_mut(rows).enumerate() {
            stretches.push((j, k * rows, std::sync::Mutex::new(part)));
        }
    }
    let evr = &*ev;
    let done = crate::assess::par_map(&stretches, |(j, start, part)| {
        let mut late: Vec<Late> = Vec::new();
        let Some(&(name, fi, target)) = jobs.get(*j) else {
            return late;
        };
        let (Some(t), Some(tt)) = (evr.tables.get(name), evr.tables.get(target)) else {
            return late;
        };
        let empty = HashSet::new();
        let rej = rejected_ids.get(target).unwrap_or(&empty);
        let mut part = part.lock().unwrap_or_else(|e| e.into_inner());
        // In runs of 256 rows, the index groups they will probe read first, unless
        // most of the run before found its rows in order without the index.
        let mut near = Near::default();
        let mut in_order = false;
        for (k, run) in part.chunks_mut(256).enumerate() {
            let first = (start + k * 256) as u32;
            if !in_order {
                tt.warm_refs(t, fi, first..first + run.len() as u32);
            }
            near.hits = 0;
            for (row, slot) in (first..).zip(run.iter_mut()) {
                let (parent, d) = resolve_ref(evr, t, fi, row, tt, rej, &mut near);
                if let Some(d) = d {
                    late.push((name, fi, row, d));
                }
                *slot = parent;
            }
            in_order = near.hits as usize * 8 >= run.len() * 7;
        }
        late
    });
    drop(stretches);
    for (&(name, fi, _), p) in jobs.iter().zip(parents) {
        if let Some(t) = ev.tables.get_mut(name) {
            t.parents.insert(fi, p);
        }
    }
    // In field order, each field's rows in order: the stretches came back in order.
    done.into_iter().flatten().collect()
}

/// The row of `tt` that reference field `fi` of a row of `t` names (`u32::MAX`:
/// none), and the error when it names no record of `tt` (and no rejected one, in
/// `rej`). `ev` places the row in its file; `near`: where the last look-up of this
/// field found its row (`Table::row_of_near`).
pub(crate) fn resolve_ref(
    ev: &Evidence,
    t: &Table,
    fi: usize,
    row: u32,
    tt: &Table,
    rej: &HashSet<Box<str>>,
    near: &mut Near,
) -> (u32, Option<Diagnostic>) {
    let Value::Text(v) = t.get(row, fi) else {
        return (u32::MAX, None);
    };
    let v = v.trim();
    if let Some(p) = tt.row_of_near(v, near) {
        return (p, None);
    }
    if rej.contains(v) {
        return (u32::MAX, None);
    }
    let field = t.def.fields.get(fi).map_or("?", |f| f.name);
    let (file, line, ptr) = t.loc(row).map(|l| ev.position(&l)).unwrap_or_default();
    let mut d = Diagnostic::error(
        Code::DanglingReference,
        file,
        format!(
            "field `{}.{field}`: `{v}` names no record of `{}`",
            t.def.name, tt.def.name
        ),
    );
    d.line = line;
    d.pointer = ptr;
    (u32::MAX, Some(d))
}

/// Reject the rows with a dangling reference, each once, in the order given. A row
/// dead before (superseded by a later update) is not rejected; `early` are the rows
/// marked dead already by `load_phased`, to be rejected here.
fn reject_dangling(ev: &mut Evidence, late: Vec<Late>, early: &HashSet<(&'static str, u32)>) {
    let mut done: HashSet<(&'static str, u32)> = HashSet::new();
    for (name, _, row, d) in late {
        let Some(t) = ev.tables.get_mut(name) else {
            continue;
        };
        if let Some(x) = t.dead.get(row as usize) {
            if (x && !early.contains(&(name, row))) || !done.insert((name, row)) {
                continue;
            }
            t.dead.set(row as usize, true);
        }
        let id = t.id(row).to_string();
        // Count the record once per file, even if another of its tables rejected it too.
        if let Some(l) = t.locs.get(row as usize)
            && let Some(keys) = ev.rejected_keys.get_mut(l.file as usize)
            && keys.insert(l.line)
            && let Some(inp) = ev.inputs.get_mut(l.file as usize)
        {
            inp.rows_rejected += 1;
        }
        ev.rejected.push(Rejected {
            table: name,
            record_id: Some(id),
            diagnostic: d.clone(),
        });
        ev.diags.push(d);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn source(missing: &[&str], ts: crate::time::TsFormat) -> TableSource {
        TableSource {
            def: crate::evidence::tables::table("incidents").unwrap(),
            files: Vec::new(),
            from: None,
            skip_unless: None,
            format: super::super::sources::Format::Csv,
            records: None,
            delimiter: b',',
            ts,
            missing: missing.iter().map(|m| m.to_string()).collect(),
            list_separator: ";".into(),
            columns: BTreeMap::new(),
            values: BTreeMap::new(),
            latest_by: None,
            declared_at: (0, 0),
        }
    }

    /// Wherever the short way gives a value, it is the value `typed` gives.
    #[test]
    fn typed_str_agrees_with_typed() {
        let cells = [
            "",
            " ",
            "\t",
            "x",
            "  x ",
            "N/A",
            " N/A ",
            "true",
            " TRUE ",
            "False",
            "yes",
            "12",
            " -3 ",
            "+7",
            "1.5",
            "9223372036854775807",
            "-9223372036854775808",
            "٣",
            "2025-01-01T00:00:00Z",
            " 2025-01-01T00:00:00.5+02:00 ",
            "2025-01-01T00:00:00",
            "2025-02-30T00:00:00Z",
            "2025-01-01",
            "1677-09-21T00:12:43.145224192Z",
            "bad",
        ];
        let zoned = crate::time::TsFormat {
            zone: crate::time::parse_zone("Europe/Paris").ok(),
            ..Default::default()
        };
        let mut fast = 0;
        for missing in [&[""][..], &["N/A"], &["", " N/A "]] {
            for ts in [crate::time::TsFormat::default(), zoned.clone()] {
                let src = source(missing, ts);
                for kind in [Kind::Text, Kind::Bool, Kind::Int, Kind::Time, Kind::List] {
                    for raw in cells {
                        let cell = Cell::Str(Cow::Borrowed(raw));
                        let want = typed(&cell, kind, 1, &src);
                        match typed_str(raw, kind, 1, &src) {
                            Some(v) => {
                                fast += 1;
                                assert_eq!(Ok(v), want, "{kind:?} `{raw}` missing {missing:?}");
                            }
                            // Left to `typed`: a list, or a value that does not parse.
                            None => assert!(
                                kind == Kind::List || want.is_err(),
                                "{kind:?} `{raw}`: {want:?}"
                            ),
                        }
                    }
                }
            }
        }
        // The short way is taken for most cells (a test that never takes it proves nothing).
        assert!(fast > 250, "{fast}");
    }
}
