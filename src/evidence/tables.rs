//! The canonical tables and their fields: the vocabulary that catalogs and
//! sources.yaml share. Part of the evidence stage; the catalog validator uses it to
//! reject unknown tables and fields before anything is read.

use serde::Serialize;

/// The type of a canonical field; each export value is read into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Free text or an identifier.
    Text,
    /// `true`/`false` (value mapping turns `yes`, `Y`, `1` into these).
    Bool,
    /// An instant (RFC 3339, or a declared format and zone).
    Time,
    /// A whole number.
    Int,
    /// A list of text values (`;`-separated in CSV, an array in JSON).
    List,
}

/// One canonical field.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    /// Canonical name.
    pub name: &'static str,
    /// Type.
    pub kind: Kind,
    /// For references: the table whose `id` this field holds.
    pub refers_to: Option<&'static str>,
    /// What it means (shown by `evidentia evidence inspect` and in docs).
    pub doc: &'static str,
}

/// One canonical table.
#[derive(Debug, Clone, Copy)]
pub struct TableDef {
    /// Table name.
    pub name: &'static str,
    /// Fields, `id` first.
    pub fields: &'static [FieldDef],
    /// Fields whose instant places a record in the audit period, first present wins.
    /// Empty: the table is not filtered by period.
    pub period_fields: &'static [&'static str],
    /// What a record is.
    pub doc: &'static str,
}

impl TableDef {
    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&'static FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
}

const fn f(name: &'static str, kind: Kind, doc: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind,
        refers_to: None,
        doc,
    }
}

const fn r(name: &'static str, table: &'static str, doc: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind: Kind::Text,
        refers_to: Some(table),
        doc,
    }
}

use Kind::{Bool, Int, List, Text, Time};

