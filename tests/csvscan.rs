//! The scanner of `evidence::csvscan` against the `csv` crate configured as
//! `read::read_csv` configures it: same records, same field bytes, same start lines, on
//! random inputs over a small alphabet, on well-formed CSV split at the cuts
//! `last_record_end` finds, and on the generated benchmark files when present.

#![allow(clippy::print_stderr)]

use evidentia::evidence::csvscan::{Record, Scanner, bom_len, count_newlines, last_record_end};
use proptest::prelude::*;

/// (start line, fields) per record.
type Recs = Vec<(u64, Vec<Vec<u8>>)>;

/// The reader of `read::read_csv`.
fn csv_reader(input: &[u8], delim: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(input)
}

fn csv_records(input: &[u8], delim: u8) -> Recs {
    let mut rdr = csv_reader(input, delim);
    let mut rec = csv::ByteRecord::new();
    let mut out = Vec::new();
    while rdr.read_byte_record(&mut rec).unwrap_or(false) {
        let line = rec.position().map_or(0, |p| p.line());
        out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
    }
    out
}

/// Fields read as text from a block checked whole (`Record::set_text`) are the fields'
/// bytes checked one by one; a block that is not UTF-8 is checked field by field.
fn check_text(input: &[u8], delim: u8) {
    let mut sc = Scanner::new(delim);
    let mut rec = Record::new();
    if let Ok(t) = std::str::from_utf8(input) {
        rec.set_text(t);
    }
    let mut pos = bom_len(input);
    while sc.next_record(input, &mut pos, &mut rec).is_some() {
        for i in 0..rec.len() {
            let want = rec.get(i).map(|b| std::str::from_utf8(b).ok());
            assert_eq!(rec.text(i).map(Result::ok), want, "field {i}");
        }
        assert!(rec.text(rec.len()).is_none());
    }
}

/// Scan `block` from `pos` with the scanner `sc`, appending to `out`.
fn scan_into(sc: &mut Scanner, block: &[u8], mut pos: usize, out: &mut Recs) {
    let mut rec = Record::new();
    while let Some(line) = sc.next_record(block, &mut pos, &mut rec) {
        assert!(!rec.is_empty());
        out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
    }
}

/// The whole input scanned at once: records and the anomaly flag.
fn scan_records(input: &[u8], delim: u8) -> (Recs, bool) {
    let mut sc = Scanner::new(delim);
    let mut out = Vec::new();
    scan_into(&mut sc, input, bom_len(input), &mut out);
    (out, sc.anomaly())
}

/// The input cut at the last record end of its first `k` bytes, for every `k`: both
/// pieces scanned separately give the records of the whole.
fn check_every_cut(input: &[u8], delim: u8, whole: &Recs) {
    for k in 0..=input.len() {
        let (cut, _) = last_record_end(&input[..k], false);
        let Some(c) = cut else { continue };
        assert!(c <= k && input[c - 1] == b'\n', "cut {c} of {k}");
        let mut out = Vec::new();
        let mut sc = Scanner::new(delim);
        scan_into(&mut sc, &input[..c], bom_len(&input[..c]), &mut out);
        let first = out.len();
        let mut sc2 = Scanner::new(delim);
        sc2.set_line(1 + count_newlines(&input[..c]));
        scan_into(&mut sc2, &input[c..], 0, &mut out);
        assert_eq!(
            &out, whole,
            "cut at {c} (window {k}), {first} records before"
        );
    }
}

/// A chunked reader: windows of `w` bytes, each cut at its last record end (doubling
/// the window when it has none), the pieces scanned one after another by fresh
/// scanners, as parallel workers would.
fn check_chunked(input: &[u8], delim: u8, w: usize, whole: &Recs) {
    let mut out = Vec::new();
    let mut start = 0;
    let mut line = 1;
    let mut size = w.max(1);
    while start < input.len() {
        let end = (start + size).min(input.len());
        let window = &input[start..end];
        let piece = if end == input.len() {
            window
        } else {
            match last_record_end(window, false) {
                (Some(c), _) => &window[..c],
                (None, _) => {
                    size *= 2;
                    continue;
                }
            }
        };
        let mut sc = Scanner::new(delim);
        sc.set_line(line);
        let from = if start == 0 { bom_len(piece) } else { 0 };
        scan_into(&mut sc, piece, from, &mut out);
        line += count_newlines(piece);
        start += piece.len();
        size = w.max(1);
    }
    assert_eq!(&out, whole, "window {w}");
}

