//! YAML reading with locations, shared by the catalog and sources loaders.
//!
//! A file is parsed once (serde-saphyr, with its resource budget: alias expansion,
//! nesting, event counts) into a tree whose every node knows its line and column.
//! The tree becomes a `serde_json::Value` for JSON Schema validation and typed
//! deserialisation, and a table from JSON pointer to location, so that every later
//! problem (schema, type, semantic) can point at `file:line:col`.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

/// A line and column, both 1-based (0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct LineCol {
    /// 1-based line.
    pub line: u64,
    /// 1-based column.
    pub col: u64,
}

/// A parsed YAML document: its JSON value and where each node was written.
#[derive(Debug)]
pub struct Doc {
    /// The document as JSON data.
    pub value: Value,
    locs: HashMap<String, LineCol>,
}

/// A YAML syntax or limit error.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub at: LineCol,
    /// What it says.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Largest YAML file evidentia reads (catalogs and sources are small by nature).
pub const MAX_YAML_BYTES: usize = 16 * 1024 * 1024;

impl Doc {
    /// Parse YAML text. An empty file is an empty mapping.
    pub fn parse(text: &str) -> Result<Doc, SyntaxError> {
        if text.len() > MAX_YAML_BYTES {
            return Err(SyntaxError {
                at: LineCol { line: 1, col: 1 },
                message: format!(
                    "file is {} bytes; YAML files are limited to {MAX_YAML_BYTES} bytes",
                    text.len()
                ),
            });
        }
        if text.trim().is_empty()
            || text.lines().all(|l| {
                l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---"
            })
        {
            return Ok(Doc {
                value: Value::Object(Default::default()),
                locs: HashMap::new(),
            });
        }
        let mut opts = serde_saphyr::Options::default();
        opts.with_snippet = false;
        opts.strict_booleans = true;
        let root: Spanned<Node> = serde_saphyr::from_str_with_options(text, opts).map_err(|e| {
            let at = e
                .location()
                .map(|l| LineCol {
                    line: l.line(),
                    col: l.column(),
                })
                .unwrap_or_default();
            SyntaxError {
                at,
                message: clean_message(&e.to_string()),
            }
        })?;
        let mut locs = HashMap::new();
        let value = flatten(root, String::new(), &mut locs);
        Ok(Doc { value, locs })
    }

    /// Where the node at a JSON pointer was written; the nearest located ancestor when
    /// the exact node has no location (e.g. a missing key points at its mapping).
    pub fn locate(&self, pointer: &str) -> LineCol {
        let mut p = pointer;
        loop {
            if let Some(l) = self.locs.get(p) {
                return *l;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return LineCol { line: 1, col: 1 },
            }
        }
    }
}

/// serde-saphyr appends " at line N column M" to some messages; we print the location
/// ourselves.
fn clean_message(m: &str) -> String {
    let m = m.trim();
    let m = match m.rfind(" at line ") {
        Some(i) => m.get(..i).unwrap_or(m),
        None => m,
    };
    // Advice addressed to programmers using the YAML library is not for our users.
    let m = match m.find("; set DuplicateKeyPolicy") {
        Some(i) => m.get(..i).unwrap_or(m),
        None => m,
    };
    m.to_string()
}

/// Escape one JSON pointer token (RFC 6901).
pub fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

fn flatten(node: Spanned<Node>, ptr: String, locs: &mut HashMap<String, LineCol>) -> Value {
    let loc = node.referenced;
    locs.insert(
        ptr.clone(),
        LineCol {
            line: loc.line(),
            col: loc.column(),
        },
    );
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Num(n) => Value::Number(n),
        Node::Str(s) => Value::String(s),
        Node::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, n)| flatten(n, format!("{ptr}/{i}"), locs))
                .collect(),
        ),
        Node::Map(entries) => {
            let mut m = serde_json::Map::new();
            for (k, v) in entries {
                let child = format!("{ptr}/{}", escape_token(&k));
                let val = flatten(v, child, locs);
                m.insert(k, val);
            }
            Value::Object(m)
        }
    }
}

/// One YAML node; children carry their own locations.
enum Node {
    Null,
    Bool(bool),
    Num(serde_json::Number),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(String, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Num(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Num(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        serde_json::Number::from_f64(v)
            .map(Node::Num)
            .ok_or_else(|| E::custom("non-finite numbers are not allowed"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _v: &[u8]) -> Result<Node, E> {
        Err(E::custom("binary values are not allowed"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Spanned<Node>>()? {
            items.push(n);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Key>()? {
            let v = map.next_value::<Spanned<Node>>()?;
            entries.push((k.0, v));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key: any scalar, kept as its text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KV;
        impl Visitor<'_> for KV {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_unit<E>(self) -> Result<Key, E> {
                Ok(Key("null".into()))
            }
        }
        d.deserialize_any(KV)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn locations_by_pointer() {
        let d = Doc::parse("a: 1\nb:\n  - x\n  - c: true\n").unwrap();
        assert_eq!(d.value["b"][1]["c"], Value::Bool(true));
        assert_eq!(d.locate("/a").line, 1);
        assert_eq!(d.locate("/b/0").line, 3);
        assert_eq!(d.locate("/b/1/c").line, 4);
        assert_eq!(d.locate("/b/1/missing").line, 4);
    }

    #[test]
    fn syntax_errors_have_lines() {
        let e = Doc::parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.at.line >= 2, "{e:?}");
        let e = Doc::parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.to_lowercase().contains("duplicate"), "{e:?}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            y.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(Doc::parse(&y).is_err());
    }

    #[test]
    fn empty_is_empty_map() {
        assert_eq!(
            Doc::parse("# nothing\n").unwrap().value,
            serde_json::json!({})
        );
    }
}