/// Every canonical table.
pub static TABLES: &[TableDef] = &[
    TableDef {
        name: "incidents",
        doc: "one security incident or event",
        period_fields: &["declared_at", "detected_at"],
        fields: &[
            f("id", Text, "incident identifier"),
            f("title", Text, "short title"),
            f("description", Text, "what happened"),
            f("severity", Text, "severity as the organisation rates it"),
            f("classification", Text, "security-incident or event"),
            f("status", Text, "current state in the incident tool"),
            f("service", Text, "affected service"),
            f(
                "reported_by",
                Text,
                "who reported it: customer, internal, monitoring, third-party",
            ),
            f(
                "intake_ref",
                Text,
                "support ticket or intake record for a reported incident",
            ),
            f("reported_to", Text, "to whom it was reported"),
            f("detected_at", Time, "when it was detected"),
            f(
                "identified_at",
                Time,
                "when it was identified as reportable (FedRAMP clock start)",
            ),
            f(
                "escalated_at",
                Time,
                "when it was escalated to the security response team",
            ),
            f("declared_at", Time, "when it was declared an incident"),
            f("contained_at", Time, "when containment completed"),
            f("eradicated_at", Time, "when eradication completed"),
            f("recovered_at", Time, "when recovery completed"),
            f("resolved_at", Time, "when it was resolved"),
            f(
                "investigation_completed_at",
                Time,
                "when the investigation closed",
            ),
            f("customer_impacting", Bool, "affected customers"),
            f("data_breach", Bool, "a breach of customer or personal data"),
            f("pii_involved", Bool, "personal data involved"),
            f("data_lost", Bool, "data was lost"),
            f("data_disclosed", Bool, "data was disclosed"),
            f("data_altered", Bool, "data was altered"),
            f("consequences", Text, "consequences of the incident"),
            f("steps_taken", Text, "steps taken to resolve it"),
            f(
                "users_affected",
                Int,
                "approximate number of users affected",
            ),
            f("pain", Int, "FedRAMP PAIN rating 1-5"),
            f(
                "impact_class",
                Text,
                "FedRAMP certification class (a, b, c, d)",
            ),
            r(
                "postmortem_id",
                "postmortems",
                "the incident's postmortem (informational)",
            ),
        ],
    },
    TableDef {
        name: "notifications",
        doc: "one notice sent about an incident",
        period_fields: &["sent_at"],
        fields: &[
            f("id", Text, "notification identifier"),
            r("incident_id", "incidents", "the incident it is about"),
            f(
                "audience",
                Text,
                "customers, regulator, agency, fedramp, cisa, data-subjects, management",
            ),
            f("stage", Text, "initial, update or final"),
            f("channel", Text, "email, status page, portal"),
            f("sent_at", Time, "when it was sent"),
            f("nature", Text, "nature of the breach"),
            f("user_impact", Text, "approximate user impact"),
            f("mitigation", Text, "mitigation steps taken or advised"),
            f("next_steps", Text, "next steps and timelines"),
        ],
    },
    TableDef {
        name: "postmortems",
        doc: "one postmortem (retrospective) of an incident",
        period_fields: &[],
        fields: &[
            f("id", Text, "postmortem identifier"),
            r("incident_id", "incidents", "the incident it reviews"),
            f("status", Text, "draft, in-review, complete"),
            f("completed_at", Time, "when it was completed"),
            f("sequence_of_events", Text, "timeline of events"),
            f("technical_summary", Text, "technical summary"),
            f("actors", Text, "who was involved"),
            f("response_summary", Text, "how the response went"),
            f("takeaways", Text, "lessons learned"),
            f(
                "lapses",
                List,
                "lapse categories: technical, procedural, manual-error, process, communication, unknown-attack-vector",
            ),
        ],
    },
    TableDef {
        name: "findings",
        doc: "one finding or action item from a postmortem",
        period_fields: &[],
        fields: &[
            f("id", Text, "finding identifier"),
            r(
                "postmortem_id",
                "postmortems",
                "the postmortem it came from",
            ),
            f("title", Text, "what must change"),
            f("kind", Text, "bug, change-request, process"),
            f("owner", Text, "who owns it"),
            f("created_at", Time, "when it was filed"),
            f("due_at", Time, "when it is due"),
            f("status", Text, "open, in-progress, closed"),
            f("closed_at", Time, "when it was closed"),
            f("tracking_ref", Text, "ticket in the tracker"),
            f("last_reviewed_at", Time, "when it was last reviewed"),
        ],
    },
    TableDef {
        name: "oncall",
        doc: "one on-call shift",
        period_fields: &[],
        fields: &[
            f("id", Text, "shift identifier"),
            f("team", Text, "rotation or team"),
            f("engineer", Text, "who was on call"),
            f("start_at", Time, "shift start"),
            f("end_at", Time, "shift end"),
        ],
    },
    TableDef {
        name: "exercises",
        doc: "one test of incident response",
        period_fields: &["performed_at"],
        fields: &[
            f("id", Text, "exercise identifier"),
            f("kind", Text, "tabletop, simulation, red-team"),
            f("performed_at", Time, "when it took place"),
            f("scope", Text, "what was tested"),
            f("report_ref", Text, "link to the report"),
        ],
    },
    TableDef {
        name: "documents",
        doc: "one plan, procedure or guide, with its reviews",
        period_fields: &[],
        fields: &[
            f("id", Text, "document identifier"),
            f(
                "kind",
                Text,
                "response-plan, procedure, guide, forensic-procedure",
            ),
            f("title", Text, "title"),
            f("version", Text, "version"),
            f("reviewed_at", Time, "last review"),
            f("approved_by", Text, "approver"),
            f("distributed_to", List, "recipients"),
            f("distributed_at", Time, "when it was distributed"),
        ],
    },
    TableDef {
        name: "training",
        doc: "one training completion",
        period_fields: &["completed_at"],
        fields: &[
            f("id", Text, "completion identifier"),
            r("person_id", "people", "who completed it"),
            f("course", Text, "course"),
            f("completed_at", Time, "when"),
        ],
    },
    TableDef {
        name: "people",
        doc: "one person on the roster",
        period_fields: &[],
        fields: &[
            f("id", Text, "person identifier"),
            f("name", Text, "name"),
            f("role", Text, "role"),
            f("employee", Bool, "an employee (training applies)"),
            f("start_at", Time, "first day"),
            f("end_at", Time, "last day"),
        ],
    },
    TableDef {
        name: "attestations",
        doc: "one signed statement by a person, for controls evidentia cannot test from records",
        period_fields: &[],
        fields: &[
            f("id", Text, "attestation identifier"),
            f("subject", Text, "what is attested (the id a check names)"),
            f("statement", Text, "what the person states"),
            f("attested_by", Text, "who attests"),
            f("attested_at", Time, "when"),
            f("evidence_link", Text, "where the supporting evidence is"),
            f("expires_at", Time, "when the attestation lapses"),
        ],
    },
];

/// A table by name.
pub fn table(name: &str) -> Option<&'static TableDef> {
    TABLES.iter().find(|t| t.name == name)
}

/// Comma-separated table names, for messages.
pub fn table_names() -> String {
    TABLES.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

/// Comma-separated field names of a table, for messages.
pub fn field_names(t: &TableDef) -> String {
    t.fields
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_consistent() {
        for t in TABLES {
            assert_eq!(t.fields.first().map(|f| f.name), Some("id"), "{}", t.name);
            let mut names: Vec<_> = t.fields.iter().map(|f| f.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), t.fields.len(), "duplicate field in {}", t.name);
            for p in t.period_fields {
                assert_eq!(
                    t.field(p).map(|f| f.kind),
                    Some(Kind::Time),
                    "{}.{p}",
                    t.name
                );
            }
            for fd in t.fields {
                if let Some(target) = fd.refers_to {
                    assert!(
                        table(target).is_some(),
                        "{}.{} -> {target}",
                        t.name,
                        fd.name
                    );
                }
            }
        }
    }
}