/// A streaming reader with a buffer refilled `w` bytes at a time, one scanner for the
/// whole input: complete records only until the input ends, the rest of the buffer
/// kept for the next round.
fn check_streaming(input: &[u8], delim: u8, w: usize, whole: &Recs) {
    let mut sc = Scanner::new(delim);
    let mut out = Vec::new();
    let mut buf: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut first = true;
    loop {
        let more = (fed + w.max(1)).min(input.len());
        buf.extend_from_slice(&input[fed..more]);
        fed = more;
        let eof = fed == input.len();
        if first && buf.len() < 3 && !eof {
            continue;
        }
        let mut pos = if first { bom_len(&buf) } else { 0 };
        first = false;
        let mut rec = Record::new();
        loop {
            let got = if eof {
                sc.next_record(&buf, &mut pos, &mut rec)
            } else {
                sc.next_complete_record(&buf, &mut pos, &mut rec)
            };
            let Some(line) = got else { break };
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        assert!(eof || sc.is_at_end_incomplete() || pos >= buf.len());
        drop(rec);
        buf.drain(..pos.min(buf.len()));
        if eof {
            break;
        }
    }
    assert_eq!(&out, whole, "buffer step {w}");
}

/// Quote parity and end state, the slow way.
fn parity_end(block: &[u8], start: bool) -> bool {
    (block.iter().filter(|&&b| b == b'"').count() % 2 == 1) ^ start
}

fn tokens() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<&'static [u8]> = vec![
        b"a",
        b"a",
        b"\xC3\xA9",
        b",",
        b";",
        b"\"",
        b"\"",
        b"\n",
        b"\r",
        b"\n\n",
        b"\r\n",
    ];
    (
        any::<bool>(),
        prop::collection::vec(prop::sample::select(alphabet), 0..48),
    )
        .prop_map(|(bom, toks)| {
            let mut v = if bom {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            for t in toks {
                v.extend_from_slice(t);
            }
            v
        })
}

