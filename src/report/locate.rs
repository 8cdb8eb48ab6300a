//! Line numbers for records of JSON exports, for the outputs that point a reader at a
//! file and line (SARIF, GitHub annotations). The reader locates a JSON record by its
//! pointer (`/incidents/3`); this module finds the line where each element of the
//! records array starts, with a small scanner over the export's bytes (read again
//! only when such an output is written). Part of the report stage.

use std::collections::BTreeMap;

use crate::assess::{Assessment, RecordResult};

/// Record start lines per JSON input: path -> (records pointer, line of element `i`).
#[derive(Debug, Default, Clone)]
pub struct Lines {
    by_file: BTreeMap<String, (String, Vec<u32>)>,
}

impl Lines {
    /// Scan every JSON input of the assessment (files that cannot be read are skipped:
    /// their records keep their pointer only).
    pub fn scan(a: &Assessment) -> Lines {
        let mut by_file = BTreeMap::new();
        for i in &a.inputs {
            let Some(ptr) = &i.records_pointer else {
                continue;
            };
            if let Ok(bytes) = std::fs::read(&i.path) {
                by_file.insert(i.path.clone(), (ptr.clone(), element_lines(&bytes, ptr)));
            }
        }
        Lines { by_file }
    }

    /// The 1-based line of a record: its own line (CSV, NDJSON), or the line where its
    /// JSON element starts.
    pub fn line_of(&self, r: &RecordResult) -> Option<u64> {
        if r.line().is_some() {
            return r.line();
        }
        let p = r.pointer()?;
        let (prefix, idx) = p.rsplit_once('/')?;
        let (records, lines) = self.by_file.get(&*r.file)?;
        if prefix != records {
            return None;
        }
        let i: usize = idx.parse().ok()?;
        lines.get(i).map(|&l| u64::from(l))
    }
}

/// The line (1-based) where each element of the array at `pointer` starts; empty when
/// the pointer does not lead to an array or the text is not JSON.
pub fn element_lines(bytes: &[u8], pointer: &str) -> Vec<u32> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let target: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let mut s = Scan {
        b: body,
        i: 0,
        line: 1,
    };
    let mut out = Vec::new();
    s.ws();
    s.walk(&target, &mut out);
    out
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    line: u32,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line += 1;
        }
        self.i += 1;
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.bump();
        }
    }

    /// Past a string starting at the opening quote; returns its raw bytes (quotes
    /// included).
    fn string(&mut self) -> &[u8] {
        let start = self.i;
        self.bump();
        while let Some(c) = self.peek() {
            self.bump();
            match c {
                b'\\' => self.bump(),
                b'"' => break,
                _ => {}
            }
        }
        self.b.get(start..self.i).unwrap_or(&[])
    }

    /// Past one value of any kind.
    fn skip(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.string();
                    if depth == 0 {
                        return;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        return;
                    }
                }
                b',' | b' ' | b'\t' | b'\r' | b'\n' if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }

    /// At a value on the way to the target array (`rest` is the path still to go).
    fn walk(&mut self, rest: &[String], out: &mut Vec<u32>) {
        match (rest.split_first(), self.peek()) {
            (None, Some(b'[')) => {
                self.bump();
                loop {
                    self.ws();
                    if matches!(self.peek(), None | Some(b']')) {
                        return;
                    }
                    out.push(self.line);
                    self.skip();
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.bump();
                    } else {
                        return;
                    }
                }
            }
            (Some((key, tail)), Some(b'{')) => {
                self.bump();
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return;
                    }
                    let raw = self.string().to_vec();
                    let k: Option<String> = serde_json::from_slice(&raw).ok();
                    self.ws();
                    if self.peek() != Some(b':') {
                        return;
                    }
                    self.bump();
                    self.ws();
                    if k.as_deref() == Some(key.as_str()) {
                        self.walk(tail, out);
                        return;
                    }
                    self.skip();
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.bump();
                    } else {
                        return;
                    }
                }
            }
            (Some((key, tail)), Some(b'[')) => {
                let Ok(want) = key.parse::<usize>() else {
                    return;
                };
                self.bump();
                let mut n = 0usize;
                loop {
                    self.ws();
                    if matches!(self.peek(), None | Some(b']')) {
                        return;
                    }
                    if n == want {
                        self.walk(tail, out);
                        return;
                    }
                    self.skip();
                    n += 1;
                    self.ws();
                    if self.peek() == Some(b',') {
                        self.bump();
                    } else {
                        return;
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_array_elements() {
        let text = br#"{
  "meta": {"a": [1, "x]}{\"", {"b": 2}]},
  "incidents": [
    {"id": "A",
     "t": "multi
line?"},
    {"id": "B"}, {"id": "C"},
    7
  ]
}"#;
        assert_eq!(element_lines(text, "/incidents"), vec![4, 7, 7, 8]);
        assert_eq!(element_lines(b"[\n{}\n,\n{}]", ""), vec![2, 4]);
        assert_eq!(
            element_lines(br#"{"d": [0, {"x": [ {}, {} ]}]}"#, "/d/1/x"),
            vec![1, 1]
        );
        assert!(element_lines(b"{\"x\": 1}", "/incidents").is_empty());
        assert!(element_lines(b"not json", "/x").is_empty());
        assert!(element_lines(b"", "").is_empty());
    }
}
