//! Reading one large CSV export on every core.
//!
//! A reading thread reads the file in blocks, hashes every byte (SHA-256) and cuts each
//! block after the last record terminator outside quotes (by quote parity, exact for
//! RFC 4180 quoting). Workers map the blocks into parts (tables that do not index their
//! ids) and the calling thread appends the parts in file order, indexing ids and
//! rejecting duplicates as a sequential read would. The result is the same tables,
//! rejections and diagnostics as `read_csv` gives, in the same order.
//!
//! Parity is wrong only when a quote is literal (a `"` inside an unquoted field, which
//! csv keeps as text): a cut could then fall inside a record. Each part says whether it
//! saw a quote outside the places RFC 4180 allows; if any did, the parts are dropped
//! and the file is read again sequentially.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, Read};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use sha2::{Digest, Sha256};

use super::{
    Binding, FileCtx, PROGRESS_EVERY, blank_record, copy_out, csv_bindings, csv_empty, csv_header,
    csv_record, hex, id_names, read_csv, reject_unbound, scan_reader, scan_rows, unread_columns,
};
use crate::diag::{Code, Diagnostic, Diags};
use crate::evidence::csvscan::{Record, Scanner, bom_len, count_newlines, last_record_end};
use crate::evidence::sources::TableSource;
use crate::evidence::{Evidence, Rejected, Shape};

/// Bytes read per block by default: 1 MiB (with the population streamed, 2 MiB
/// blocks held 9 MB more at 1M incidents for no speed).
const DEFAULT_BLOCK: usize = 1 << 20;

/// Files at least this large are read in parallel, by default.
const DEFAULT_PARALLEL_MIN: u64 = 8 << 20;

/// Bytes read per block (a block is cut at its last record end, so it may be less).
static BLOCK: AtomicUsize = AtomicUsize::new(DEFAULT_BLOCK);

/// Files at least this large are read in parallel.
static PARALLEL_MIN: AtomicU64 = AtomicU64::new(DEFAULT_PARALLEL_MIN);

/// Read CSV files of at least `min_bytes` in parallel, in blocks of `block` bytes
/// (defaults: 8 MiB and 1 MiB). For tests, which compare parallel and sequential reads
/// on small files; the outcome never depends on these.
pub fn tune(min_bytes: u64, block: usize) {
    PARALLEL_MIN.store(min_bytes, Ordering::Relaxed);
    BLOCK.store(block.max(1), Ordering::Relaxed);
}

/// Back to the default sizes of `tune`.
pub fn tune_defaults() {
    tune(DEFAULT_PARALLEL_MIN, DEFAULT_BLOCK);
}

/// Is a file of this size read in parallel?
pub(super) fn parallel(len: u64) -> bool {
    len >= PARALLEL_MIN.load(Ordering::Relaxed)
}

/// Rows of a reference field resolved in one piece of work (`find_dangling`): 65,536
/// with the default block, fewer with the testing knob's small blocks, so that the
/// tests that compare parallel and sequential reads split the fields too.
pub(super) fn stretch_rows() -> usize {
    (BLOCK.load(Ordering::Relaxed) / 16).max(1)
}

/// A stretch of the file that starts and ends at record boundaries.
struct Job {
    seq: u64,
    bytes: Vec<u8>,
    /// Lines before its first byte.
    line0: u64,
}

/// What a worker made of one block.
struct Part {
    seq: u64,
    /// Lines before the block.
    line0: u64,
    /// The block's bytes (for reuse, or for the sequential fallback).
    bytes: Vec<u8>,
    ev: Evidence,
    diags: Diags,
    rejected_recs: HashSet<u64>,
    rejected_ids: BTreeMap<&'static str, HashSet<Box<str>>>,
    rows: u64,
    /// A quote appeared where RFC 4180 does not put one: parity cuts are not safe.
    literal_quote: bool,
}