/// Well-formed CSV (RFC 4180 quoting, so no anomaly): records of fields, unquoted or
/// quoted (with doubled quotes, delimiters and newlines inside), blank lines between,
/// a final newline or not, a BOM or not.
fn well_formed(delim: u8) -> impl Strategy<Value = Vec<u8>> {
    let plain: Vec<&'static [u8]> = vec![b"a", b"\xC3\xA9", b"\r", b" "];
    let quoted: Vec<&'static [u8]> = vec![b"a", b"\xC3\xA9", b",", b";", b"\"\"", b"\n", b"\r"];
    let field = prop_oneof![
        prop::collection::vec(prop::sample::select(plain), 0..4).prop_map(|t| t.concat()),
        prop::collection::vec(prop::sample::select(quoted), 0..6).prop_map(|t| {
            let mut v = vec![b'"'];
            v.extend(t.concat());
            v.push(b'"');
            v
        }),
    ];
    let record = (prop::collection::vec(field, 1..5), 0..3usize);
    (
        any::<bool>(),
        prop::collection::vec(record, 0..8),
        any::<bool>(),
    )
        .prop_map(move |(bom, recs, final_nl)| {
            let mut v = if bom {
                b"\xEF\xBB\xBF".to_vec()
            } else {
                Vec::new()
            };
            let n = recs.len();
            for (i, (fields, blanks)) in recs.into_iter().enumerate() {
                v.extend(fields.join(&[delim][..]));
                if i + 1 < n || final_nl {
                    v.push(b'\n');
                }
                v.extend(std::iter::repeat_n(b'\n', blanks));
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn same_records_as_csv(input in tokens(), semicolon in any::<bool>()) {
        let delim = if semicolon { b';' } else { b',' };
        let want = csv_records(&input, delim);
        let (got, anomaly) = scan_records(&input, delim);
        prop_assert_eq!(&got, &want);
        let (_, end) = last_record_end(&input, false);
        prop_assert_eq!(end, parity_end(&input, false));
        prop_assert_eq!(last_record_end(&input, true).1, !end);
        prop_assert_eq!(
            count_newlines(&input),
            input.iter().filter(|&&b| b == b'\n').count() as u64
        );
        if !anomaly {
            check_every_cut(&input, delim, &want);
            check_chunked(&input, delim, 7, &want);
        }
        check_streaming(&input, delim, 5, &want);
        check_text(&input, delim);
        // Not UTF-8 once a byte is cut out of a character.
        if let Some(k) = input.iter().position(|&b| b == 0xA9) {
            let mut broken = input.clone();
            broken.remove(k);
            check_text(&broken, delim);
        }
    }

    /// Fields marked unread (`Scanner::set_unread`) may keep their doubled quotes;
    /// every other field, each record's field count and line, where records end and
    /// the anomaly flag are as without the mask, and no unread field reads as empty
    /// when it is not.
    #[test]
    fn unread_fields_change_nothing_else(
        input in tokens(),
        semicolon in any::<bool>(),
        mask in any::<u64>(),
    ) {
        let delim = if semicolon { b';' } else { b',' };
        let (want, want_anomaly) = scan_records(&input, delim);
        let mut sc = Scanner::new(delim);
        sc.set_unread(mask);
        let mut rec = Record::new();
        let mut pos = bom_len(&input);
        let mut got = Vec::new();
        while let Some(line) = sc.next_record(&input, &mut pos, &mut rec) {
            got.push((line, rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>()));
        }
        prop_assert_eq!(sc.anomaly(), want_anomaly);
        prop_assert_eq!(got.len(), want.len());
        for ((gl, gf), (wl, wf)) in got.iter().zip(&want) {
            prop_assert_eq!(gl, wl);
            prop_assert_eq!(gf.len(), wf.len());
            for (i, (g, w)) in gf.iter().zip(wf).enumerate() {
                if i < 64 && mask >> i & 1 == 1 {
                    prop_assert_eq!(g.is_empty(), w.is_empty());
                } else {
                    prop_assert_eq!(g, w, "field {}", i);
                }
            }
        }
    }

    #[test]
    fn well_formed_splits(
        (input, delim) in prop_oneof![Just(b','), Just(b';')]
            .prop_flat_map(|d| (well_formed(d), Just(d))),
        w in 1usize..40,
    ) {
        let want = csv_records(&input, delim);
        let (got, anomaly) = scan_records(&input, delim);
        prop_assert_eq!(&got, &want);
        prop_assert!(!anomaly);
        check_every_cut(&input, delim, &want);
        check_chunked(&input, delim, w, &want);
        check_streaming(&input, delim, w, &want);
    }
}

#[test]
fn an_unread_field_keeps_its_doubled_quotes() {
    let input = b"\"a\"\"b\",\"c\"\"d\"\n\"e\"\"\nf\",g\n";
    let mut sc = Scanner::new(b',');
    sc.set_unread(0b1);
    let mut rec = Record::new();
    let mut pos = 0;
    assert_eq!(sc.next_record(input, &mut pos, &mut rec), Some(1));
    assert_eq!(rec.get(0), Some(&b"a\"\"b"[..]));
    assert_eq!(rec.get(1), Some(&b"c\"d"[..]));
    assert_eq!(sc.next_record(input, &mut pos, &mut rec), Some(2));
    assert_eq!(rec.get(0), Some(&b"e\"\"\nf"[..]));
    assert_eq!(rec.get(1), Some(&b"g"[..]));
    assert_eq!(sc.next_record(input, &mut pos, &mut rec), None);
    assert_eq!(sc.line(), 4);
}

#[test]
fn documented_cases() {
    let lines = |s: &[u8]| -> Vec<u64> { scan_records(s, b',').0.iter().map(|r| r.0).collect() };
    // Blank lines are skipped, and not counted for the record after them.
    assert_eq!(lines(b"a\n\n\nb\nc\n"), vec![1, 2, 5]);
    assert_eq!(lines(b"\n\na\nb"), vec![1, 4]);
    assert_eq!(
        csv_records(b"a\n\n\nb\nc\n", b','),
        scan_records(b"a\n\n\nb\nc\n", b',').0
    );
    // A quote in an unquoted field, and text after a closing quote.
    let (r, anomaly) = scan_records(b"a\"b,\"x\"\"y\"z\"w,\"q\"\n", b',');
    assert!(anomaly);
    assert_eq!(
        r[0].1,
        vec![b"a\"b".to_vec(), b"x\"yz\"w".to_vec(), b"q".to_vec()]
    );
    // `\r\n` leaves `\r` on the last field; a lone `\r` line is a record.
    let (r, anomaly) = scan_records(b"a,b\r\n\r\n", b',');
    assert!(!anomaly);
    assert_eq!(
        r,
        vec![
            (1, vec![b"a".to_vec(), b"b\r".to_vec()]),
            (2, vec![b"\r".to_vec()])
        ]
    );
    // A quoted field open at the end, and a trailing delimiter.
    assert_eq!(
        scan_records(b"\"a\nb", b',').0,
        vec![(1, vec![b"a\nb".to_vec()])]
    );
    assert_eq!(
        scan_records(b"a,", b',').0,
        vec![(1, vec![b"a".to_vec(), Vec::new()])]
    );
    // No cut inside a run of blank lines, nor in one at the start of the block.
    assert_eq!(last_record_end(b"a\n\n\nb", false), (Some(2), false));
    assert_eq!(last_record_end(b"\n\nb", false), (None, false));
    assert_eq!(last_record_end(b"\xEF\xBB\xBF\nb", false), (None, false));
    assert_eq!(last_record_end(b"\"a\nb\"", false), (None, false));
    assert_eq!(last_record_end(b"x\n\"a\nb", false), (Some(2), true));
    assert_eq!(last_record_end(b"a\nb\"\n", true), (Some(5), false));
}

/// Records, field bytes and lines folded into one number (FNV-1a).
fn fold(h: &mut u64, line: u64, fields: &mut dyn Iterator<Item = &[u8]>) {
    let mut eat = |b: &[u8]| {
        for &x in b {
            *h = (*h ^ u64::from(x)).wrapping_mul(0x100_0000_01b3);
        }
    };
    eat(&line.to_le_bytes());
    for f in fields {
        eat(&(f.len() as u64).to_le_bytes());
        eat(f);
    }
}

#[test]
fn generated_files_match_csv() {
    let dir = std::path::Path::new("/tmp/evidentia-bench/data/n100000");
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!(
            "skipped: {} not found (see ../shared/bench/gen_evidence.py)",
            dir.display()
        );
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    for path in files {
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let (mut want_n, mut want_h) = (0u64, 0xcbf2_9ce4_8422_2325u64);
        let mut rdr = csv_reader(&data, b',');
        let mut rec = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec).unwrap_or(false) {
            want_n += 1;
            let line = rec.position().map_or(0, |p| p.line());
            fold(&mut want_h, line, &mut rec.iter());
        }
        let (mut got_n, mut got_h) = (0u64, 0xcbf2_9ce4_8422_2325u64);
        let mut sc = Scanner::new(b',');
        let mut rec = Record::new();
        let mut pos = bom_len(&data);
        while let Some(line) = sc.next_record(&data, &mut pos, &mut rec) {
            got_n += 1;
            fold(&mut got_h, line, &mut rec.iter());
        }
        assert_eq!((got_n, got_h), (want_n, want_h), "{}", path.display());
        assert!(!sc.anomaly(), "{}", path.display());
        // Cut into 1 MiB pieces by parity: the same again.
        let (mut cut_n, mut cut_h) = (0u64, 0xcbf2_9ce4_8422_2325u64);
        let (mut start, mut line) = (0usize, 1u64);
        while start < data.len() {
            let end = (start + (1 << 20)).min(data.len());
            let piece = if end == data.len() {
                &data[start..]
            } else {
                let (c, _) = last_record_end(&data[start..end], false);
                &data[start..start + c.unwrap_or(end - start)]
            };
            let mut sc = Scanner::new(b',');
            sc.set_line(line);
            let mut pos = if start == 0 { bom_len(piece) } else { 0 };
            let mut rec = Record::new();
            while let Some(l) = sc.next_record(piece, &mut pos, &mut rec) {
                cut_n += 1;
                fold(&mut cut_h, l, &mut rec.iter());
            }
            line += count_newlines(piece);
            start += piece.len();
        }
        assert_eq!(
            (cut_n, cut_h),
            (want_n, want_h),
            "{} in pieces",
            path.display()
        );
        eprintln!("{}: {want_n} records agree", path.display());
    }
}
