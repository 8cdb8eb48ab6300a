//! Diagnostics: every problem with a catalog, a sources file or an export.
//!
//! Used by every loading stage. Each kind has a stable kebab-case code with a one-line
//! description (`evidentia` prints the code; docs list them), and every diagnostic
//! points at what the user wrote: `file:line:col` for YAML, `file:line` and the column
//! as spelled in the export for CSV, a JSON pointer for JSON.

use std::fmt;

use serde::Serialize;

macro_rules! codes {
    ($($variant:ident => $code:literal, $desc:literal;)*) => {
        /// The kind of a diagnostic.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(rename_all = "kebab-case")]
        #[allow(missing_docs)] // each code's meaning is its `description()`
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable kebab-case code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// One line saying what the code means.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $desc,)* }
            }
        }
    };
}

codes! {
    Io => "io", "a file or folder could not be read or written";
    YamlSyntax => "yaml-syntax", "a YAML file is not valid YAML or exceeds a parser limit";
    SchemaViolation => "schema-violation", "a catalog or sources file does not match its JSON Schema";
    DuplicateId => "duplicate-id", "two catalog entries (checks, frameworks, controls, calendars, official texts of one control) share an id";
    UnknownCheck => "unknown-check", "a control or override names a check that does not exist";
    UnknownTable => "unknown-table", "a check or source names a table evidentia does not know";
    UnknownField => "unknown-field", "a check or source names a field its table does not have";
    BadDuration => "bad-duration", "a duration is not of the form 72h, 30d, 10bd, 1mo";
    BadValue => "bad-value", "a catalog or sources value has the wrong type or is not allowed";
    BadPattern => "bad-pattern", "a regular expression does not compile";
    UnknownFramework => "unknown-framework", "a crosswalk, control text or option names a framework that does not exist";
    UnknownControl => "unknown-control", "a crosswalk or control text names a control that does not exist";
    UnknownCalendar => "unknown-calendar", "a check names a calendar that does not exist";
    NoCatalog => "no-catalog", "the controls folder holds no catalog file";
    InvalidUtf8 => "invalid-utf8", "a file or a field is not valid UTF-8";
    CsvSyntax => "csv-syntax", "a CSV file cannot be parsed";
    JsonSyntax => "json-syntax", "a JSON or NDJSON file cannot be parsed";
    RecordsPath => "records-path", "the declared records path does not lead to an array of objects";
    MissingColumn => "missing-column", "a mapped column is not in the export's header";
    RaggedRow => "ragged-row", "a CSV row has a different number of fields than the header";
    MissingId => "missing-id", "a record has no id";
    DuplicateRecord => "duplicate-record", "two records of one table share an id";
    UnparseableValue => "unparseable-value", "a value cannot be read as its field's type";
    NaiveTimestamp => "naive-timestamp", "a timestamp has no UTC offset and its source declares no time zone";
    DanglingReference => "dangling-reference", "a record refers to a record that is not in the evidence";
    EmptyFile => "empty-file", "an export has no header or no content";
    TooManyErrors => "too-many-errors", "more problems were found than are listed";
}

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Blocks the run (exit 2) unless the user asked to keep going.
    Error,
    /// Reported; does not block.
    Warning,
}

/// One problem, pointing at what the user wrote.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub level: Level,
    /// Stable code.
    pub code: Code,
    /// File as given on the command line or in sources.yaml.
    pub file: String,
    /// 1-based line (YAML, CSV, NDJSON), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 1-based column (YAML), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<u64>,
    /// JSON pointer of the record or value (JSON inputs), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// What is wrong, naming the field, the column as spelled and the value.
    pub message: String,
}

/// Longest diagnostic message kept, in bytes: a value echoed from an export (say a
/// 20 MB cell) is cut here, with the number of bytes left out.
pub const MAX_MESSAGE_BYTES: usize = 4096;

fn clip(mut m: String) -> String {
    if m.len() > MAX_MESSAGE_BYTES {
        let mut cut = MAX_MESSAGE_BYTES;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        let rest = m.len() - cut;
        m.truncate(cut);
        m.push_str(&format!("... ({rest} more bytes)"));
    }
    m
}

