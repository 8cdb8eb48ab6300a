#!/usr/bin/env python3
"""Generate controls/checks/fedramp-iec.yaml from the FedRAMP Consolidated Rules.

    python3 tools/gen_fedramp_iec.py [RULES_JSON] [--out FILE] [--effective YYYY-MM-DD]

RULES_JSON defaults to ../shared/realdata/fedramp-consolidated-rules/
fedramp-consolidated-rules.json (the official machine-readable FedRAMP rules, a US
government work). The output is deterministic: the same dataset gives the same bytes
(no clock, sorted keys, the dataset version in the header).

What is generated, from FRR.IEC (Incident Evaluation and Communication):

- For the initial, ongoing and final incident reports (IEC-CSO-IIR, -OIR, -FIR), for
  each certification class (`varies_by_class`: a, b, c, d) and each group of PAIN
  ratings with the same timeframe (`pain_timeframes`), one `deadline` check per
  audience (FedRAMP and the agency customers, the "all affected parties" the rules
  name). The population is the FedRAMP-reportable incidents (identified_at set)
  identified on or after the Rev5 required date (`rev5.effective.date.obtain`,
  midnight America/New_York), of that class (incidents.impact_class) and PAIN
  (incidents.pain). An incident without a PAIN rating counts as PAIN 5 (IEC-CSO-DPR).
  Rules of force SHOULD are `severity: warn`; MUST are `deny`.
- Timeframes: `hours` -> an exact span (`6h`, `0.25h`); `bizdays` -> business days on
  the us-federal calendar (controls/calendars/us-federal.yaml); `days` -> calendar days
  on the America/New_York wall clock; `weeks`/`months`/`years` likewise.
- Clocks: the initial report runs from identified_at. The final report runs from
  resolved_at (the rules: once the incident is resolved and recovery is complete), for
  resolved incidents only. Ongoing reports recur during the incident; the engine
  cannot yet judge a cadence inside each incident's own open window, so the check
  tests the first ongoing report (or the final report, for an incident closed sooner)
  from identified_at within the initial timeframe plus one ongoing interval. When both
  are in the same unit they are added exactly; when they differ (hours + business
  days) the sum is rounded up to whole business days (1 business day per started 24
  hours), which can only be more lenient than the rule, never stricter.
- Two checks on the inputs the clocks depend on: the class is one of the classes in
  the dataset, and a PAIN rating, when given, is one of its ratings.
"""

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_RULES = os.path.join(
    os.path.dirname(ROOT),
    "shared",
    "realdata",
    "fedramp-consolidated-rules",
    "fedramp-consolidated-rules.json",
)
DEFAULT_OUT = os.path.join(ROOT, "controls", "checks", "fedramp-iec.yaml")
FRAMEWORK = os.path.join(ROOT, "controls", "frameworks", "fedramp-rev5.yaml")
BEGIN = "# gen_fedramp_iec: begin"
END = "# gen_fedramp_iec: end"

CALENDAR = "us-federal"
ZONE = "America/New_York"
# Eastern standard time offset at midnight on 1 January (no DST in January).
BOUNDARY_OFFSET = "-05:00"

REPORTS = [
    # (rule id, key in pain_timeframes, short name, stages that answer it)
    ("IEC-CSO-IIR", "iir", "initial", ["initial"]),
    ("IEC-CSO-OIR", "oir", "ongoing", ["update", "final"]),
    ("IEC-CSO-FIR", "fir", "final", ["final"]),
]
AUDIENCES = [("fedramp", "FedRAMP"), ("agency", "the agency customers")]


def fail(msg):
    sys.stderr.write(f"gen_fedramp_iec: {msg}\n")
    sys.exit(2)


def num_text(n):
    """6 -> '6', 0.25 -> '0.25' (no float noise)."""
    if float(n).is_integer():
        return str(int(n))
    return ("%.6f" % n).rstrip("0").rstrip(".")


