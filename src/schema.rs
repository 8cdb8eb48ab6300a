//! JSON Schema validation and typed deserialisation of YAML documents, with every
//! problem located at `file:line:col`. Used by the catalog and sources loaders.
//!
//! The `jsonschema` crate is built without default features: no HTTP or file
//! retrieval, so a `$ref` to a remote URL can never make evidentia reach the network.

use serde::de::DeserializeOwned;

use crate::diag::{Code, Diagnostic, Diags};
use crate::yaml::Doc;

/// Compile a shipped schema.
pub fn compile(schema_text: &str) -> Result<jsonschema::Validator, String> {
    let schema: serde_json::Value = serde_json::from_str(schema_text)
        .map_err(|e| format!("shipped schema is not JSON: {e}"))?;
    jsonschema::validator_for(&schema).map_err(|e| format!("shipped schema does not compile: {e}"))
}

/// Validate `doc` against a schema; push one diagnostic per violation. `true` if valid.
pub fn validate(schema_text: &str, doc: &Doc, file: &str, diags: &mut Diags) -> bool {
    match compile(schema_text) {
        Ok(v) => validate_with(&v, doc, file, diags),
        Err(m) => {
            diags.push(Diagnostic::error(Code::SchemaViolation, file, m));
            false
        }
    }
}

/// Validate with a compiled validator.
pub fn validate_with(v: &jsonschema::Validator, doc: &Doc, file: &str, diags: &mut Diags) -> bool {
    let mut ok = true;
    let mut seen = std::collections::BTreeSet::new();
    for e in v.iter_errors(&doc.value) {
        ok = false;
        let ptr = e.instance_path().to_string();
        let msg = e.to_string();
        if !seen.insert((ptr.clone(), msg.clone())) {
            continue;
        }
        let at = doc.locate(&ptr);
        let shown = if ptr.is_empty() {
            "/".to_string()
        } else {
            ptr.clone()
        };
        diags.push(
            Diagnostic::error(Code::SchemaViolation, file, format!("at {shown}: {msg}"))
                .at(at.line, at.col),
        );
    }
    ok
}

/// Deserialise `doc` into a typed value; a type error points at its location.
pub fn typed<T: DeserializeOwned>(doc: &Doc, file: &str, diags: &mut Diags) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(&doc.value) {
        Ok(t) => Some(t),
        Err(e) => {
            let ptr = path_to_pointer(e.path());
            let at = doc.locate(&ptr);
            diags.push(
                Diagnostic::error(
                    Code::SchemaViolation,
                    file,
                    format!("at {ptr}: {}", e.inner()),
                )
                .at(at.line, at.col),
            );
            None
        }
    }
}

fn path_to_pointer(p: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut s = String::new();
    for seg in p.iter() {
        match seg {
            Segment::Seq { index } => s.push_str(&format!("/{index}")),
            Segment::Map { key } => s.push_str(&format!("/{}", crate::yaml::escape_token(key))),
            Segment::Enum { variant } => s.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    s
}