/// Read the file on a thread in blocks cut at record ends, hashing every byte; send the
/// blocks (until the receiver hangs up, then only hash). Returns the SHA-256.
fn split(mut f: File, tx: SyncSender<Job>, free: Receiver<Vec<u8>>) -> io::Result<String> {
    let mut hash = Sha256::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut seq = 0u64;
    let mut line0 = 0u64;
    let mut open = true;
    let block = BLOCK.load(Ordering::Relaxed);
    loop {
        let mut buf = free
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(block + block / 16 + carry.len()));
        buf.clear();
        buf.extend_from_slice(&carry);
        let start = buf.len();
        // A record longer than a block: read as much again as is held (the buffer
        // doubles), so a huge record costs linear time. (`read_to_end` fills the spare
        // capacity without zeroing it first.) Exact: `reserve` would double a recycled
        // buffer whenever the carried bytes outgrow its last carry, until every
        // buffer in flight held two blocks (12.6 MB instead of about 6 at 1M).
        let want = block.max(start);
        buf.reserve_exact(want);
        (&mut f).take(want as u64).read_to_end(&mut buf)?;
        let filled = buf.len();
        hash.update(buf.get(start..).unwrap_or(&[]));
        let eof = filled == start;
        let at = if eof {
            buf.len()
        } else {
            match last_record_end(&buf, false).0 {
                Some(k) => k,
                None => {
                    // No record ends in it yet: read on.
                    carry = buf;
                    continue;
                }
            }
        };
        carry = buf.get(at..).unwrap_or(&[]).to_vec();
        buf.truncate(at);
        if !buf.is_empty() && open {
            let lines = count_newlines(&buf);
            if tx
                .send(Job {
                    seq,
                    bytes: buf,
                    line0,
                })
                .is_err()
            {
                open = false;
            }
            seq += 1;
            line0 += lines;
        }
        if eof {
            return Ok(hex(&hash.finalize()));
        }
    }
}