/// Line and column (1-based, the column in bytes) of byte `at` of a file, for
/// problems found in raw bytes (e.g. where invalid UTF-8 starts).
pub fn byte_position(bytes: &[u8], at: usize) -> (u64, u64) {
    let before = bytes.get(..at).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() as u64 + 1;
    (line, col)
}

impl Diagnostic {
    /// An error at a file position.
    pub fn error(code: Code, file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Error,
            code,
            file: file.into(),
            line: None,
            col: None,
            pointer: None,
            message: clip(message.into()),
        }
    }

    /// A warning at a file position.
    pub fn warning(code: Code, file: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, file, message)
        }
    }

    /// Set line (and column when non-zero).
    pub fn at(mut self, line: u64, col: u64) -> Diagnostic {
        if line > 0 {
            self.line = Some(line);
        }
        if col > 0 {
            self.col = Some(col);
        }
        self
    }

    /// Set the JSON pointer.
    pub fn pointer(mut self, p: impl Into<String>) -> Diagnostic {
        self.pointer = Some(p.into());
        self
    }

    /// `file:line:col` (or `file#pointer`) for messages.
    pub fn position(&self) -> String {
        let mut s = self.file.clone();
        if let Some(l) = self.line {
            s.push_str(&format!(":{l}"));
            if let Some(c) = self.col {
                s.push_str(&format!(":{c}"));
            }
        }
        if let Some(p) = &self.pointer {
            s.push_str(&format!(" (at {p})"));
        }
        s
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lvl = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        write!(
            f,
            "{lvl}[{}]: {}: {}",
            self.code.as_str(),
            self.position(),
            self.message
        )
    }
}

/// Collects diagnostics up to a limit, counting the rest.
#[derive(Debug, Default)]
pub struct Diags {
    /// Kept diagnostics.
    pub items: Vec<Diagnostic>,
    /// Errors beyond the limit, counted but not kept.
    pub dropped: u64,
    /// Warnings beyond the limit, counted but not kept.
    pub dropped_warnings: u64,
}

/// How many diagnostics are kept; beyond it they are only counted.
pub const MAX_KEPT: usize = 1000;

impl Diags {
    /// Add one diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        if self.items.len() < MAX_KEPT {
            self.items.push(d);
        } else if d.level == Level::Error {
            self.dropped += 1;
        } else {
            self.dropped_warnings += 1;
        }
    }

    /// Any errors (kept or dropped)?
    pub fn has_errors(&self) -> bool {
        self.dropped > 0 || self.items.iter().any(|d| d.level == Level::Error)
    }

    /// Number of errors, including those only counted.
    pub fn error_count(&self) -> u64 {
        self.items
            .iter()
            .filter(|d| d.level == Level::Error)
            .count() as u64
            + self.dropped
    }

    /// Take in another collection.
    pub fn extend(&mut self, other: Diags) {
        for d in other.items {
            self.push(d);
        }
        self.dropped += other.dropped;
        self.dropped_warnings += other.dropped_warnings;
    }

    /// Sorted, with a closing note when some were only counted.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        self.items.sort();
        if self.dropped + self.dropped_warnings > 0 {
            let d = Diagnostic::error(
                Code::TooManyErrors,
                "-",
                format!(
                    "{} more error(s) and {} more warning(s) not listed (at most {MAX_KEPT} are kept)",
                    self.dropped, self.dropped_warnings
                ),
            );
            self.items.push(if self.dropped > 0 {
                d
            } else {
                Diagnostic {
                    level: Level::Warning,
                    ..d
                }
            });
        }
        self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_and_described() {
        let mut seen = HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            );
            assert!(!c.description().is_empty());
            let json = serde_json::to_string(c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
        }
    }

    #[test]
    fn limit_counts_the_rest() {
        let mut d = Diags::default();
        for i in 0..(MAX_KEPT + 5) {
            d.push(Diagnostic::error(Code::BadValue, "f", format!("{i}")));
        }
        assert_eq!(d.error_count(), MAX_KEPT as u64 + 5);
        let v = d.finish();
        assert_eq!(v.len(), MAX_KEPT + 1);
        assert!(v.last().is_some_and(|x| x.code == Code::TooManyErrors));
    }
}