def span(tf):
    """A timeframe {timeframe_num, timeframe_type} -> (span text, calendar, zone)."""
    n, kind = tf["timeframe_num"], tf["timeframe_type"]
    if kind == "hours":
        return f"{num_text(n)}h", None, None
    whole = {"bizdays": "bd", "days": "d", "weeks": "w", "months": "mo", "years": "y"}
    if kind not in whole:
        fail(f"unknown timeframe_type {kind!r}")
    if not float(n).is_integer():
        fail(f"{n} {kind}: only whole numbers of {kind} are expressible")
    if kind == "bizdays":
        return f"{int(n)}bd", CALENDAR, None
    return f"{int(n)}{whole[kind]}", None, ZONE


def words(tf):
    n, kind = tf["timeframe_num"], tf["timeframe_type"]
    unit = {
        "hours": "hour",
        "bizdays": "business day",
        "days": "calendar day",
        "weeks": "week",
        "months": "month",
        "years": "year",
    }[kind]
    return f"{num_text(n)} {unit}{'' if n == 1 else 's'}"


def first_ongoing(iir, oir):
    """Initial timeframe plus one ongoing interval, as one span (see module doc)."""
    a, b = iir["timeframe_type"], oir["timeframe_type"]
    parts = f"initial {words(iir)} + ongoing {words(oir)}"
    if a == b and a in ("hours", "bizdays"):
        total = iir["timeframe_num"] + oir["timeframe_num"]
        tf = {"timeframe_num": total, "timeframe_type": a}
        return tf, f"{words(tf)} ({parts})", False
    if {a, b} == {"hours", "bizdays"}:
        hours = iir["timeframe_num"] if a == "hours" else oir["timeframe_num"]
        days = iir["timeframe_num"] if a == "bizdays" else oir["timeframe_num"]
        total = int(days) + math.ceil(hours / 24)
        tf = {"timeframe_num": total, "timeframe_type": "bizdays"}
        return tf, f"{words(tf)} ({parts}, rounded up)", True
    fail(f"cannot combine {a} and {b}")
    return None


def warn_before(tf):
    """At-risk window: a quarter of an hour-based limit (at least 5 minutes), or the
    last 8 hours of a day-based one."""
    if tf["timeframe_type"] == "hours":
        minutes = max(5, int(round(tf["timeframe_num"] * 60 / 4)))
        return f"{minutes}m" if minutes < 60 or minutes % 60 else f"{minutes // 60}h"
    return "8h"


def pain_groups(timeframes, key):
    """[(sorted pains, timeframe)] grouping PAIN ratings with equal timeframes."""
    groups = []
    for pain in sorted(timeframes, key=int):
        tf = timeframes[pain][key]
        t = (tf["timeframe_num"], tf["timeframe_type"])
        for g in groups:
            if g[2] == t:
                g[0].append(int(pain))
                break
        else:
            groups.append(([int(pain)], tf, t))
    return [(p, tf) for p, tf, _ in groups]


def pains_text(pains):
    if len(pains) > 1 and pains == list(range(pains[0], pains[-1] + 1)):
        return f"{pains[0]}-{pains[-1]}"
    return "-or-".join(str(p) for p in pains)


def yaml_str(s):
    return json.dumps(s, ensure_ascii=False)


