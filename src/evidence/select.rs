//! The `pick` column selector of sources.yaml: a value taken from the element of an
//! array inside a JSON record that matches a condition, e.g. a named timestamp in
//! incident.io's `incident_timestamp_values` or a milestone by type in FireHydrant's
//! `milestones`. Part of the evidence stage (compiled by `sources`, applied by `read`).
//!
//! ```yaml
//! detected_at:
//!   pick: /incident_timestamp_values
//!   where: { "/incident_timestamp/name": "Impact started" }
//!   value: /value/value
//! ```

use serde_json::Value as J;

/// A compiled `pick` selector.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// Pointer (or top-level key) of the array inside the record; a `*` segment walks
    /// every element of an array on the way (`/lifecycle_phases/*/milestones`).
    pub array: String,
    /// Conditions on an element: (pointer or key inside the element, text it must hold).
    pub filter: Vec<(String, String)>,
    /// Pointer (or key) of the value inside the matching element.
    pub value: String,
}

/// A pointer (`/a/b`) or a plain key (`a`) inside a JSON value.
fn at<'a>(v: &'a J, key: &str) -> Option<&'a J> {
    if key.is_empty() {
        Some(v)
    } else if key.starts_with('/') {
        v.pointer(key)
    } else {
        v.get(key)
    }
}

/// The elements of the array at `path`, walking `*` segments through arrays.
fn elements<'a>(v: &'a J, path: &str, out: &mut Vec<&'a J>) {
    match path.split_once("/*") {
        Some((head, rest)) if rest.is_empty() || rest.starts_with('/') => {
            if let Some(arr) = at(v, head).and_then(J::as_array) {
                for el in arr {
                    if rest.is_empty() {
                        out.push(el);
                    } else {
                        elements(el, rest, out);
                    }
                }
            }
        }
        _ => {
            if let Some(arr) = at(v, path).and_then(J::as_array) {
                out.extend(arr.iter());
            }
        }
    }
}

/// A scalar as the text a `where` condition compares with.
fn scalar_text(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl Pick {
    /// Compile `{ pick, where, value }` from sources.yaml; `Err` says what is wrong.
    pub fn compile(m: &serde_json::Map<String, J>) -> Result<Pick, String> {
        let text = |k: &str| -> Result<String, String> {
            match m.get(k) {
                Some(J::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(_) => Err(format!("`{k}` takes a JSON pointer or key")),
                None => Err(format!("`pick` needs `{k}`")),
            }
        };
        let array = text("pick")?;
        let value = text("value")?;
        let mut filter = Vec::new();
        match m.get("where") {
            None => {}
            Some(J::Object(w)) => {
                for (k, v) in w {
                    match scalar_text(v) {
                        Some(t) => filter.push((k.clone(), t)),
                        None => {
                            return Err(format!(
                                "`where: {{ {k}: ... }}` takes a string, number or boolean"
                            ));
                        }
                    }
                }
            }
            Some(_) => return Err("`where` maps pointers to the values they must hold".into()),
        }
        if let Some(k) = m
            .keys()
            .find(|k| !matches!(k.as_str(), "pick" | "where" | "value"))
        {
            return Err(format!(
                "unknown key `{k}` in a `pick` selector (pick, where, value)"
            ));
        }
        Ok(Pick {
            array,
            filter,
            value,
        })
    }

    /// The selected value in a record: the `value` of the first element of the array
    /// whose conditions all hold (compared as text). `None` when the array is absent,
    /// no element matches, or the value is absent or `null`.
    pub fn find<'a>(&self, rec: &'a J) -> Option<&'a J> {
        let mut items = Vec::new();
        elements(rec, &self.array, &mut items);
        items
            .into_iter()
            .find(|el| {
                self.filter.iter().all(|(k, want)| {
                    at(el, k).and_then(scalar_text).as_deref() == Some(want.as_str())
                })
            })
            .and_then(|el| at(el, &self.value))
            .filter(|v| !v.is_null())
    }

    /// How the selector is shown in messages: `/arr[/k=v]/value`.
    pub fn shown(&self) -> String {
        let conds: Vec<String> = self
            .filter
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}[{}]{}", self.array, conds.join(","), {
            if self.value.starts_with('/') {
                self.value.clone()
            } else {
                format!("/{}", self.value)
            }
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pick(v: J) -> Result<Pick, String> {
        Pick::compile(v.as_object().unwrap())
    }

    #[test]
    fn selects_the_first_matching_element() {
        let p = pick(json!({
            "pick": "/incident_timestamp_values",
            "where": { "/incident_timestamp/name": "Impact started" },
            "value": "/value/value"
        }))
        .unwrap();
        let rec = json!({ "incident_timestamp_values": [
            { "incident_timestamp": { "name": "Reported" }, "value": { "value": "A" } },
            { "incident_timestamp": { "name": "Impact started" }, "value": { "value": "B" } },
            { "incident_timestamp": { "name": "Impact started" }, "value": { "value": "C" } },
        ]});
        assert_eq!(p.find(&rec), Some(&json!("B")));
        assert_eq!(p.find(&json!({})), None);
        assert_eq!(p.find(&json!({ "incident_timestamp_values": [] })), None);
        // A matching element without a value (or with null) is missing.
        let rec = json!({ "incident_timestamp_values": [
            { "incident_timestamp": { "name": "Impact started" }, "value": null }
        ]});
        assert_eq!(p.find(&rec), None);
        assert_eq!(
            p.shown(),
            "/incident_timestamp_values[/incident_timestamp/name=Impact started]/value/value"
        );
    }

    #[test]
    fn keys_numbers_and_no_condition() {
        let p =
            pick(json!({ "pick": "milestones", "where": { "rank": 2 }, "value": "at" })).unwrap();
        let rec = json!({ "milestones": [ { "rank": 1, "at": "x" }, { "rank": 2, "at": "y" } ] });
        assert_eq!(p.find(&rec), Some(&json!("y")));
        let first = pick(json!({ "pick": "milestones", "value": "at" })).unwrap();
        assert_eq!(first.find(&rec), Some(&json!("x")));
    }

    #[test]
    fn star_walks_nested_arrays() {
        let p = pick(json!({
            "pick": "/lifecycle_phases/*/milestones",
            "where": { "/slug": "mitigated" },
            "value": "/occurred_at"
        }))
        .unwrap();
        let rec = json!({ "lifecycle_phases": [
            { "milestones": [ { "slug": "started", "occurred_at": "a" } ] },
            { "milestones": [ { "slug": "mitigated", "occurred_at": "b" } ] },
        ]});
        assert_eq!(p.find(&rec), Some(&json!("b")));
    }

    #[test]
    fn bad_selectors_are_refused() {
        assert!(pick(json!({ "pick": "/a" })).is_err());
        assert!(pick(json!({ "pick": "/a", "value": "/v", "where": { "/k": [1] } })).is_err());
        assert!(pick(json!({ "pick": "/a", "value": "/v", "wher": {} })).is_err());
        assert!(pick(json!({ "pick": "/a", "value": "/v", "where": "x" })).is_err());
    }
}