/// Map one block into a part.
#[allow(clippy::too_many_arguments)]
fn work(
    job: Job,
    delim: u8,
    ncols: usize,
    bindings: &[Binding<'_>],
    proto: &Evidence,
    file: &str,
    file_idx: u32,
    shapes: &mut BTreeMap<&'static str, Shape>,
) -> Part {
    let mut ev = Evidence {
        tables: proto.tables.iter().map(|(k, t)| (*k, t.part())).collect(),
        ..Evidence::default()
    };
    // Each table starts as this worker's last part ended (`Table::start_like`).
    for (k, t) in ev.tables.iter_mut() {
        if let Some(p) = shapes.get(k) {
            t.start_like(p);
        }
    }
    let mut diags = Diags::default();
    let mut fc = FileCtx {
        file: file.to_string(),
        records_pointer: None,
        progress: None,
        file_idx,
        rejected_recs: HashSet::new(),
        diags: &mut diags,
        sink: None,
    };
    let mut rejected_ids = BTreeMap::new();
    let mut sc = Scanner::new(delim);
    sc.set_line(job.line0 + 1);
    sc.set_unread(unread_columns(ncols, bindings));
    let mut pos = 0usize;
    let mut rec = Record::new();
    // Checked whole once; a block that is not UTF-8 is checked field by field, so that
    // the fields at fault are named.
    if let Ok(text) = std::str::from_utf8(&job.bytes) {
        rec.set_text(text);
    }
    let mut rows = 0u64;
    while let Some(line) = sc.next_record(&job.bytes, &mut pos, &mut rec) {
        let line = line + sc.blank_lines_before();
        if csv_record(
            &rec,
            line,
            ncols,
            bindings,
            &mut ev,
            &mut fc,
            &mut rejected_ids,
        ) {
            rows += 1;
        }
    }
    let literal = sc.anomaly();
    drop(rec);
    let rejected_recs = std::mem::take(&mut fc.rejected_recs);
    for (k, t) in &ev.tables {
        shapes.insert(k, t.shape());
    }
    Part {
        seq: job.seq,
        line0: job.line0,
        bytes: job.bytes,
        ev,
        diags,
        rejected_recs,
        rejected_ids,
        rows,
        literal_quote: literal,
    }
}

/// Append a part to the tables, rejecting ids already used; for a streamed table, hand
/// the part to the sink. `names`: the bound tables, in binding order, with how their
/// id column is named in messages. Gives back its bytes.
fn merge(
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    part: Part,
    names: &[(&'static str, String)],
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
) -> Vec<u8> {
    let Part {
        ev: mut pev,
        diags,
        rejected_recs,
        rejected_ids: pids,
        bytes,
        ..
    } = part;
    let mut rejected = std::mem::take(&mut pev.rejected);
    let mut dead: Vec<(&'static str, u32)> = Vec::new();
    let mut dup_lines: Vec<u64> = Vec::new();
    // In binding order, as a sequential read rejects a record for each of its tables.
    for (name, id_name) in names {
        let (Some(t), Some(pt)) = (ev.tables.get_mut(name), pev.tables.get(name)) else {
            continue;
        };
        let dups = t.append(pt);
        if dups.is_empty() {
            continue;
        }
        for (prow, first) in dups {
            let id = pt.id(prow).to_string();
            let line = pt.loc(prow).map(|l| u64::from(l.line)).unwrap_or(0);
            let d = Diagnostic::error(
                Code::DuplicateRecord,
                fc.file.clone(),
                format!(
                    "{id_name}: id `{id}` is already used at line {}",
                    first.line
                ),
            )
            .at(line, 0);
            fc.rejected_recs.insert(line);
            dup_lines.push(line);
            rejected_ids
                .entry(*name)
                .or_default()
                .insert(id.as_str().into());
            rejected.push(Rejected {
                table: name,
                record_id: Some(id),
                diagnostic: d.clone(),
            });
            fc.diags.push(d);
            dead.push((name, prow));
        }
    }
    // In file order, as a sequential read gives them.
    rejected.sort_by_key(|r| r.diagnostic.line);
    ev.rejected.extend(rejected);
    fc.diags.extend(diags);
    // The lines of the part's rejected records (no other part holds them).
    let mine: HashSet<u64> = match fc.sink {
        Some(_) => rejected_recs.iter().copied().chain(dup_lines).collect(),
        None => HashSet::new(),
    };
    fc.rejected_recs.extend(rejected_recs);
    for (k, v) in pids {
        rejected_ids.entry(k).or_default().extend(v);
    }
    if let Some(sink) = &mut fc.sink {
        // The part's duplicates are not rows of the table: dead for its checks.
        for (name, prow) in dead {
            if let Some(t) = pev.tables.get_mut(name) {
                t.dead.set(prow as usize, true);
            }
        }
        pev.bytes_read = bytes.len() as u64;
        sink(&mut pev, &mine);
    }
    bytes
}

/// Read with `read` into a fresh part (tables that do not index their ids) and merge
/// it as a parallel read's part would be: a streamed table's rows reach its sink only
/// through `merge`. Without a sink, `read` reads into `ev` itself. `read` also gives
/// the bound tables' id names (`id_names`).
pub(super) fn as_part(
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
    read: impl FnOnce(
        &mut Evidence,
        &mut FileCtx<'_>,
        &mut BTreeMap<&'static str, HashSet<Box<str>>>,
        &mut Vec<(&'static str, String)>,
    ) -> u64,
) -> u64 {
    if fc.sink.is_none() {
        return read(ev, fc, rejected_ids, &mut Vec::new());
    }
    let mut pev = Evidence {
        tables: ev.tables.iter().map(|(k, t)| (*k, t.part())).collect(),
        ..Evidence::default()
    };
    let mut rids = BTreeMap::new();
    let mut names = Vec::new();
    // The lines `read` rejects are the part's (the sink is told them).
    let earlier = std::mem::take(&mut fc.rejected_recs);
    let n = read(&mut pev, fc, &mut rids, &mut names);
    let rejected_recs = std::mem::replace(&mut fc.rejected_recs, earlier);
    // Binding the header marked the fields the file provides on the part's tables.
    for (k, pt) in &pev.tables {
        if let Some(t) = ev.tables.get_mut(k) {
            for (a, b) in t.provided.iter_mut().zip(&pt.provided) {
                *a |= *b;
            }
        }
    }
    let part = Part {
        seq: 0,
        line0: 0,
        bytes: Vec::new(),
        ev: pev,
        diags: Diags::default(),
        rejected_recs,
        rejected_ids: rids,
        rows: n,
        literal_quote: false,
    };
    merge(ev, fc, part, &names, rejected_ids);
    n
}

/// Bytes of parts, in file order, as one reader: the sequential fallback from the first
/// part whose cut may be wrong.
struct Chain<'a> {
    cur: Vec<u8>,
    pos: usize,
    pending: &'a mut BTreeMap<u64, Part>,
    want: &'a mut u64,
    rx: &'a Receiver<Part>,
}

impl Read for Chain<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.cur.len() {
            let part = match self.pending.remove(self.want) {
                Some(p) => p,
                None => match self.rx.recv() {
                    Ok(p) => {
                        self.pending.insert(p.seq, p);
                        continue;
                    }
                    Err(_) => return Ok(0),
                },
            };
            *self.want += 1;
            self.cur = part.bytes;
            self.pos = 0;
        }
        Ok(copy_out(&self.cur, &mut self.pos, buf))
    }
}

/// The blocks the reading thread sends, in order, as one reader.
struct Blocks<'a, F: Fn() -> Option<Job>> {
    cur: Vec<u8>,
    pos: usize,
    next: &'a F,
}

impl<F: Fn() -> Option<Job>> Read for Blocks<'_, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.cur.len() {
            match (self.next)() {
                Some(j) => {
                    self.cur = j.bytes;
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        Ok(copy_out(&self.cur, &mut self.pos, buf))
    }
}

/// A reader that fails with the error the reading thread met (or is empty).
struct Failing(Option<io::Error>);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Ok(0),
        }
    }
}