def flow(v):
    """A small value as YAML flow (JSON is valid YAML flow)."""
    return json.dumps(v, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules", nargs="?", default=DEFAULT_RULES)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument(
        "--framework",
        default=FRAMEWORK,
        help="framework file whose IR-6 list (between the gen_fedramp_iec markers) gets the generated ids; 'none' to skip",
    )
    ap.add_argument(
        "--effective",
        help="first identification date under the IEC rules (default: the dataset's Rev5 required date)",
    )
    args = ap.parse_args()

    with open(args.rules, encoding="utf-8") as f:
        data = json.load(f)
    info = data.get("info", {})
    version = info.get("version")
    iec = data.get("FRR", {}).get("IEC")
    if not version or not iec:
        fail(f"{args.rules}: no info.version or FRR.IEC")
    rev5 = iec["info"]["rev5"]["effective"]["date"]
    effective = args.effective or rev5["obtain"]
    boundary = f"{effective}T00:00:00{BOUNDARY_OFFSET}"
    cso = iec["data"]["all"]["CSO"]

    classes = None
    pains_all = None
    checks = []
    for rule_id, key, short, stages in REPORTS:
        rule = cso.get(rule_id)
        if not rule or "varies_by_class" not in rule:
            fail(f"FRR.IEC rule {rule_id} missing or without varies_by_class")
        by_class = rule["varies_by_class"]
        if classes is None:
            classes = sorted(by_class)
        elif sorted(by_class) != classes:
            fail(f"{rule_id}: classes {sorted(by_class)} differ from {classes}")
        iir_rule = cso["IEC-CSO-IIR"]["varies_by_class"]
        for cls in sorted(by_class):
            spec = by_class[cls]
            force = spec.get("force", "MUST")
            tfs = spec["pain_timeframes"]
            pains_here = sorted(int(p) for p in tfs)
            if pains_all is None:
                pains_all = pains_here
            max_pain = max(pains_all)
            for pains, tf in pain_groups(tfs, key):
                note = None
                if key == "oir":
                    # Each PAIN rating of the group may have its own initial timeframe.
                    sub = {}
                    for p in pains:
                        itf = iir_rule[cls]["pain_timeframes"][str(p)]["iir"]
                        total, how, rounded = first_ongoing(itf, tf)
                        k = (total["timeframe_num"], total["timeframe_type"], how)
                        sub.setdefault(k, (total, how, rounded, []))[3].append(p)
                    parts = [(v[3], v[0], v[1], v[2]) for v in sub.values()]
                else:
                    parts = [(pains, tf, words(tf), False)]
                for ps, limit, how, rounded in parts:
                    within, calendar, zone = span(limit)
                    pain_cond = {"pain": ps}
                    if max_pain in ps:
                        pain_cond = {"any": [{"pain": ps}, {"pain": None}]}
                    conds = [
                        {"identified_at": {"set": True, "not_before": boundary}},
                        {"impact_class": cls},
                        pain_cond,
                    ]
                    start = "identified_at"
                    if key == "fir":
                        conds.append({"resolved_at": {"set": True}})
                        start = "resolved_at"
                    for aud, aud_words in AUDIENCES:
                        cid = f"fedramp-iec-{key}-class-{cls}-pain-{pains_text(ps)}-{aud}"
                        pain_words = f"PAIN {pains_text(ps)}" + (
                            " or unrated" if max_pain in ps else ""
                        )
                        if key == "iir":
                            title = f"FedRAMP IEC: initial incident report to {aud_words} within {how} of identification (class {cls.upper()}, {pain_words})"
                        elif key == "oir":
                            title = f"FedRAMP IEC: first ongoing report (or the final report) to {aud_words} within {how} of identification (class {cls.upper()}, {pain_words})"
                        else:
                            title = f"FedRAMP IEC: final incident report to {aud_words} within {how} of resolution (class {cls.upper()}, {pain_words})"
                        stage = stages[0] if len(stages) == 1 else stages
                        end = {
                            "table": "notifications",
                            "via": "incident_id",
                            "where": {"audience": aud, "stage": stage},
                            "pick": "earliest",
                            "field": "sent_at",
                        }
                        desc = f"{rule_id} ({rule['name']}), class {cls.upper()}: {force}. Timeframe from the dataset: {how}."
                        if key == "oir":
                            desc += (
                                " Tests the first ongoing report only (initial timeframe plus one"
                                " ongoing interval from identification); later intervals are not tested."
                            )
                            if rounded:
                                desc += " Mixed units were rounded up to whole business days (more lenient than the rule)."
                        checks.append(
                            {
                                "id": cid,
                                "title": title,
                                "description": desc,
                                "severity": "warn" if force == "SHOULD" else None,
                                "population": {"all": conds},
                                "start": start,
                                "end": end,
                                "within": within,
                                "calendar": calendar,
                                "timezone": zone,
                                "warn_before": warn_before(limit),
                            }
                        )

    out = []
    w = out.append
    w("# yaml-language-server: $schema=../../schemas/catalog.schema.json")
    w("# GENERATED by tools/gen_fedramp_iec.py; do not edit by hand: change the script and")
    w("# run `python3 tools/gen_fedramp_iec.py`.")
    w("#")
    w(f"# Source: FedRAMP Consolidated Rules, dataset version {version} (last updated")
    w(f"# {info.get('last_updated')}), FRR.IEC ({iec['info']['name']}), rules IEC-CSO-IIR,")
    w("# IEC-CSO-OIR and IEC-CSO-FIR: `varies_by_class` x `pain_timeframes`. The rules are a")
    w("# US government work (public domain); repository FedRAMP/rules.")
    w("#")
    w(f"# Regime: incidents identified on or after {boundary}")
    w(f"# (Rev5: required {rev5['obtain']}, optional adoption from {rev5.get('optional_adoption')},")
    w(f"# grace to {rev5.get('grace', {}).get('default')}). Incidents identified earlier are checked")
    w("# against the Incident Communications Procedure in fedramp.yaml.")
    w("# Ongoing reports: only the first one is tested (initial timeframe plus one ongoing")
    w("# interval from identification; hours + business days rounded up to whole business")
    w("# days); the engine cannot yet judge a cadence inside each incident's open window.")
    w("# Inputs: incidents.identified_at (clock start; set = FedRAMP-reportable),")
    w("# incidents.impact_class (certification class, lower case a-d), incidents.pain (PAIN")
    w("# 1-5; unrated counts as 5 under IEC-CSO-DPR), incidents.resolved_at, and")
    w("# notifications with audience fedramp / agency and stage initial / update / final.")
    w("# Business days: calendar us-federal (controls/calendars/us-federal.yaml).")
    w("checks:")
    w("  - id: fedramp-iec-class-recorded")
    w(f"    title: \"FedRAMP IEC: reportable incidents record the certification class ({', '.join(c.upper() for c in classes)})\"")
    w("    description: >-")
    w("      The IEC report clocks depend on the certification class; an incident identified")
    w("      under the IEC rules without a valid class enters none of the class checks, so it")
    w("      is an exception here.")
    w("    rule: allowed")
    w("    population:")
    w("      table: incidents")
    w(f"      where: {flow({'identified_at': {'set': True, 'not_before': boundary}})}")
    w("    field: impact_class")
    w(f"    values: {flow(classes)}")
    w("")
    w("  - id: fedramp-iec-pain-valid")
    w(f"    title: \"FedRAMP IEC: a PAIN rating, when given, is {pains_all[0]}-{pains_all[-1]}\"")
    w("    rule: allowed")
    w("    population:")
    w("      table: incidents")
    w(f"      where: {flow({'all': [{'identified_at': {'set': True, 'not_before': boundary}}, {'pain': {'set': True}}]})}")
    w("    field: pain")
    w(f"    values: {flow(pains_all)}")
    for c in checks:
        w("")
        w(f"  - id: {c['id']}")
        w(f"    title: {yaml_str(c['title'])}")
        w(f"    description: {yaml_str(c['description'])}")
        w("    rule: deadline")
        if c["severity"]:
            w(f"    severity: {c['severity']}")
        w("    population:")
        w("      table: incidents")
        w(f"      where: {flow(c['population'])}")
        w(f"    start: {c['start']}")
        w(f"    end: {flow(c['end'])}")
        w(f"    within: {c['within']}")
        if c["calendar"]:
            w(f"    calendar: {c['calendar']}")
        if c["timezone"]:
            w(f"    timezone: {c['timezone']}")
        w(f"    warn_before: {c['warn_before']}")
    text = "\n".join(out) + "\n"
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    ids = ["fedramp-iec-class-recorded", "fedramp-iec-pain-valid"] + [c["id"] for c in checks]
    if args.framework != "none":
        update_framework(args.framework, ids)
    n = len(checks) + 2
    sys.stderr.write(f"gen_fedramp_iec: wrote {n} checks to {os.path.relpath(args.out, ROOT)} (dataset {version})\n")


def update_framework(path, ids):
    """Rewrite the lines between the markers with one `- id` list item per check,
    indented like the begin marker."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    starts = [i for i, l in enumerate(lines) if l.strip() == BEGIN]
    ends = [i for i, l in enumerate(lines) if l.strip() == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        fail(f"{path}: expected one '{BEGIN}' line followed by one '{END}' line")
    b, e = starts[0], ends[0]
    indent = lines[b][: len(lines[b]) - len(lines[b].lstrip())]
    body = [f"{indent}- {i}" for i in ids]
    lines[b + 1 : e] = body
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
