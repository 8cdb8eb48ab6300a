//! Waivers: management's accepted exceptions, with a reason, an approver, an
//! approval date, an expiry and management's response. Applied after the assessment
//! and before the gate.
//!
//! A waiver covers one record of one check (`check` + `record`), or every exception
//! of one control (`control: framework/ID`). A waived exception keeps its raw
//! verdict beside the waiver. A waiver not yet approved or expired at as-of does not
//! apply and is reported; one that matches nothing is reported as unused; an unknown
//! check or control is an error.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::assess::Assessment;
use crate::catalog::Catalog;
use crate::diag::{Code, Diagnostic, Diags};
use crate::rules::Verdict;
use crate::time::Ts;
use crate::yaml::Doc;

/// A waiver as reported beside the exception it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaiverRef {
    /// Waiver id.
    pub id: String,
    /// Why the exception is accepted.
    pub reason: String,
    /// Who approved it.
    pub approver: String,
    /// When.
    pub approved_at: String,
    /// Until when.
    pub expires_at: String,
    /// Management's response, as the report quotes it.
    pub response: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "$schema")]
    _schema: Option<String>,
    #[serde(default)]
    waivers: Vec<RawWaiver>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    id: String,
    #[serde(default)]
    check: Option<String>,
    #[serde(default)]
    record: Option<String>,
    #[serde(default)]
    control: Option<String>,
    reason: String,
    approver: String,
    approved_at: String,
    expires_at: String,
    response: String,
}

/// What a waiver covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One record of one check.
    Record {
        /// Check id.
        check: String,
        /// Record id.
        record: String,
    },
    /// Every exception of a control: (framework, control).
    Control(String, String),
}

/// A validated waiver.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// What it covers.
    pub target: Target,
    /// Approval instant.
    pub approved_at: Ts,
    /// Expiry instant (end of the day when a date is given).
    pub expires_at: Ts,
    /// As reported.
    pub info: WaiverRef,
    /// Where it is written (line).
    pub line: u64,
}

/// Load a waivers file; problems go to `diags` with file:line:col.
pub fn load(path: &Path, cat: &Catalog, diags: &mut Diags) -> Vec<Waiver> {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error(
                Code::Io,
                &file,
                format!("cannot read waivers: {e}"),
            ));
            return vec![];
        }
    };
    let doc = match Doc::parse(&text) {
        Ok(d) => d,
        Err(e) => {
            diags.push(
                Diagnostic::error(Code::YamlSyntax, &file, e.message).at(e.at.line, e.at.col),
            );
            return vec![];
        }
    };
    let Some(raw) = crate::schema::typed::<RawFile>(&doc, &file, diags) else {
        return vec![];
    };
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, w) in raw.waivers.iter().enumerate() {
        let p = format!("/waivers/{i}");
        let mut err = |rel: &str, code: Code, msg: String| {
            let at = doc.locate(&format!("{p}{rel}"));
            diags.push(Diagnostic::error(code, &file, msg).at(at.line, at.col));
        };
        if !seen.insert(w.id.clone()) {
            err(
                "/id",
                Code::DuplicateId,
                format!("waiver id `{}` is used twice", w.id),
            );
            continue;
        }
        let target = match (&w.check, &w.record, &w.control) {
            (Some(c), Some(r), None) => {
                if cat.check(c).is_none() {
                    err(
                        "/check",
                        Code::UnknownCheck,
                        format!("waiver `{}` names unknown check `{c}`", w.id),
                    );
                    continue;
                }
                Target::Record {
                    check: c.clone(),
                    record: r.clone(),
                }
            }
            (None, None, Some(ctl)) => {
                let Some((f, c)) = ctl.split_once('/') else {
                    err(
                        "/control",
                        Code::BadValue,
                        format!("`{ctl}`: write the control as framework/ID"),
                    );
                    continue;
                };
                let known = cat
                    .frameworks
                    .iter()
                    .any(|x| x.id == f && x.controls.iter().any(|y| y.id == c));
                if !known {
                    err(
                        "/control",
                        Code::UnknownControl,
                        format!("waiver `{}` names unknown control `{ctl}`", w.id),
                    );
                    continue;
                }
                Target::Control(f.to_string(), c.to_string())
            }
            _ => {
                err(
                    "",
                    Code::BadValue,
                    format!(
                        "waiver `{}` needs either `check` and `record`, or `control`",
                        w.id
                    ),
                );
                continue;
            }
        };
        let approved_at = match crate::parse_instant(&w.approved_at) {
            Ok(t) => t,
            Err(m) => {
                err("/approved_at", Code::UnparseableValue, m);
                continue;
            }
        };
        let expires_at = match crate::parse_instant(&w.expires_at) {
            // A date means the whole day.
            Ok(t) if w.expires_at.trim().len() == 10 => {
                Ts(t.0 + 24 * crate::time::NANOS_PER_HOUR - 1)
            }
            Ok(t) => t,
            Err(m) => {
                err("/expires_at", Code::UnparseableValue, m);
                continue;
            }
        };
        out.push(Waiver {
            target,
            approved_at,
            expires_at,
            info: WaiverRef {
                id: w.id.clone(),
                reason: w.reason.clone(),
                approver: w.approver.clone(),
                approved_at: approved_at.to_string(),
                expires_at: expires_at.to_string(),
                response: w.response.clone(),
            },
            line: doc.locate(&p).line,
        });
    }
    out
}

/// Apply waivers to an assessment; returns warnings (expired, not yet approved,
/// unused).
pub fn apply(a: &mut Assessment, waivers: &[Waiver], file: &str) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let as_of = a.as_of;
    for w in waivers {
        let warn = |msg: String| Diagnostic::warning(Code::BadValue, file, msg).at(w.line, 0);
        if w.approved_at > as_of {
            warnings.push(warn(format!(
                "waiver `{}` is approved only on {}, after as-of: not applied",
                w.info.id, w.info.approved_at
            )));
            continue;
        }
        if w.expires_at < as_of {
            warnings.push(warn(format!(
                "waiver `{}` expired on {}: not applied",
                w.info.id, w.info.expires_at
            )));
            continue;
        }
        let mut used = false;
        match &w.target {
            Target::Record { check, record } => {
                for c in a.checks.iter_mut().filter(|c| &c.id == check) {
                    for r in c
                        .records
                        .iter_mut()
                        .filter(|r| r.record_id() == record && r.counts_as_exception)
                    {
                        r.raw_verdict = Some(r.verdict);
                        r.verdict = Verdict::Waived;
                        r.counts_as_exception = false;
                        r.waiver = Some(Box::new(w.info.clone()));
                        c.exceptions_count = c.exceptions_count.saturating_sub(1);
                        c.waived += 1;
                        used = true;
                    }
                }
            }
            Target::Control(f, id) => {
                for c in a
                    .controls
                    .iter_mut()
                    .filter(|c| &c.framework == f && &c.id == id)
                {
                    c.waiver = Some(w.info.clone());
                    used = true;
                }
            }
        }
        if !used {
            warnings.push(warn(format!(
                "waiver `{}` matches no exception: unused",
                w.info.id
            )));
        }
    }
    let checks = a.checks.clone();
    for c in a.controls.iter_mut() {
        c.conclude(&checks);
        if c.waiver.is_some() && c.waived == 0 {
            warnings.push(Diagnostic::warning(
                Code::BadValue,
                file,
                format!(
                    "control waiver for {}/{} covers no exception: unused",
                    c.framework, c.id
                ),
            ));
        }
    }
    warnings
}