/// Read a CSV file with every core. Returns the records read and the file's SHA-256.
pub(super) fn read_csv_parallel(
    f: File,
    binds: &[&TableSource],
    ev: &mut Evidence,
    fc: &mut FileCtx<'_>,
    rejected_ids: &mut BTreeMap<&'static str, HashSet<Box<str>>>,
) -> (u64, io::Result<String>) {
    let delim = binds.first().map(|b| b.delimiter).unwrap_or(b',');
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    // Blocks are handed over, not queued (rendezvous channels, here and for the
    // parts): a block waits only in the hands of the reader, a worker or the merger.
    // Queues of `workers + 1` held about 16 MB more at 1M incidents (three files read at
    // once) and were no faster.
    let (job_tx, job_rx) = sync_channel::<Job>(0);
    let (free_tx, free_rx) = channel::<Vec<u8>>();
    let jobs = Mutex::new(job_rx);
    std::thread::scope(|s| {
        let reader = s.spawn(move || split(f, job_tx, free_rx));
        let next = || jobs.lock().ok().and_then(|r| r.recv().ok());
        // Wait for the reader (after taking every block it sends, so it never blocks).
        let finish = |n: u64,
                      reader: std::thread::ScopedJoinHandle<'_, io::Result<String>>|
         -> (u64, io::Result<String>) {
            while next().is_some() {}
            let h = reader
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("reading thread failed")));
            (n, h)
        };
        // The header, from the first block.
        let Some(first) = next() else {
            // Nothing to read: an empty file, or one that cannot be read. The sequential
            // reader says which, as it would have.
            let h = reader
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("reading thread failed")));
            let mut failed = Failing(
                h.as_ref()
                    .err()
                    .map(|e| io::Error::new(e.kind(), e.to_string())),
            );
            let n = read_csv(&mut failed, binds, ev, fc, rejected_ids, &mut Vec::new());
            return (n, h);
        };
        let mut sc = Scanner::new(delim);
        let mut pos = bom_len(&first.bytes);
        let mut rec = Record::new();
        let Some(_) = sc.next_record(&first.bytes, &mut pos, &mut rec) else {
            csv_empty(fc);
            return finish(0, reader);
        };
        if sc.anomaly() {
            // A quote read as text in the header: every cut, even the first block's,
            // may be inside a record. Read the whole file sequentially.
            drop(rec);
            let mut all = Blocks {
                cur: first.bytes,
                pos: 0,
                next: &next,
            };
            let n = as_part(ev, fc, rejected_ids, |ev, fc, rids, names| {
                read_csv(&mut all, binds, ev, fc, rids, names)
            });
            return finish(n, reader);
        }
        let headers = csv_header(&rec, fc);
        drop(rec);
        let head = Job {
            seq: 0,
            bytes: first.bytes.get(pos..).unwrap_or(&[]).to_vec(),
            line0: sc.line() - 1,
        };
        let _ = free_tx.send(first.bytes);
        let Some(bindings) = csv_bindings(binds, &headers, ev, fc) else {
            // Every row is rejected: count them all (one scan over the blocks: no cut
            // needs to be trusted for that).
            let line0 = head.line0;
            let mut rest = Blocks {
                cur: head.bytes,
                pos: 0,
                next: &next,
            };
            let mut n = 0u64;
            let _ = scan_reader(&mut rest, delim, false, |rec, line| {
                if !blank_record(rec) {
                    n += 1;
                    reject_unbound(ev, fc, binds, line0 + line);
                }
            });
            return finish(n, reader);
        };
        let ncols = headers.len();
        let names = id_names(&bindings);
        let proto = Evidence {
            tables: ev.tables.iter().map(|(k, t)| (*k, t.part())).collect(),
            ..Evidence::default()
        };
        let file = fc.file.clone();
        let n = std::thread::scope(|s2| {
            let (part_tx, part_rx) = sync_channel::<Part>(0);
            let file_idx = fc.file_idx;
            for _ in 0..workers {
                let part_tx = part_tx.clone();
                let (bindings, proto, file, next) = (&bindings, &proto, &file, &next);
                s2.spawn(move || {
                    let mut shapes = BTreeMap::new();
                    while let Some(job) = next() {
                        let part = work(
                            job,
                            delim,
                            ncols,
                            bindings,
                            proto,
                            file,
                            file_idx,
                            &mut shapes,
                        );
                        if part_tx.send(part).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(part_tx);
            let mut pending: BTreeMap<u64, Part> = BTreeMap::new();
            // The rest of the first block here, while the workers take the next ones.
            let head_len = head.bytes.len() as u64;
            let first = work(
                head,
                delim,
                ncols,
                &bindings,
                &proto,
                &file,
                file_idx,
                &mut BTreeMap::new(),
            );
            // Room in the id index, id text and lines for the rows the file's size
            // promises at the first block's density (capped: a dense first block
            // must not reserve much).
            if let Some(b) = binds.first()
                && let Some(t) = ev.tables.get_mut(b.def.name)
            {
                let scale = |n: u64, cap: u64| {
                    let est = n.saturating_mul(size) / head_len.max(1);
                    est.saturating_add(est / 16).min(cap) as usize
                };
                let id_bytes = first
                    .ev
                    .table(b.def.name)
                    .map_or(0, crate::evidence::Table::id_bytes);
                t.reserve_ids(scale(first.rows, 1 << 24), scale(id_bytes as u64, 1 << 28));
            }
            pending.insert(0, first);
            let mut want = 0u64;
            let mut n = 0u64;
            loop {
                while let Some(mut part) = pending.remove(&want) {
                    if part.literal_quote {
                        // From here on csv decides where records end: read the rest of the
                        // file (this block and every later one) sequentially.
                        let line0 = part.line0;
                        let bytes = std::mem::take(&mut part.bytes);
                        want += 1;
                        let mut chain = Chain {
                            cur: bytes,
                            pos: 0,
                            pending: &mut pending,
                            want: &mut want,
                            rx: &part_rx,
                        };
                        n += as_part(ev, fc, rejected_ids, |ev, fc, rids, names| {
                            *names = id_names(&bindings);
                            scan_rows(
                                &mut chain, delim, line0, ncols, &bindings, binds, ev, fc, rids,
                            )
                        });
                        return n;
                    }
                    want += 1;
                    let before = n / PROGRESS_EVERY;
                    n += part.rows;
                    let bytes = merge(ev, fc, part, &names, rejected_ids);
                    let _ = free_tx.send(bytes);
                    if n / PROGRESS_EVERY > before
                        && let Some(p) = fc.progress
                    {
                        p(&fc.file, n, false);
                    }
                }
                match part_rx.recv() {
                    Ok(p) => {
                        pending.insert(p.seq, p);
                    }
                    Err(_) => break,
                }
            }
            n
        });
        finish(n, reader)
    })
}
