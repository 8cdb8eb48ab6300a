#!/usr/bin/env python3
"""Write the shipped demo evidence in evidence/ (deterministic: no clock, no randomness).

    python3 tools/gen_demo.py            # rewrites the exports in evidence/

The demo is a fictional cloud provider ("Example Cloud Services") over March 2025 to
March 2026, assessed as of 2026-03-31T12:00:00Z for the period 2025-04-01..2026-03-31
(see evidentia.yaml). Each export imitates a real tool, so sources.yaml has real mapping
work to do:

- incidents.csv      incident tracker export: UTF-8 BOM, CRLF, Title Case headers, extra
                     columns, Yes/No booleans, RFC 3339 times in each responder's zone.
- notifications.csv  customer-communications log: RFC 3339 UTC, recipient groups and
                     stages spelled as the comms team writes them.
- postmortems.csv    post-incident review export: multi-line quoted text, completion
                     times as `YYYY-MM-DD HH:MM:SS +hhmm` (a declared timestamp_format),
                     lapse categories `;`-separated.
- findings.csv       action items synced with Jira: local Berlin wall-clock times with no
                     offset (sources.yaml declares the zone), date-only due dates,
                     Jira statuses (`Done` means closed), `Unassigned` for no owner.
- reporting-log.csv  the GRC team's log of formal reports (same template as the comms
                     log, read as more notifications): FedRAMP PMO, agency and CISA
                     reports under the FedRAMP Incident Communications Procedure, and
                     the quarterly security report to the executive team.
- oncall.ndjson      on-call schedule export (PagerDuty-style final schedule, one JSON
                     object per line, nested schedule and user objects): weekly shifts of
                     the primary and secondary security rotations, overrides as split
                     shifts, times in each schedule's zone.
- exercises.csv      GRC register of response exercises: dates as `18 Jun 2025`.
- documents.csv      document register: plans, procedures, runbooks and forensic
                     procedures with date-only review and distribution dates and a
                     `;`-separated distribution list.
- training.csv       LMS completions report: UK `dd/mm/yyyy HH:MM` wall-clock times.
- people.json        HR roster (HRIS API export): nested `employment` object, JSON nulls,
                     employment types mapped to employee true/false.
- attestations.csv   GRC attestations of manual controls: who, when, evidence link,
                     date-only expiry.
- waivers.yaml       management's accepted exceptions (read beside sources.yaml).

Most records pass. The deliberate lapses (each one a realistic mistake) are marked
`# LAPSE` below, and the records that show pending / at-risk / not-evaluable verdicts
are marked `# VERDICT`.
"""

import csv
import io
import json
import os
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "evidence")

UTC = timezone.utc
ZONES = {
    "utc": UTC,
    "lon": ZoneInfo("Europe/London"),
    "ber": ZoneInfo("Europe/Berlin"),
    "nyc": ZoneInfo("America/New_York"),
}
BERLIN = ZONES["ber"]


def utc(s):
    """'2025-05-27 08:14' (UTC) -> aware datetime."""
    return datetime.strptime(s, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def rfc3339(dt, zone):
    """An instant as the responder's tool shows it: Z for UTC, else the local offset."""
    if dt is None:
        return ""
    if zone == "utc":
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.astimezone(ZONES[zone]).isoformat()


PHASES = ["detected", "escalated", "declared", "contained", "eradicated", "recovered", "resolved"]


def timeline(detected, steps, zone, override=None):
    """Cumulative phase times: `steps` are minutes after the previous present phase
    (None: phase not recorded). `override` sets a phase to a literal export value."""
    t = utc(detected)
    out = {"detected": t}
    for name, mins in zip(PHASES[1:], steps):
        if mins is None:
            out[name] = None
            continue
        t = t + timedelta(minutes=mins)
        out[name] = t
    cells = {k: rfc3339(v, zone) for k, v in out.items()}
    cells.update(override or {})
    return out, cells


H = 60  # minutes per hour
D = 24 * H

# ---------------------------------------------------------------------------------
# Incidents. key, title, severity, type, status, service, reported by, zone,
# detected (UTC), steps (escalated, declared, contained, eradicated, recovered,
# resolved; minutes after the previous), customer impact, personal data breach,
# lead, summary, overrides.
# ---------------------------------------------------------------------------------
SEC = "Security Incident"
EVT = "Security Event"

INCIDENTS = [
    # --- before the audit period (counted as out of period) ---
    dict(key="stuffing", title="Credential stuffing against customer console logins",
         sev="SEV2", type=SEC, status="Closed", service="Customer Console", by="Monitoring",
         zone="utc", det="2025-03-04 06:12", steps=[20, 35, 5 * H, 20 * H, 3 * H, 6 * H],
         ci="Yes", breach="No", lead="a.khan",
         summary="2,300 accounts saw login attempts from a residential proxy network; 41 accounts with reused passwords were accessed before forced resets."),
    dict(key="bucket-acl", title="Bucket ACL change exposed support attachments",
         sev="SEV1", type=SEC, status="Closed", service="Object Storage", by="Third party",
         zone="lon", det="2025-03-18 10:02", steps=[18, 22, 95, 9 * H, 2 * H, 2 * D],
         ci="Yes", breach="Yes", lead="m.osei",
         summary="A Terraform change made the support-attachments bucket publicly listable for 26 hours; a researcher reported it."),
    dict(key="scan-mar", title="Port scan from a known research scanner range",
         sev="SEV4", type=EVT, status="Closed", service="Load Balancer", by="Monitoring",
         zone="utc", det="2025-03-26 02:47", steps=[None, None, None, None, None, 50],
         ci="No", breach="No", lead="",
         summary="Scanner traffic matched the published Censys ranges; no action."),
    # Declared 22:10 New York time on 31 March = 02:10 UTC on 1 April: inside the period.
    dict(key="oauth-consent", title="Suspicious OAuth app consent in the corporate tenant",
         sev="SEV3", type=SEC, status="Closed", service="Identity (IAM)", by="Internal",
         zone="nyc", det="2025-04-01 01:31", steps=[16, 23, 70, 5 * H, 60, 2 * H],
         ci="No", breach="No", lead="j.rivera",
         summary='An employee granted "Mail.Read" to an unverified app named "DocuSign Secure"; consent revoked, tokens invalidated.'),

    # --- in the period ---
    dict(key="phish-finance", title="Phishing campaign targeting the finance team, blocked at the gateway",
         sev="SEV4", type=EVT, status="Closed", service="Email Relay", by="Monitoring",
         zone="lon", det="2025-04-09 08:40", steps=[35, None, None, None, None, 3 * H],
         ci="No", breach="No", lead="",
         summary="37 messages quarantined; no clicks recorded."),
    dict(key="bug-bounty-xss", title="Stored XSS in console project names (bug bounty)",
         sev="SEV3", type=SEC, status="Closed", service="Customer Console", by="Third party",
         zone="utc", det="2025-04-15 13:05", steps=[45, 30, 4 * H, 26 * H, 60, 3 * H],
         ci="No", breach="No", lead="a.khan",
         summary="HackerOne report; no evidence of exploitation in 90 days of logs."),
    dict(key="leaked-key", title="API key committed to a public repository",
         sev="SEV3", type=SEC, status="Closed", service="Secrets Manager", by="Third party",
         zone="ber", det="2025-04-22 07:55", steps=[12, 18, 25, 3 * H, 30, 2 * H],
         ci="No", breach="No", lead="l.weber",
         summary="GitHub secret scanning partner alert; key rotated 55 minutes after detection, no use from unknown IPs."),
    dict(key="dns-ddos", title="DDoS against DNS resolvers degraded resolution in eu-west",
         sev="SEV2", type=SEC, status="Closed", service="DNS", by="Monitoring",
         zone="lon", det="2025-05-06 17:21", steps=[9, 14, 2 * H, 6 * H, 90, 4 * H],
         ci="Yes", breach="No", lead="m.osei",
         summary="Reflection attack peaking at 380 Gbit/s; 11% of queries timed out for 2 hours until scrubbing took over."),
    dict(key="cdn-fp", title="Vulnerability scanner false positive on CDN edge",
         sev="SEV4", type=EVT, status="Closed", service="CDN", by="Monitoring",
         zone="utc", det="2025-05-14 11:30", steps=[None, None, None, None, None, 2 * H],
         ci="No", breach="No", lead="",
         summary="Banner version string triggered a CVE signature; edge was already patched."),
    dict(key="pg-metadata", title="Cross-tenant metadata leak in the Managed Postgres console",  # breach, on time
         sev="SEV1", type=SEC, status="Closed", service="Managed Postgres", by="Customer",
         zone="lon", det="2025-05-27 08:14", steps=[22, 31, 3 * H, 20 * H, 2 * H, 3 * D],
         ci="Yes", breach="Yes", lead="m.osei",
         summary="A caching bug showed other tenants' database names and owner e-mail addresses on the instance list page for 47 minutes."),
    dict(key="bastion-bf", title="Brute-force attempts on bastion hosts",
         sev="SEV3", type=EVT, status="Closed", service="Compute", by="Monitoring",
         zone="utc", det="2025-06-03 03:12", steps=[40, None, None, None, None, 5 * H],
         ci="No", breach="No", lead="",
         summary="Key-only SSH; fail2ban blocked 1,900 source IPs. No successful logins."),
    dict(key="ssrf-importer", title="SSRF in image importer reached the compute metadata service",
         sev="SEV2", type=SEC, status="Closed", service="Compute", by="Internal",
         zone="nyc", det="2025-06-09 14:05", steps=[25, 35, 2 * H, 2 * D, 3 * H, D],
         ci="Yes", breach="No", lead="j.rivera",
         summary="Importer followed redirects to 169.254.169.254; imports paused for 5 hours while a fix shipped. No credentials were exposed (IMDSv2 required a token)."),
    # LAPSE lifecycle-order: IT declared before escalating to security.
    dict(key="laptop-malware", title="Malware on an engineer laptop quarantined by EDR",
         sev="SEV3", type=SEC, status="Closed", service="Corporate IT", by="Monitoring",
         zone="ber", det="2025-06-17 07:20", steps=[None, 20, 40, 6 * H, 60, 3 * H],
         ci="No", breach="No", lead="l.weber",
         summary="IT on-call declared the incident and re-imaged the laptop; the security team was only paged 85 minutes later.",
         escalated_after_declared=85),
    dict(key="ci-runner-token", title="Compromised CI runner token used to read build artifacts",
         sev="SEV2", type=SEC, status="Closed", service="Kubernetes Engine", by="Monitoring",
         zone="utc", det="2025-06-25 21:48", steps=[14, 26, 2 * H, 10 * H, 2 * H, 2 * D],
         ci="No", breach="No", lead="a.khan",
         summary="A token leaked through a verbose build log was used from a VPS to list artifacts; no production secrets were in them."),
    dict(key="portal-idor", title="Support portal attachment links guessable (IDOR)",  # breach, on time
         sev="SEV2", type=SEC, status="Closed", service="Support Portal", by="Customer",
         zone="nyc", det="2025-07-08 10:33", steps=[35, 50, 4 * H, D, 3 * H, 2 * D],
         ci="Yes", breach="Yes", lead="j.rivera",
         summary="Sequential attachment ids let a logged-in customer download 12 attachments belonging to 3 other customers."),
    dict(key="impossible-travel", title="Impossible-travel alert for an admin account (VPN)",
         sev="SEV4", type=EVT, status="Closed", service="Identity (IAM)", by="Monitoring",
         zone="lon", det="2025-07-15 12:02", steps=[25, None, None, None, None, 60],
         ci="No", breach="No", lead="",
         summary="Admin connected through the corporate VPN exit in Frankfurt; benign."),
    # LAPSE postmortem-required: customer-impacting, resolved, no postmortem at all.
    dict(key="signed-urls", title="Object Storage signed URLs valid beyond their expiry",
         sev="SEV2", type=SEC, status="Closed", service="Object Storage", by="Customer",
         zone="utc", det="2025-07-29 15:10", steps=[30, 45, 5 * H, 3 * D, 2 * H, 2 * D],
         ci="Yes", breach="No", lead="m.osei",
         summary="Clock skew on two signing nodes extended URL validity by up to 6 hours; customers relying on short expiry were exposed to link reuse."),
    dict(key="console-botnet", title="Spike in failed logins from a botnet, rate-limited",
         sev="SEV3", type=EVT, status="Closed", service="Customer Console", by="Monitoring",
         zone="utc", det="2025-08-05 19:40", steps=[20, None, None, None, None, 4 * H],
         ci="No", breach="No", lead="",
         summary="WAF rate limits held; no successful logins from the botnet ranges."),
    # LAPSE customer-notice-72h: customers notified 91 hours after declaration.
    dict(key="billing-export", title="Billing export job wrote invoices to the wrong tenant",
         sev="SEV1", type=SEC, status="Closed", service="Billing", by="Customer",
         zone="lon", det="2025-08-12 12:55", steps=[25, 30, 2 * H, 2 * D, 4 * H, 3 * D],
         ci="Yes", breach="Yes", lead="m.osei",
         summary="A retry after a partial failure reused a stale tenant mapping; 214 invoice PDFs (names, addresses, amounts) landed in 9 other tenants' export buckets."),
    dict(key="spam-abuse", title="Customer instances abused to send outbound spam",
         sev="SEV3", type=SEC, status="Closed", service="Compute", by="Third party",
         zone="nyc", det="2025-08-19 09:10", steps=[50, 40, 3 * H, D, 2 * H, D],
         ci="No", breach="No", lead="j.rivera",
         summary="Spamhaus listing of two /28 ranges; 14 free-tier accounts suspended."),
    dict(key="insider-copy", title="Employee copied source code to a personal cloud drive",
         sev="SEV3", type=SEC, status="Closed", service="Corporate IT", by="Monitoring",
         zone="ber", det="2025-08-26 14:45", steps=[30, 2 * H, 4 * H, D, 60, 5 * D],
         ci="No", breach="No", lead="l.weber",
         summary="DLP flagged an upload of 3 repositories by a departing employee; files deleted under supervision, HR and legal involved."),
    dict(key="axfr", title="DNS zone transfer attempt against authoritative servers",
         sev="SEV4", type=EVT, status="Closed", service="DNS", by="Monitoring",
         zone="utc", det="2025-09-02 04:18", steps=[None, None, None, None, None, 30],
         ci="No", breach="No", lead="",
         summary="AXFR refused as configured."),
    # LAPSE lifecycle-order: containment typed as 3 September, ten days before detection.
    dict(key="k8s-api", title="Staging Kubernetes API server exposed without authentication",
         sev="SEV2", type=SEC, status="Closed", service="Kubernetes Engine", by="Third party",
         zone="ber", det="2025-09-13 08:25", steps=[20, 25, 50, 6 * H, 2 * H, D],
         ci="No", breach="No", lead="l.weber",
         summary="Anonymous auth left enabled on a staging cluster; a researcher listed namespaces. No production access.",
         override={"contained": "2025-09-03T11:00:00+02:00"}),
    dict(key="debug-tokens", title="Debug logging captured customer session tokens",  # breach, on time
         sev="SEV2", type=SEC, status="Closed", service="Logging", by="Internal",
         zone="utc", det="2025-09-23 10:40", steps=[15, 25, 90, 2 * D, 3 * H, 4 * D],
         ci="Yes", breach="Yes", lead="a.khan",
         summary="A debug flag shipped to production logged session cookies for 6 hours; 1,140 sessions revoked, logs purged from the pipeline and the archive."),
    dict(key="build-escape", title="Container escape proof of concept in the shared build cluster",
         sev="SEV3", type=SEC, status="Closed", service="Kubernetes Engine", by="Internal",
         zone="utc", det="2025-09-30 16:00", steps=[30, 30, 3 * H, 2 * D, 2 * H, D],
         ci="No", breach="No", lead="a.khan",
         summary="Red team escaped a build pod via a writable hostPath; cluster isolated, runtime hardened."),
    dict(key="tor-console", title="Tor exit node traffic to the customer console",
         sev="SEV4", type=EVT, status="Closed", service="Customer Console", by="Monitoring",
         zone="utc", det="2025-10-01 22:15", steps=[None, None, None, None, None, 45],
         ci="No", breach="No", lead="",
         summary="Expected traffic pattern; no action."),
    dict(key="vpn-phish", title="Phished employee credentials used against the VPN (blocked by MFA)",
         sev="SEV3", type=SEC, status="Closed", service="Corporate IT", by="Monitoring",
         zone="ber", det="2025-10-14 09:05", steps=[15, 20, 35, 4 * H, 30, 2 * H],
         ci="No", breach="No", lead="l.weber",
         summary="Password reset, sessions revoked; MFA push fatigue attempt was declined."),
    dict(key="partner-logs", title="Load balancer logs with client IPs shared with the wrong partner",  # breach, on time
         sev="SEV2", type=SEC, status="Closed", service="Load Balancer", by="Third party",
         zone="lon", det="2025-10-21 13:20", steps=[40, 60, 3 * H, 2 * D, 2 * H, 3 * D],
         ci="Yes", breach="Yes", lead="m.osei",
         summary="A support engineer attached the wrong log bundle to a partner ticket; the partner confirmed deletion."),
    # LAPSE postmortem-lapse-categories: "third-party" is not an agreed category.
    dict(key="cdn-poison", title="CDN cache poisoning served stale authenticated pages",
         sev="SEV2", type=SEC, status="Closed", service="CDN", by="Customer",
         zone="utc", det="2025-10-30 18:05", steps=[20, 25, 2 * H, D, 2 * H, 2 * D],
         ci="Yes", breach="No", lead="a.khan",
         summary="The CDN provider ignored Vary: Cookie after a configuration push; some customers saw cached dashboards (no data of other tenants)."),
    dict(key="crypto-mining", title="Cryptomining attempt on free-tier compute blocked",
         sev="SEV3", type=EVT, status="Closed", service="Compute", by="Monitoring",
         zone="nyc", det="2025-11-04 02:40", steps=[30, None, None, None, None, 3 * H],
         ci="No", breach="No", lead="",
         summary="Heuristics stopped XMRig within 4 minutes; account closed."),
    dict(key="reset-emails", title="Password-reset e-mails misrouted to a stale alias",  # breach, on time
         sev="SEV2", type=SEC, status="Closed", service="Email Relay", by="Customer",
         zone="lon", det="2025-11-12 09:50", steps=[25, 40, 2 * H, D, 60, 2 * D],
         ci="Yes", breach="Yes", lead="m.osei",
         summary="A relay rule sent 63 reset e-mails for one enterprise domain to a former employee's alias at that customer."),
    # LAPSE postmortem-required: customer-impacting, resolved in November, postmortem still a draft.
    dict(key="session-fixation", title="Session fixation in the customer console",
         sev="SEV2", type=SEC, status="Closed", service="Customer Console", by="Third party",
         zone="utc", det="2025-11-19 11:25", steps=[35, 40, 4 * H, 2 * D, 2 * H, 3 * D],
         ci="Yes", breach="No", lead="a.khan",
         summary="Session id not rotated at login; forced re-login for all console users during the fix."),
    # LAPSE classification-recorded: "Near Miss" is not a classification.
    dict(key="admin-new-device", title="Admin console login from a new device",
         sev="SEV4", type="Near Miss", status="Closed", service="Customer Console", by="Monitoring",
         zone="ber", det="2025-11-27 16:10", steps=[20, None, None, None, None, 60],
         ci="No", breach="No", lead="",
         summary="Engineer's replacement laptop; confirmed by phone."),
    # LAPSE escalation + lifecycle-complete: handled by the IAM team, never escalated.
    dict(key="leaver-access", title="Privileged access not revoked for a leaver for 30 days",
         sev="SEV3", type=SEC, status="Closed", service="Identity (IAM)", by="Internal",
         zone="lon", det="2025-12-03 10:00", steps=[None, 60, 2 * H, D, 60, 2 * D],
         ci="No", breach="No", lead="p.nowak",
         summary="Quarterly access review found an active admin role for a leaver; no logins after the leaving date."),
    # Breach notified exactly 72 hours after declaration: on time.
    dict(key="pg-backups", title="Managed Postgres backups readable by another project",
         sev="SEV1", type=SEC, status="Closed", service="Managed Postgres", by="Internal",
         zone="nyc", det="2025-12-09 15:55", steps=[20, 30, 3 * H, 2 * D, 5 * H, 4 * D],
         ci="Yes", breach="Yes", lead="j.rivera",
         summary="An IAM policy template granted backup read to a shared service account; access logs show 2 foreign reads of one customer's backup."),
    dict(key="phish-domain", title="Phishing domain impersonating the console",
         sev="SEV4", type=EVT, status="Closed", service="Customer Console", by="Third party",
         zone="utc", det="2025-12-16 08:30", steps=[None, None, None, None, None, 2 * D],
         ci="No", breach="No", lead="",
         summary='Takedown requested for "examp1e-cloud-login.com"; completed by the registrar in 41 hours.'),
    dict(key="secrets-audit-gap", title="Secrets Manager audit logs missing for 6 hours",
         sev="SEV2", type=SEC, status="Closed", service="Secrets Manager", by="Monitoring",
         zone="ber", det="2025-12-22 06:40", steps=[15, 20, 90, 5 * H, 2 * H, D],
         ci="Yes", breach="No", lead="l.weber",
         summary="A log shipper crash dropped audit events; customers' SIEM exports had a gap. Events were replayed from the WAL."),
    # LAPSE lifecycle-complete: eradication never recorded.
    dict(key="ransomware-vm", title="Ransomware detonation on an isolated test VM",
         sev="SEV3", type=SEC, status="Closed", service="Compute", by="Monitoring",
         zone="utc", det="2026-01-07 13:15", steps=[10, 15, 30, None, 4 * H, D],
         ci="No", breach="No", lead="a.khan",
         summary="Malware analysis sandbox escaped its network policy; VM destroyed and rebuilt."),
    # LAPSE customer-notice-72h: regulator notified, affected customers never were.
    dict(key="agent-export", title="Support agent exported a customer contact list to personal e-mail",
         sev="SEV2", type=SEC, status="Closed", service="Support Portal", by="Monitoring",
         zone="lon", det="2026-01-14 15:30", steps=[30, 45, 2 * H, 2 * D, 60, 14 * D],
         ci="Yes", breach="Yes", lead="p.nowak",
         summary="DLP alert on an export of 3,900 contacts of 27 customers; the mailbox was wiped with the agent's cooperation."),
    # VERDICT classification-recorded not-evaluable: type left blank.
    dict(key="waf-burst", title="WAF alert burst on /api/v2/export",
         sev="SEV4", type="", status="Closed", service="Load Balancer", by="Monitoring",
         zone="utc", det="2026-01-21 03:05", steps=[None, None, None, None, None, 90],
         ci="No", breach="No", lead="",
         summary="Rule 942100 fired on a customer's legitimate SQL-like query parameters; rule tuned."),
    dict(key="trust-policy", title="IAM role trust policy allowed cross-account assume",
         sev="SEV2", type=SEC, status="Closed", service="Identity (IAM)", by="Internal",
         zone="nyc", det="2026-01-28 11:20", steps=[20, 30, 2 * H, D, 2 * H, 2 * D],
         ci="Yes", breach="No", lead="j.rivera",
         summary="A wildcard principal in a managed role template let any account assume it; no foreign assumptions found in CloudTrail-equivalent logs."),
    dict(key="sms-phish", title="Credential phishing by SMS targeting staff",
         sev="SEV4", type=EVT, status="Closed", service="Corporate IT", by="Internal",
         zone="ber", det="2026-02-02 10:10", steps=[40, None, None, None, None, 5 * H],
         ci="No", breach="No", lead="",
         summary="Warning sent to staff; no credentials entered."),
    dict(key="scan-feb", title="Port scan against the SFTP endpoint",
         sev="SEV4", type=EVT, status="Closed", service="Object Storage", by="Monitoring",
         zone="utc", det="2026-02-04 23:50", steps=[None, None, None, None, None, 30],
         ci="No", breach="No", lead="",
         summary="Blocked at the edge."),
    # VERDICT customer-notice-72h not-evaluable: declaration time never recorded.
    # LAPSE lifecycle-complete: declared_at missing.
    dict(key="analytics-bucket", title="Analytics export left in a misconfigured bucket",
         sev="SEV2", type=SEC, status="Closed", service="Object Storage", by="Third party",
         zone="lon", det="2026-02-10 09:15", steps=[25, 40, 2 * H, D, 60, 8 * D],
         ci="Yes", breach="Yes", lead="m.osei",
         summary="A weekly usage export with customer e-mail addresses was readable via a public URL for 5 days.",
         override={"declared": "N/A"}),
    dict(key="vuln-image", title="Vulnerable container image deployed to production (RCE), no exploitation",
         sev="SEV3", type=SEC, status="Closed", service="Kubernetes Engine", by="Monitoring",
         zone="utc", det="2026-02-17 07:45", steps=[20, 25, 2 * H, D, 2 * H, D],
         ci="No", breach="No", lead="a.khan",
         summary="Admission control was in audit mode; image rolled back, policy enforced."),
    # VERDICT postmortem-required at-risk: resolved 3 March, postmortem in review.
    dict(key="dns-hijack", title="DNS hijack of a marketing subdomain",
         sev="SEV2", type=SEC, status="Closed", service="DNS", by="Customer",
         zone="utc", det="2026-02-25 14:10", steps=[20, 20, 3 * H, 2 * D, 2 * H, 93 * H + 50],
         ci="Yes", breach="No", lead="a.khan",
         summary='A dangling CNAME to a deleted CDN distribution was claimed by a third party and served a fake "login" page.'),
    dict(key="sftp-bf", title="Brute-force on the SFTP endpoint",
         sev="SEV4", type=EVT, status="Closed", service="Object Storage", by="Monitoring",
         zone="ber", det="2026-03-05 05:30", steps=[None, None, None, None, None, 60],
         ci="No", breach="No", lead="",
         summary="Password logins disabled for SFTP since 2024; attempts failed."),
    # VERDICT postmortem-required pending: resolved 18 March, postmortem a draft.
    dict(key="rate-limit-bypass", title="API rate-limiter bypass exposed tenant usage metrics",
         sev="SEV2", type=SEC, status="Resolved", service="Load Balancer", by="Customer",
         zone="nyc", det="2026-03-10 13:40", steps=[25, 35, 3 * H, 2 * D, 2 * H, 5 * D],
         ci="Yes", breach="No", lead="j.rivera",
         summary="Header spoofing let a client see aggregate request counts of neighbouring tenants."),
    dict(key="stolen-laptop", title="Stolen laptop (full-disk encrypted)",
         sev="SEV3", type=SEC, status="Resolved", service="Corporate IT", by="Internal",
         zone="lon", det="2026-03-16 08:05", steps=[25, 30, 60, 2 * H, 30, D],
         ci="No", breach="No", lead="p.nowak",
         summary="Device wiped remotely at next check-in; FileVault confirmed."),
    dict(key="backup-traffic", title="Anomalous outbound traffic from a backup host",
         sev="SEV4", type=EVT, status="Closed", service="Compute", by="Monitoring",
         zone="utc", det="2026-03-24 01:20", steps=[30, None, None, None, None, 2 * H],
         ci="No", breach="No", lead="",
         summary="New offsite backup target; change ticket found."),
    # VERDICT customer-notice-72h at-risk: declared 28 March 20:15 UTC, no customer notice yet.
    dict(key="search-index", title="Customer data exposed through a misconfigured search index",
         sev="SEV1", type=SEC, status="Investigating", service="Managed Search", by="Third party",
         zone="utc", det="2026-03-28 19:20", steps=[25, 30, 4 * H, None, None, None],
         ci="Yes", breach="Yes", lead="a.khan",
         summary="A researcher found an open search endpoint with support-ticket text; scope of affected customers still being established."),
    # VERDICT customer-notice-72h pending: declared 30 March 09:40 UTC.
    dict(key="leaked-access-key", title="Unauthorized access to a tenant bucket with a leaked access key",
         sev="SEV2", type=SEC, status="Monitoring", service="Object Storage", by="Customer",
         zone="ber", det="2026-03-30 08:50", steps=[20, 30, 2 * H, D, None, None],
         ci="Yes", breach="Yes", lead="l.weber",
         summary="The customer's key leaked from their CI; our logs show reads of 2 other tenants' public-read objects by the same key holder. Investigating whether tenant isolation was bypassed."),

    # --- added to the tracker export after the records above (ids continue) ---
    # LAPSE reported-by-recorded: "Pentest" was added to the tracker's picklist; the agreed
    # sources are customer, internal, monitoring and third party (a pentest firm is a third party).
    dict(key="pentest-privesc", title="Privilege escalation in the support admin tool (annual penetration test)",
         sev="SEV3", type=SEC, status="Closed", service="Support Portal", by="Pentest",
         zone="lon", det="2025-07-22 09:30", steps=[40, 30, 3 * H, 2 * D, 2 * H, D],
         ci="No", breach="No", lead="p.nowak",
         summary="The pentest firm showed that a support agent could grant itself the admin role through an unvalidated API parameter; no misuse in 12 months of audit logs."),
]


def build_incidents():
    rows = []
    times = {}
    for n, inc in enumerate(INCIDENTS):
        inc["id"] = f"INC-{3001 + n}"
        t, cells = timeline(inc["det"], inc["steps"], inc["zone"], inc.get("override"))
        if "escalated_after_declared" in inc:
            t["escalated"] = t["declared"] + timedelta(minutes=inc["escalated_after_declared"])
            cells["escalated"] = rfc3339(t["escalated"], inc["zone"])
        if "declared" in (inc.get("override") or {}):
            t["declared"] = None
        times[inc["key"]] = t
        inc["t"] = t
    return times


TIMES = build_incidents()
BY_KEY = {i["key"]: i for i in INCIDENTS}


# ---------------------------------------------------------------------------------
# Incident fields the tracker gained later (custom fields, appended as columns).
# ---------------------------------------------------------------------------------
# Support ticket a customer-reported incident came in through (Zendesk).
INTAKE = {
    "pg-metadata": "ZD-118204",
    "portal-idor": "ZD-121377",
    "signed-urls": "ZD-124950",
    "billing-export": "ZD-126611",
    "cdn-poison": "ZD-134802",
    "reset-emails": "ZD-136015",
    # LAPSE customer-reported-intake: reported by a customer on social media; nobody
    # opened a support ticket, so the intake cannot be traced.
    "dns-hijack": "",
    "rate-limit-bypass": "ZD-146730",
    "leaked-access-key": "ZD-147902",
}

# To whom the report was made, by source (the tracker fills it from the intake form).
REPORTED_TO = {
    "Customer": "Customer Support (Zendesk), escalated to the security on-call",
    "Monitoring": "Security on-call (PagerDuty)",
    "Internal": "Security on-call (#security-help)",
    "Third party": "security@example-cloud.com (security on-call)",
    "Pentest": "security@example-cloud.com (security on-call)",
}

# Personal data involved without a breach of it.
PII_NO_BREACH = {"stuffing", "stolen-laptop"}

# The breach record (ISO/IEC 27018): consequences, steps taken, whether data was lost,
# disclosed or altered, and when the investigation closed (days after resolution;
# None: still open). Every incident involving personal data has one.
RECORD = {
    "stuffing": dict(cons="41 customer accounts accessed by an attacker; no changes made in them.",
                     steps="Proxy ASN blocked; forced password reset and session revocation for 41 accounts.",
                     lost="No", disclosed="Yes", altered="No", closed=9),
    "bucket-acl": dict(cons="Support attachments of 58 customers publicly listable for 26 hours.",
                       steps="Bucket made private; access logs reviewed; module versions pinned.",
                       lost="No", disclosed="Yes", altered="No", closed=12),
    "pg-metadata": dict(cons="Database names and owner e-mail addresses of 19 tenants visible to other tenants for 47 minutes.",
                        steps="Console cache disabled; cache key fixed; affected customers and the regulator notified.",
                        lost="No", disclosed="Yes", altered="No", closed=10),
    "portal-idor": dict(cons="12 attachments of 3 customers downloaded by another customer.",
                        steps="Downloads disabled; ownership check added; recipient confirmed deletion.",
                        lost="No", disclosed="Yes", altered="No", closed=11),
    "billing-export": dict(cons="214 invoices (names, addresses, amounts) of 31 customers copied to 9 other tenants.",
                           steps="Export job stopped; misplaced files deleted with the receiving customers' confirmation.",
                           lost="No", disclosed="Yes", altered="No", closed=13),
    "debug-tokens": dict(cons="Session cookies of 1,140 sessions written to internal logs for 6 hours; no use found.",
                         steps="Flag reverted; sessions revoked; logs purged from pipeline and archive.",
                         lost="No", disclosed="Yes", altered="No", closed=12),
    "partner-logs": dict(cons="About 52,000 end-user IP addresses of one customer sent to a partner.",
                         steps="Partner deleted the bundle and confirmed it in writing.",
                         lost="No", disclosed="Yes", altered="No", closed=10),
    "reset-emails": dict(cons="63 password-reset e-mails of one enterprise domain delivered to a former employee's alias.",
                         steps="Relay rule removed; outstanding reset links invalidated.",
                         lost="No", disclosed="Yes", altered="No", closed=9),
    "pg-backups": dict(cons="One customer's backup read twice by a shared internal service account.",
                       steps="Policy template reverted; cached copies deleted; customer and regulator notified.",
                       lost="No", disclosed="Yes", altered="No", closed=14),
    # LAPSE breach-record-complete: the consequences were never written into the record.
    "agent-export": dict(cons="",
                         steps="Mailbox wiped with the agent's cooperation; export feature restricted.",
                         lost="No", disclosed="Yes", altered="No", closed=10),
    # LAPSE breach-record-complete: whether the export was altered was left "Unknown".
    "analytics-bucket": dict(cons="E-mail addresses of 2,870 users of 14 customers publicly readable for 5 days; 2 downloads.",
                             steps="Bucket made private and the URL revoked; guardrail added.",
                             lost="No", disclosed="Yes", altered="Unknown", closed=9),
    "stolen-laptop": dict(cons="A support laptop holding customer contact exports was stolen; the disk was encrypted.",
                          steps="Device wiped remotely; credentials of the user rotated.",
                          lost="Yes", disclosed="No", altered="No", closed=3),
    "search-index": dict(cons="Support-ticket text of an unknown number of customers readable through an open search endpoint.",
                         steps="Endpoint closed; index snapshot preserved for the investigation.",
                         lost="No", disclosed="Yes", altered="No", closed=None),
    "leaked-access-key": dict(cons="Public-read objects of 2 other tenants read by the holder of a customer's leaked key.",
                              steps="Key revoked; bucket policies of the 3 tenants reviewed.",
                              lost="No", disclosed="Yes", altered="No", closed=None),
}

# FedRAMP-reportable incidents (in the FedRAMP Moderate boundary, "Example Cloud for
# Government"): identified as reportable `ident` minutes after declaration, which starts
# the Incident Communications Procedure clocks. The tracker gained the certification
# class and PAIN fields in January 2026, ahead of the IEC rules (not yet in force).
FEDRAMP = {
    "ssrf-importer": dict(ident=25),
    "ci-runner-token": dict(ident=15),
    "debug-tokens": dict(ident=30),
    "pg-backups": dict(ident=40),
    "trust-policy": dict(ident=60, cls="B", pain=3),
    "search-index": dict(ident=40 * H + 50, cls="C", pain=2),
    "leaked-access-key": dict(ident=25 * H + 30, cls="B", pain=2),
}
for _k, _f in FEDRAMP.items():
    BY_KEY[_k]["t"]["identified"] = TIMES[_k]["declared"] + timedelta(minutes=_f["ident"])


def incident_extras(inc):
    """The appended custom-field cells of one incident."""
    key = inc["key"]
    pii = inc["breach"] == "Yes" or key in PII_NO_BREACH
    rec = RECORD.get(key, {})
    closed = ""
    if rec.get("closed") is not None:
        closed = rfc3339(inc["t"]["resolved"] + timedelta(days=rec["closed"]), inc["zone"])
    fr = FEDRAMP.get(key, {})
    ident = rfc3339(inc["t"]["identified"], inc["zone"]) if fr else ""
    reported_to = REPORTED_TO.get(inc["by"], "") if inc["type"] == SEC else ""
    return [INTAKE.get(key, ""), "Yes" if pii else "No", reported_to, rec.get("cons", ""),
            rec.get("steps", ""), rec.get("lost", ""), rec.get("disclosed", ""),
            rec.get("altered", ""), closed, ident, fr.get("cls", ""),
            str(fr["pain"]) if "pain" in fr else ""]


def office_hours(day, hour, spread, zone=BERLIN):
    """The same local date as `day` in `zone`, at `hour`:00 plus `spread` % 50 minutes:
    people file action items and publish reviews during the working day."""
    local = day.astimezone(zone)
    return local.replace(hour=hour, minute=spread % 50, second=0).astimezone(UTC)


def at(key, phase, minutes=0):
    return TIMES[key][phase] + timedelta(minutes=minutes)


# ---------------------------------------------------------------------------------
# Postmortems (post-incident reviews). Status as the review tool writes it.
# ---------------------------------------------------------------------------------
PIR = []  # filled by pm()


def pm(key, status, done_days, events, technical, response, takeaways, lapses, actors, zone="lon"):
    inc = BY_KEY[key]
    completed = ""
    if status == "Published":
        day = inc["t"]["resolved"] + timedelta(days=done_days)
        dt = office_hours(day, 14, 13 * len(PIR), ZONES[zone]).astimezone(ZONES[zone])
        completed = dt.strftime("%Y-%m-%d %H:%M:%S %z")
    rec = dict(id=f"PIR-{101 + len(PIR)}", key=key, incident=inc["id"], status=status,
               completed=completed, events=events, technical=technical, response=response,
               takeaways=takeaways, lapses=lapses, actors=actors)
    PIR.append(rec)
    inc["pm"] = rec["id"]
    return rec["id"]


def ev(key, *lines):
    """A timeline: (phase or None, minutes offset, text) -> 'HH:MM UTC text' lines."""
    out = []
    for phase, mins, text in lines:
        t = at(key, phase, mins)
        out.append(f"{t.strftime('%Y-%m-%d %H:%M')} UTC  {text}")
    return "\n".join(out)


pm("stuffing", "Published", 9,
   ev("stuffing", ("detected", 0, "Login failure ratio alert fires (14% over 5 min)."),
      ("declared", 0, "Incident declared, SEV2."),
      ("contained", 0, "Proxy ASN blocked at the WAF; forced reset for 41 accounts."),
      ("resolved", 0, "Resolved after 24 h without further attempts.")),
   "Attack used a residential proxy network; accounts without MFA and with reused passwords were accessed.",
   "Detection was fast; the WAF rule took 5 hours because the ASN list had to be approved manually.",
   "Pre-approve emergency WAF blocks; nudge MFA adoption.",
   "procedural", "a.khan (lead), m.osei, support on-call")
pm("bucket-acl", "Published", 12,
   ev("bucket-acl", ("detected", 0, "Researcher e-mail to security@."),
      ("declared", 0, "SEV1 declared; bucket made private."),
      ("recovered", 0, "Access logs reviewed; 3 foreign IPs listed the bucket."),
      ("resolved", 0, "Resolved; customers notified.")),
   "A Terraform module default changed from private to public-read in a minor version upgrade.",
   "Containment in 95 minutes; notification in 30 hours.",
   "Pin module versions; policy-as-code check for public buckets in CI.",
   "technical;process", "m.osei (lead), storage team, legal")
pm("dns-ddos", "Published", 14,
   ev("dns-ddos", ("detected", 0, "Resolver latency SLO burn alert."),
      ("declared", 0, "SEV2 declared; status page updated."),
      ("contained", 0, "Traffic moved to the scrubbing provider."),
      ("resolved", 0, "Resolved after 4 h stable.")),
   "Open reflectors amplified ~40x; the anycast site in Dublin saturated.",
   "Runbook step to swing traffic was ambiguous, costing about 40 minutes.",
   "Automate the scrubbing swing at 70% link utilisation.",
   "technical;procedural", "m.osei (lead), network on-call, comms")
pm("pg-metadata", "Published", 10,
   ev("pg-metadata", ("detected", 0, "Customer ticket: \"I can see databases that are not mine\"."),
      ("escalated", 0, "Support escalates to security on-call."),
      ("declared", 0, "SEV1 declared."),
      ("contained", 0, "Console cache disabled."),
      ("resolved", 0, "Resolved; 19 tenants confirmed affected.")),
   "The instance list was cached per region instead of per tenant after a refactor; the cache key dropped the tenant id.",
   "Good: containment within 3 hours and notice within a day. Less good: the support macro delayed escalation by 20 minutes.",
   "Tenant id becomes a required part of every cache key type; add a cross-tenant canary account.",
   "technical", "m.osei (lead), database team, support, legal")
pm("ssrf-importer", "Published", 16,
   ev("ssrf-importer", ("detected", 0, "Internal pentest finding reproduced in production."),
      ("declared", 0, "SEV2 declared; imports paused."),
      ("recovered", 0, "Imports re-enabled with the fix."),
      ("resolved", 0, "Resolved.")),
   "The HTTP client followed redirects to link-local addresses.",
   "Customer-facing pause was announced on the status page within 30 minutes.",
   "Egress proxy with deny-list for link-local and RFC 1918 ranges for all fetchers.",
   "technical", "j.rivera (lead), compute team", zone="nyc")
pm("ci-runner-token", "Published", 8,
   ev("ci-runner-token", ("detected", 0, "Anomalous artifact listing from a VPS ASN."),
      ("declared", 0, "SEV2 declared; token revoked."),
      ("resolved", 0, "Resolved.")),
   "Runner printed its registration token in debug output.",
   "Smooth; the token was revoked within 40 minutes.",
   "Mask runner tokens in logs; short-lived OIDC tokens for runners.",
   "technical;manual-error", "a.khan (lead), platform team")
pm("portal-idor", "Published", 11,
   ev("portal-idor", ("detected", 0, "Customer reports seeing another company's attachment."),
      ("declared", 0, "SEV2 declared."),
      ("contained", 0, "Attachment download disabled."),
      ("recovered", 0, "Downloads re-enabled with signed, random ids."),
      ("resolved", 0, "Resolved; 3 customers notified individually.")),
   "Attachment URLs used sequential integer ids and no ownership check.",
   "The affected customers were identified from access logs within 20 hours.",
   "Authorisation checks on every object fetch; add IDOR tests to the API test suite.",
   "technical;process", "j.rivera (lead), support engineering", zone="nyc")
pm("billing-export", "Published", 13,
   ev("billing-export", ("detected", 0, "Customer reports foreign invoices in their export bucket."),
      ("declared", 0, "SEV1 declared."),
      ("contained", 0, "Export job stopped; misplaced files deleted."),
      ("resolved", 0, "Resolved."),
      ("resolved", 2 * D, "Customer notice sent (late, see lapses).")),
   "Retry logic reused a tenant mapping cached before a partial failure.",
   "Legal review of the notice wording took 3 days; nobody owned the 72-hour clock.",
   "Name a notification owner at declaration; pre-approved breach notice templates.",
   "technical;communication;process", "m.osei (lead), billing team, legal, comms")
pm("k8s-api", "Published", 7,
   ev("k8s-api", ("detected", 0, "Researcher report via security.txt."),
      ("declared", 0, "SEV2 declared."),
      ("resolved", 0, "Resolved.")),
   "Anonymous auth was enabled by a kubeadm flag left in a staging bootstrap script.",
   "Fast response; containment date was mistyped in the tracker (see data quality note).",
   "Admission test that fails clusters with anonymous auth; fix the tracker's date picker default.",
   "", "l.weber (lead), k8s team", zone="ber")  # LAPSE postmortem-content: no lapse categories
pm("debug-tokens", "Published", 12,
   ev("debug-tokens", ("detected", 0, "Log scanner finds session cookie patterns."),
      ("declared", 0, "SEV2 declared; flag reverted."),
      ("contained", 0, "Sessions revoked."),
      ("eradicated", 0, "Logs purged from pipeline and archive."),
      ("resolved", 0, "Resolved.")),
   "A debug flag meant for staging was enabled by a shared config change.",
   "Notice went out within 30 hours; purging the archive took two days.",
   "Per-environment config with schema validation; redact cookies at the log agent.",
   "technical;manual-error", "a.khan (lead), observability team, legal", zone="utc")
pm("build-escape", "Published", 9,
   ev("build-escape", ("detected", 0, "Red team report."),
      ("declared", 0, "Declared SEV3."),
      ("resolved", 0, "Resolved.")),
   "hostPath mounts were allowed in the shared build namespace.",
   "Response matched the runbook.",
   "Pod security admission at restricted for build namespaces.",
   "technical", "a.khan (lead), red team", zone="utc")
pm("partner-logs", "Published", 10,
   ev("partner-logs", ("detected", 0, "Partner tells us the bundle is not theirs."),
      ("declared", 0, "SEV2 declared."),
      ("contained", 0, "Partner confirms deletion in writing."),
      ("resolved", 0, "Resolved.")),
   "Manual log bundle selection in the support tool, with similar ticket ids.",
   "Notification in 66 hours: inside the limit but later than our 48-hour target.",
   "Bundle picker shows the customer name; second-person check for exports leaving the company.",
   "manual-error;process", "m.osei (lead), support, legal")
pm("cdn-poison", "Published", 15,
   ev("cdn-poison", ("detected", 0, "Customer screenshot of someone else's cached dashboard."),
      ("declared", 0, "SEV2 declared; CDN cache purged."),
      ("contained", 0, "Caching disabled for authenticated paths."),
      ("resolved", 0, "Resolved.")),
   "The CDN provider's configuration push dropped Vary: Cookie handling.",
   "Supplier escalation took 5 hours.",
   "Never cache authenticated paths at the edge; contract clause for supplier incident response.",
   "technical;third-party", "a.khan (lead), CDN supplier, comms", zone="utc")  # LAPSE category
pm("reset-emails", "Published", 9,
   ev("reset-emails", ("detected", 0, "Customer admin reports missing reset e-mails."),
      ("declared", 0, "SEV2 declared."),
      ("contained", 0, "Relay rule removed."),
      ("resolved", 0, "Resolved.")),
   "A catch-all relay rule from a 2019 migration matched the customer's domain.",
   "Notified within 52 hours.",
   "Remove catch-all rules; alert on relay rule changes.",
   "technical;process", "m.osei (lead), messaging team")
pm("session-fixation", "Draft", 0,  # LAPSE postmortem-required: still a draft
   ev("session-fixation", ("detected", 0, "Bug bounty report."),
      ("declared", 0, "SEV2 declared.")),
   "Session id not rotated at login.",
   "", "", "", "a.khan (lead)", zone="utc")
pm("leaver-access", "Published", 6,
   ev("leaver-access", ("detected", 0, "Access review finds an active admin role."),
      ("declared", 0, "Declared SEV3 by the IAM team."),
      ("resolved", 0, "Resolved.")),
   "HR feed to IAM failed silently for contractors.",
   "The IAM team handled it without paging security.",
   "Alert on HR feed failures; page security for any privileged-access incident.",
   "process;procedural", "p.nowak (lead), IAM team")
pm("pg-backups", "Published", 14,
   ev("pg-backups", ("detected", 0, "Access analyzer flags cross-project backup read."),
      ("declared", 0, "SEV1 declared."),
      ("contained", 0, "Policy template reverted."),
      ("resolved", 0, "Resolved; customer notified at the 72-hour mark.")),
   "A policy template change granted backups:read to a shared service account.",
   "Notice was sent exactly at the deadline after legal review: on time, with no margin.",
   "Breach notice templates pre-approved by legal; policy diff review for templates.",
   "technical;communication", "j.rivera (lead), database team, legal", zone="nyc")
pm("secrets-audit-gap", "Published", 8,
   ev("secrets-audit-gap", ("detected", 0, "Audit log volume alert."),
      ("declared", 0, "SEV2 declared."),
      ("recovered", 0, "Events replayed from the WAL."),
      ("resolved", 0, "Resolved.")),
   "Log shipper crashed on a malformed event and did not restart.",
   "Customers were told within 3 hours.",
   "Supervisor for the shipper; dead-letter queue for malformed events.",
   "technical", "l.weber (lead), secrets team", zone="ber")
pm("ransomware-vm", "Published", 5,
   ev("ransomware-vm", ("detected", 0, "EDR alert on the sandbox VM."),
      ("declared", 0, "SEV3 declared."),
      ("resolved", 0, "Resolved.")),
   "Sandbox network policy allowed SMB to the test subnet.",
   "VM destroyed; eradication step not recorded in the tracker.",
   "Sandbox egress deny-all.",
   "technical;procedural", "a.khan (lead)", zone="utc")
pm("agent-export", "Published", 10,
   ev("agent-export", ("detected", 0, "DLP alert."),
      ("declared", 0, "SEV2 declared."),
      ("declared", 58 * H, "Regulator notified."),
      ("resolved", 0, "Resolved; customer notice still not sent.")),
   "Support tool allowed CSV export of all contacts without approval.",
   "Regulator was notified in time but the customer notice was held back pending HR outcome; nobody owned it.",
   "Customer notice owner named at declaration; exports need approval.",
   "process;communication;manual-error", "p.nowak (lead), support, HR, legal")
pm("trust-policy", "Published", 12,
   ev("trust-policy", ("detected", 0, "Policy linter finding on a managed template."),
      ("declared", 0, "SEV2 declared."),
      ("resolved", 0, "Resolved.")),
   "Wildcard principal in a managed template.",
   "Affected customers were told how to check their roles within 6 hours.",
   "",  # LAPSE postmortem-content: no takeaways recorded
   "technical", "j.rivera (lead), IAM team", zone="nyc")
pm("analytics-bucket", "Published", 9,
   ev("analytics-bucket", ("detected", 0, "Researcher report."),
      ("escalated", 0, "Escalated to security on-call."),
      ("contained", 0, "Bucket made private."),
      ("resolved", 0, "Resolved.")),
   "Export job created its bucket from an old template with public-read.",
   "Declaration was made in the chat channel but never recorded in the tracker.",
   "Declaration only through the incident bot; bucket policy guardrail.",
   "process;technical", "m.osei (lead), data team, legal")
pm("vuln-image", "Published", 6,
   ev("vuln-image", ("detected", 0, "Image scanner alert."),
      ("declared", 0, "SEV3 declared."),
      ("resolved", 0, "Resolved.")),
   "Admission controller was in audit mode after a migration.",
   "Rollback within 2 hours.",
   "Enforce mode with alerting on policy mode changes.",
   "procedural", "a.khan (lead)", zone="utc")
pm("dns-hijack", "In Review", 0,  # VERDICT postmortem-required at-risk
   ev("dns-hijack", ("detected", 0, "Customer report of a fake login page."),
      ("declared", 0, "SEV2 declared."),
      ("contained", 0, "CNAME removed."),
      ("resolved", 0, "Resolved.")),
   "Dangling CNAME to a deleted CDN distribution.",
   "Takedown of the phishing content took 2 days.",
   "Dangling DNS scanner in CI.",
   "technical;process", "a.khan (lead), marketing web team", zone="utc")
pm("rate-limit-bypass", "Draft", 0,  # VERDICT postmortem-required pending
   ev("rate-limit-bypass", ("detected", 0, "Customer report."),
      ("declared", 0, "SEV2 declared.")),
   "", "", "", "", "j.rivera (lead)", zone="nyc")


# ---------------------------------------------------------------------------------
# Notifications (communications log).
# ---------------------------------------------------------------------------------
NOTES = []


def note(key, audience, stage, channel, sent, nature="", impact="", mitigation="", nxt=""):
    NOTES.append(dict(seq=len(NOTES), incident=BY_KEY[key]["id"], audience=audience,
                      stage=stage, channel=channel, sent=sent, nature=nature, impact=impact,
                      mitigation=mitigation, next=nxt))


CUST = "Affected customers"
REG = "Supervisory authority"
EXEC = "Executive team"
INIT, UPD, FIN = "Initial notice", "Update", "Final report"


def dec(key, hours):
    return at(key, "declared", int(round(hours * 60)))


# before the period
note("stuffing", CUST, INIT, "E-mail", dec("stuffing", 20),
     "Unauthorised logins to your account using a password exposed elsewhere.",
     "41 accounts were accessed; yours is one of them.",
     "We reset your password and ended all sessions.",
     "Set a new password and enable MFA. We will write again within 7 days.")
note("bucket-acl", CUST, INIT, "E-mail", dec("bucket-acl", 30),
     "Support attachments you uploaded were publicly listable for 26 hours.",
     "Attachments of 58 customers, including yours; 3 unknown IP addresses listed the bucket.",
     "The bucket was made private 95 minutes after the report.",
     "We are reviewing access logs and will report within 5 days.")
note("bucket-acl", REG, INIT, "Regulator portal", dec("bucket-acl", 52),
     "Personal data in support attachments exposed publicly.", "58 customers, up to 400 data subjects.",
     "Access removed; logs under review.", "Follow-up report within 30 days.")
note("bucket-acl", CUST, FIN, "E-mail", at("bucket-acl", "resolved", 14 * D),  # sent in the period
     "Support attachments were publicly listable for 26 hours.",
     "No download of your attachments was found in the access logs.",
     "Bucket private; module versions pinned; public-bucket check in CI.")

# in the period: breaches
note("pg-metadata", CUST, INIT, "E-mail", dec("pg-metadata", 20),
     "Your database names and owner e-mail address were visible to other Managed Postgres customers for 47 minutes.",
     "19 customers were affected; no database contents were exposed.",
     "We disabled the console cache and fixed the cache key.",
     "We will send a final report within 14 days.")
note("pg-metadata", EXEC, INIT, "Slack", dec("pg-metadata", 1), "SEV1: cross-tenant metadata leak.")
note("pg-metadata", REG, INIT, "Regulator portal", dec("pg-metadata", 60),
     "Cross-tenant exposure of owner e-mail addresses.", "19 customers, 23 data subjects.",
     "Cache disabled; fix deployed.", "Final report with the postmortem.")
note("pg-metadata", CUST, FIN, "E-mail", at("pg-metadata", "resolved", 9 * D),
     "Database names and owner e-mail addresses were visible to other customers for 47 minutes.",
     "19 customers; no database contents.",
     "Tenant id required in every cache key; cross-tenant canary added.")
note("portal-idor", CUST, INIT, "E-mail", dec("portal-idor", 41),
     "Attachments you uploaded to a support ticket could be downloaded by another logged-in customer.",
     "12 attachments of 3 customers; 4 of yours were downloaded once.",
     "Downloads were disabled, then re-enabled with random, signed links.",
     "We will confirm the deletion of the downloaded copies by 18 July.")
note("portal-idor", CUST, UPD, "E-mail", dec("portal-idor", 6 * 24),  # LAPSE notice-content: update without next steps
     "Update on the support attachment exposure.",
     "Unchanged: 4 of your attachments, downloaded once.",
     "The other customer confirmed deletion in writing.",
     "")
note("portal-idor", CUST, FIN, "E-mail", at("portal-idor", "resolved", 10 * D),
     "Support attachments could be downloaded by another customer (IDOR).",
     "4 attachments, downloaded once, deleted by the recipient.",
     "Authorisation check on every object fetch; IDOR tests in CI.")
note("billing-export", CUST, INIT, "E-mail", dec("billing-export", 91),  # LAPSE: 91 hours
     "Invoice PDFs with your company name, address and amounts were copied to another customer's export bucket.",
     "214 invoices of 31 customers; 7 of yours.",
     "The export job was stopped and the misplaced files deleted; the receiving customers confirmed deletion.",
     "We will send the postmortem summary by 29 August.")
note("billing-export", REG, INIT, "Regulator portal", dec("billing-export", 70),
     "Invoices with personal data misdelivered to other business customers.", "31 customers.",
     "Job stopped, files deleted.", "Follow-up with the postmortem.")
note("billing-export", CUST, FIN, "E-mail", at("billing-export", "resolved", 12 * D),
     "Invoices were copied to other customers' export buckets.",
     "7 of your invoices; all copies deleted.",
     "Fixed the retry logic; tenant mapping is re-read on every attempt.")
note("debug-tokens", CUST, INIT, "E-mail", dec("debug-tokens", 30),
     "Session cookies of some console users were written to our internal logs for 6 hours.",
     "1,140 sessions, 3 of your users; no use of the cookies was found.",
     "All affected sessions were revoked and the logs purged.",
     "Final report within 10 days, after the archive purge is verified.")
note("debug-tokens", CUST, UPD, "Status page", dec("debug-tokens", 54),
     "Update: session cookies in internal logs.",
     "Unchanged.",
     "Archive purge completed and verified.",
     "Final report by 10 October.")
note("debug-tokens", CUST, FIN, "E-mail", at("debug-tokens", "resolved", 10 * D),
     "Session cookies were written to internal logs for 6 hours.",
     "1,140 sessions revoked; no misuse found.",
     "Per-environment config with validation; cookies redacted at the log agent.")
note("partner-logs", CUST, INIT, "E-mail", dec("partner-logs", 66),
     "Load balancer logs containing your end users' IP addresses were sent to another company.",
     "One log bundle, 6 hours of traffic, about 52,000 IP addresses.",
     "The recipient deleted the bundle and confirmed it in writing.",
     "We will share the postmortem by 7 November.")
note("partner-logs", REG, INIT, "Regulator portal", dec("partner-logs", 70),
     "IP addresses (personal data) disclosed to a third party.", "About 52,000 end users of one customer.",
     "Deletion confirmed.", "None planned; file closed unless asked.")
note("reset-emails", CUST, INIT, "E-mail", dec("reset-emails", 52),
     "Password-reset e-mails for your domain were delivered to a former employee's alias.",
     "63 reset e-mails over 12 days; 2 links were used, by your own admins.",
     "The relay rule was removed; all outstanding reset links invalidated.",
     "Final report within 7 days.")
note("reset-emails", CUST, FIN, "E-mail", at("reset-emails", "resolved", 7 * D),
     "Password-reset e-mails misrouted to a stale alias.",
     "63 e-mails; no link used by the alias holder.",
     "Catch-all relay rules removed; alerting on rule changes.")
note("pg-backups", CUST, INIT, "E-mail", dec("pg-backups", 72),  # exactly at the deadline: on time
     "A backup of one of your databases was readable by a shared internal service account.",
     "Two reads of one backup by the service account; no read by another customer.",
     "The policy template was reverted and the service account's cached copies deleted.",
     "Final report by 31 December.")
note("pg-backups", REG, INIT, "Regulator portal", dec("pg-backups", 48),
     "Backup containing personal data accessible to an internal service account.", "One customer.",
     "Policy reverted.", "Final report by 31 December.")
note("pg-backups", CUST, FIN, "E-mail", at("pg-backups", "resolved", 12 * D),
     "A backup of your database was readable by a shared service account.",
     "Two reads, both by our service; copies deleted.",
     "Templates now need a second reviewer; policy diff check in CI.")
# agent-export: LAPSE customer-notice-72h, the regulator was told but customers never were.
note("agent-export", REG, INIT, "Regulator portal", dec("agent-export", 58),
     "Employee exported customer contact data to a personal mailbox.", "3,900 contacts of 27 customers.",
     "Mailbox wiped; export feature restricted.", "Follow-up after the HR process.")
note("agent-export", EXEC, INIT, "Slack", dec("agent-export", 2), "SEV2: contact list exfiltration by an agent.")
# analytics-bucket: notices sent, but the declaration time is missing.
note("analytics-bucket", CUST, INIT, "E-mail", at("analytics-bucket", "detected", 40 * 60),
     "A weekly usage export including your users' e-mail addresses was readable through a public URL for 5 days.",
     "E-mail addresses of 212 users of your organisation; 2 downloads from unknown addresses.",
     "The bucket was made private and the URL revoked.",
     "We will confirm the outcome of the log review within 7 days.")
note("analytics-bucket", REG, INIT, "Regulator portal", at("analytics-bucket", "detected", 60 * 60),
     "Usage export with e-mail addresses exposed publicly.", "14 customers, 2,870 data subjects.",
     "Access removed.", "Follow-up within 30 days.")
note("analytics-bucket", CUST, FIN, "E-mail", at("analytics-bucket", "resolved", 5 * D),
     "A usage export with e-mail addresses was publicly readable for 5 days.",
     "2 downloads from unknown addresses; no further spread found.",
     "Bucket guardrail; declaration through the incident bot only.")
note("search-index", EXEC, INIT, "Slack", dec("search-index", 1),
     "SEV1: open search endpoint with support-ticket text.")

# in the period: customer-impacting, not breaches
note("dns-ddos", CUST, INIT, "Status page", dec("dns-ddos", 0.5),  # LAPSE notice-content: no mitigation
     "DNS resolution in eu-west is degraded by a denial-of-service attack.",
     "About 11% of DNS queries time out.",
     "",
     "Next update within 60 minutes.")
note("dns-ddos", CUST, FIN, "Status page", at("dns-ddos", "resolved"),
     "DNS resolution in eu-west was degraded by a denial-of-service attack.",
     "11% of queries timed out for 2 hours.",
     "Traffic is scrubbed by our DDoS provider; automatic failover will be added.")
note("ssrf-importer", CUST, INIT, "Status page", dec("ssrf-importer", 0.5),
     "Image imports are paused while we fix a security issue.",
     "New image imports fail; running instances are unaffected.",
     "Imports are paused; no customer data is at risk.",
     "Update in 2 hours.")
note("ssrf-importer", CUST, FIN, "Status page", at("ssrf-importer", "recovered"),
     "Image imports were paused for a security fix.",
     "Imports failed for 5 hours.",
     "Fix deployed; imports re-enabled.")
note("signed-urls", CUST, INIT, "E-mail", dec("signed-urls", 20),
     "Signed URLs stayed valid up to 6 hours past their expiry.",
     "Customers relying on short-lived links; no misuse found.",
     "Signing node clocks corrected; validity enforced at the edge.",
     "Final update when the log review completes, by 8 August.")
note("cdn-poison", CUST, INIT, "Status page", dec("cdn-poison", 1),
     "Some console pages were served from a stale cache.",
     "Users may have seen their own dashboards with old data; no other tenant's data was shown.",
     "Edge caching disabled for signed-in pages.",
     "Update within 4 hours.")
note("cdn-poison", CUST, FIN, "Status page", at("cdn-poison", "resolved"),
     "Stale cached console pages.",
     "Old dashboard data for up to 2 hours.",
     "Signed-in pages are never cached at the edge.")
note("session-fixation", CUST, INIT, "E-mail", dec("session-fixation", 6),
     "A session-fixation weakness in the console login.",
     "No exploitation found; all users must sign in again.",
     "Session ids rotate at login; all sessions ended.",
     "No action needed beyond signing in again; final note within 7 days.")
note("session-fixation", CUST, FIN, "E-mail", at("session-fixation", "resolved", D),
     "Session-fixation weakness in the console login.",
     "No exploitation found.",
     "Fix deployed; regression test added.")
note("secrets-audit-gap", CUST, INIT, "E-mail", dec("secrets-audit-gap", 3),
     "Secrets Manager audit events were missing from exports for 6 hours.",
     "Your SIEM export has a gap between 01:10 and 07:10 UTC on 22 December.",
     "Events are being replayed from the write-ahead log.",
     "Replay completes within 24 hours; we will confirm.")
note("secrets-audit-gap", CUST, FIN, "E-mail", at("secrets-audit-gap", "resolved"),
     "Secrets Manager audit events were missing for 6 hours.",
     "All events replayed; no gap remains.",
     "Shipper supervised; malformed events go to a dead-letter queue.")
note("trust-policy", CUST, INIT, "E-mail", dec("trust-policy", 6),
     "A managed IAM role template allowed any account to assume it.",
     "Customers using the template \"ReadOnlyAuditor\"; no foreign assumption found.",
     "Template fixed; roles created from it were updated automatically.",
     "Check your own custom copies with the command in this notice; we will follow up by 6 February.")
note("dns-hijack", CUST, INIT, "Status page", dec("dns-hijack", 2),
     "A marketing subdomain served a fake login page.",
     "Users who followed links to promo.example-cloud.com; the real console was not affected.",
     "DNS record removed; takedown of the fake page requested.",
     "Update when the takedown completes.")
note("rate-limit-bypass", CUST, INIT, "E-mail", dec("rate-limit-bypass", 10),
     "Aggregate request counts of your tenant were visible to a neighbouring tenant.",
     "Request counts only, no content; 6 tenants.",
     "Header handling fixed at the load balancer.",
     "Final report after the postmortem, by 17 April.")


# ---------------------------------------------------------------------------------
# Findings (postmortem action items, synced with Jira).
# ---------------------------------------------------------------------------------
FINDINGS = []


def finding(key, title, kind, owner, created_days, due, status, closed_days=None, jira=None):
    """created/closed: days after the incident was resolved; due: ISO date (Berlin)."""
    inc = BY_KEY[key]
    n = len(FINDINGS) + 1
    created = office_hours(inc["t"]["resolved"] + timedelta(days=created_days), 10, 7 * n)
    closed = None
    if closed_days is not None:
        closed = office_hours(inc["t"]["resolved"] + timedelta(days=closed_days), 15, 11 * n)
    FINDINGS.append(dict(id=f"AI-{n:04d}", pm=inc["pm"], title=title, kind=kind, owner=owner,
                         created=created, due=due, status=status, closed=closed,
                         jira=jira if jira is not None else f"SEC-{400 + 7 * n}"))


D_ = "Done"
finding("stuffing", "Pre-approve emergency WAF ASN blocks", "Process", "a.khan", 9, "2025-04-30", D_, 20)
finding("stuffing", "MFA enrolment prompt for console admins", "Change Request", "c.dubois", 9, "2025-06-30", D_, 70, "CONS-1180")
finding("bucket-acl", "Pin Terraform module versions", "Change Request", "m.osei", 12, "2025-04-30", D_, 25, "PLAT-2231")
finding("bucket-acl", "Policy-as-code check for public buckets", "Bug", "s.lindqvist", 12, "2025-05-31", D_, 50, "PLAT-2232")
finding("dns-ddos", "Automate scrubbing swing at 70% utilisation", "Change Request", "m.osei", 14, "2025-07-31", D_, 60, "NET-311")
finding("dns-ddos", "Rewrite the DDoS runbook swing step", "Process", "r.costa", 14, "2025-06-15", D_, 20)
finding("pg-metadata", "Tenant id mandatory in cache key types", "Bug", "d.fischer", 10, "2025-06-30", D_, 24, "DBS-233")
finding("pg-metadata", "Cross-tenant canary account in every region", "Change Request", "d.fischer", 10, "2025-08-31", D_, 75, "DBS-240")
finding("pg-metadata", "Support macro: escalate data exposure reports directly", "Process", "h.sato", 10, "2025-06-30", D_, 15)
finding("ssrf-importer", "Egress proxy for all URL fetchers", "Change Request", "j.rivera", 16, "2025-09-30", D_, 88, "CMP-771")
finding("ci-runner-token", "Short-lived OIDC tokens for CI runners", "Change Request", "s.lindqvist", 8, "2025-09-30", D_, 70, "PLAT-2410")
finding("portal-idor", "Ownership check on every attachment fetch", "Bug", "h.sato", 11, "2025-08-15", D_, 16, "SUP-902")
finding("portal-idor", "IDOR tests in the API test suite", "Change Request", "h.sato", 11, "2025-11-30", "In Progress", None, "SUP-903")  # LAPSE overdue
finding("billing-export", "Re-read tenant mapping on every retry", "Bug", "b.meyer", 13, "2025-09-15", D_, 20, "BIL-588")
finding("billing-export", "Name a notification owner at declaration", "Process", "", 13, "2026-04-30", "To Do")  # LAPSE no owner
finding("billing-export", "Pre-approved breach notice templates", "Process", "legal.ops", 13, "2025-10-31", D_, 60, "LEGAL-77")
finding("k8s-api", "Admission test rejecting anonymous auth", "Change Request", "l.weber", 7, "2025-10-31", D_, 30, "K8S-1402")
finding("debug-tokens", "Per-environment config with schema validation", "Change Request", "a.khan", 12, "2025-12-15", D_, 60, "OBS-640")
finding("debug-tokens", "Redact cookies at the log agent", "Bug", "t.nguyen", 12, "2025-10-31", D_, 18, "OBS-641")
finding("build-escape", "Restricted pod security for build namespaces", "Change Request", "s.lindqvist", 9, "2025-11-30", D_, 40, "PLAT-2533")
finding("partner-logs", "Show customer name in the log bundle picker", "Bug", "h.sato", 10, "2025-12-15", D_, 30, "")  # LAPSE no tracking ref
finding("partner-logs", "Second-person check for exports leaving the company", "Process", "r.costa", 10, "2026-01-31", D_, 65)
finding("cdn-poison", "Never cache authenticated paths at the edge", "Bug", "a.khan", 15, "2025-12-15", D_, 22, "CDN-118")
finding("cdn-poison", "Supplier incident-response clause in the CDN contract", "Process", "procurement", 15, "2026-06-30", "In Progress", None, "PROC-45")
finding("reset-emails", "Remove catch-all relay rules", "Bug", "t.nguyen", 9, "2025-12-31", D_, 12, "MSG-360")
finding("reset-emails", "Alert on relay rule changes", "Change Request", "t.nguyen", 9, "2026-01-31", "In Progress", None, "MSG-361")  # LAPSE overdue
finding("session-fixation", "Rotate session id at login (regression test)", "Bug", "c.dubois", 2, "2026-04-30", "In Progress", None, "CONS-1302")
finding("leaver-access", "Alert on HR feed failures", "Bug", "p.nowak", 6, "2026-01-31", D_, 30, "IAM-512")
finding("pg-backups", "Second reviewer for managed policy templates", "Process", "d.fischer", 14, "2026-02-28", D_, 40, "DBS-301")
finding("pg-backups", "Policy diff check in CI", "Change Request", "d.fischer", 14, "2026-05-31", "To Do", None, "DBS-302")
finding("secrets-audit-gap", "Supervisor and dead-letter queue for the audit shipper", "Bug", "l.weber", 8, "2026-02-15", D_, 30, "SEC-1021")
finding("ransomware-vm", "Sandbox egress deny-all", "Change Request", "a.khan", 5, "2026-02-28", D_, 20, "SEC-1040")
finding("agent-export", "Approval step for contact exports", "Change Request", "h.sato", 10, "2026-04-15", "In Progress", None, "SUP-1120")
finding("agent-export", "Customer notice owner named at declaration", "Process", "legal.ops", 10, "2026-03-31", D_, 30, "LEGAL-91")
finding("trust-policy", "Lint managed templates for wildcard principals", "Task", "j.rivera", 12, "2026-03-15", D_, 25, "IAM-530")  # LAPSE kind not in the list
finding("analytics-bucket", "Declare only through the incident bot", "Process", "m.osei", 9, "2026-04-30", "In Progress", None, "SEC-1102")
finding("analytics-bucket", "Guardrail against public buckets in data accounts", "Change Request", "b.meyer", 9, "2026-05-31", "To Do", None, "DATA-219")
finding("vuln-image", "Admission control in enforce mode with alerts on mode changes", "Change Request", "s.lindqvist", 6, "2026-04-30", "In Progress", None, "PLAT-2710")
finding("dns-hijack", "Dangling DNS scanner in CI", "Change Request", "a.khan", 1, "2026-04-30", "To Do", None, "NET-402")
# LAPSE findings-closure-recorded: marked Done in Jira by a bulk transition that skipped
# the resolution screen, so the item carries no Resolved date.
finding("ssrf-importer", "Block link-local addresses in the shared HTTP client", "Bug", "j.rivera", 16, "2025-08-31", D_, None, "CMP-772")


# ---------------------------------------------------------------------------------
# Reporting log kept by the GRC team (same template as the comms log): FedRAMP PMO,
# agency and CISA reports under the FedRAMP Incident Communications Procedure (one hour
# from identification; an update at least daily; a final report), and the quarterly
# security report to the executive team.
# ---------------------------------------------------------------------------------
GRC = []


def report(key, audience, stage, channel, sent, nature="", impact="", mitigation="", nxt=""):
    GRC.append(dict(seq=len(GRC), incident=BY_KEY[key]["id"] if key else "", audience=audience,
                    stage=stage, channel=channel, sent=sent, nature=nature, impact=impact,
                    mitigation=mitigation, next=nxt))


FR = "FedRAMP PMO"
AGY = "Agency customers"
CISA = "CISA"


def ident(key, minutes=0):
    """Minutes after the incident was identified as FedRAMP-reportable."""
    return TIMES[key]["identified"] + timedelta(minutes=minutes)


report("ssrf-importer", FR, INIT, "E-mail", ident("ssrf-importer", 35),
       "SSRF in the image importer reached the compute metadata service.",
       "Image imports paused in the Government region; running workloads unaffected.",
       "Imports paused; redirects to link-local addresses blocked.",
       "Fix deployment within 6 hours; next update within 24 hours.")
report("ssrf-importer", AGY, INIT, "E-mail", ident("ssrf-importer", 42),
       "SSRF in the image importer reached the compute metadata service.",
       "New image imports fail; no agency data accessed.",
       "Imports paused; no credentials exposed (IMDSv2).",
       "Next update within 24 hours.")
report("ssrf-importer", CISA, INIT, "CISA portal", ident("ssrf-importer", 50),
       "Server-side request forgery against a cloud metadata service.",
       "No data accessed; imports paused.",
       "Redirects to link-local addresses blocked.",
       "Final report after the fix is verified.")
report("ssrf-importer", FR, UPD, "E-mail", ident("ssrf-importer", 20 * H),
       "Update: SSRF in the image importer.",
       "Unchanged; imports re-enabled with the fix.",
       "Fix deployed; egress proxy planned for all fetchers.",
       "Final report after the postmortem.")
report("ssrf-importer", FR, FIN, "E-mail", at("ssrf-importer", "resolved", 3 * D),
       "SSRF in the image importer (final report).",
       "Imports paused for 5 hours; no agency data accessed.",
       "Fix deployed; egress proxy for all URL fetchers tracked as CMP-771.")
# LAPSE fedramp-report-content: the initial FedRAMP report left the impact blank.
report("ci-runner-token", FR, INIT, "E-mail", ident("ci-runner-token", 40),
       "A leaked CI runner token was used to list build artifacts.",
       "",
       "Token revoked; runner re-registered.",
       "Scope review of the artifacts within 24 hours.")
report("ci-runner-token", AGY, INIT, "E-mail", ident("ci-runner-token", 48),
       "A leaked CI runner token was used to list build artifacts.",
       "No agency data in the artifacts; no production secrets.",
       "Token revoked; runner re-registered.",
       "Next update within 24 hours.")
# LAPSE fedramp-icp-report-cisa-1h: the analyst had no CISA portal account; reported after 3 h 55 min.
report("ci-runner-token", CISA, INIT, "CISA portal", ident("ci-runner-token", 3 * H + 55),
       "Unauthorised use of a leaked CI credential.",
       "Build artifacts listed; no production secrets in them.",
       "Token revoked.",
       "Final report after the postmortem.")
report("ci-runner-token", FR, UPD, "E-mail", ident("ci-runner-token", 22 * H),
       "Update: leaked CI runner token.",
       "Artifacts reviewed: no secrets, no agency data.",
       "Runner tokens masked in logs.",
       "Final report after the postmortem.")
report("ci-runner-token", FR, FIN, "E-mail", at("ci-runner-token", "resolved", 2 * D),
       "Leaked CI runner token (final report).",
       "No agency data affected.",
       "Short-lived OIDC tokens for runners (PLAT-2410).")
report("debug-tokens", FR, INIT, "E-mail", ident("debug-tokens", 50),
       "Debug logging captured console session cookies for 6 hours.",
       "1,140 sessions, 12 of them agency users; no use of the cookies found.",
       "Flag reverted; affected sessions revoked.",
       "Log purge verification within 48 hours; next update within 24 hours.")
report("debug-tokens", AGY, INIT, "E-mail", ident("debug-tokens", 55),
       "Debug logging captured console session cookies for 6 hours.",
       "12 of your users' sessions; all revoked.",
       "Sessions revoked; logs being purged.",
       "Next update within 24 hours.")
# Not reported to CISA: an internal misconfiguration, no attack vector (waived, see waivers.yaml).
report("debug-tokens", FR, UPD, "E-mail", ident("debug-tokens", 23 * H),
       "Update: session cookies in internal logs.",
       "Unchanged.",
       "Pipeline purge complete; archive purge under way.",
       "Final report within 10 days.")
report("debug-tokens", FR, FIN, "E-mail", at("debug-tokens", "resolved", 4 * D),
       "Session cookies in internal logs (final report).",
       "1,140 sessions revoked; no misuse found.",
       "Per-environment config with validation; cookies redacted at the log agent.")
# LAPSE fedramp-icp-report-fedramp-1h and fedramp-icp-report-agency-1h: both reports were
# held for legal review and went out 1 h 35 min and 1 h 40 min after identification.
report("pg-backups", FR, INIT, "E-mail", ident("pg-backups", 95),
       "A Managed Postgres backup was readable by a shared internal service account.",
       "One customer's backup read twice by our own service; not an agency customer.",
       "Policy template reverted.",
       "Next update within 24 hours.")
report("pg-backups", AGY, INIT, "E-mail", ident("pg-backups", 100),
       "A Managed Postgres backup was readable by a shared internal service account.",
       "No agency backup was affected.",
       "Policy template reverted.",
       "Next update within 24 hours.")
report("pg-backups", CISA, INIT, "CISA portal", ident("pg-backups", 50),
       "Excessive permissions on backup storage (misconfiguration).",
       "Two reads by an internal service account.",
       "Permissions reverted.",
       "Final report after the postmortem.")
report("pg-backups", FR, UPD, "E-mail", ident("pg-backups", 20 * H),
       "Update: backup readable by a service account.",
       "Unchanged; cached copies deleted.",
       "Second reviewer for policy templates.",
       "Final report by 31 December.")
report("pg-backups", FR, FIN, "E-mail", at("pg-backups", "resolved", 5 * D),
       "Backup readable by a service account (final report).",
       "Two reads by our own service; no agency data.",
       "Templates need a second reviewer; policy diff check in CI (DBS-302).")
report("trust-policy", FR, INIT, "E-mail", ident("trust-policy", 30),
       "A managed IAM role template allowed cross-account assume.",
       "Agency tenants using the template; no foreign assumption found.",
       "Template fixed; derived roles updated.",
       "Log review complete within 24 hours.")
report("trust-policy", AGY, INIT, "E-mail", ident("trust-policy", 45),
       "A managed IAM role template allowed cross-account assume.",
       "Your roles created from \"ReadOnlyAuditor\"; no foreign assumption found.",
       "Template fixed; derived roles updated.",
       "Check custom copies with the command in this notice; update within 24 hours.")
report("trust-policy", CISA, INIT, "CISA portal", ident("trust-policy", 52),
       "Overly permissive trust policy in a managed IAM template.",
       "No unauthorised role assumption found.",
       "Template fixed.",
       "Final report after the log review.")
# LAPSE fedramp-icp-update-daily: the first update was drafted on time but sent 34 hours
# after identification. LAPSE fedramp-icp-final-report: no final report was ever sent.
report("trust-policy", FR, UPD, "E-mail", ident("trust-policy", 34 * H),
       "Update: managed IAM role template.",
       "Unchanged: no foreign assumption in 90 days of logs.",
       "All derived roles updated.",
       "Final report after the postmortem.")
# VERDICT fedramp-icp-update-daily at-risk: identified 30 March 13:05 UTC, no update yet.
report("search-index", FR, INIT, "E-mail", ident("search-index", 38),
       "Support-ticket text exposed through a misconfigured search endpoint.",
       "Tickets of one agency tenant are in the index; scope still being established.",
       "Endpoint closed; snapshot preserved.",
       "Scope within 24 hours; update at least daily.")
report("search-index", AGY, INIT, "E-mail", ident("search-index", 45),
       "Support-ticket text exposed through a misconfigured search endpoint.",
       "Some of your support tickets were in the exposed index.",
       "Endpoint closed.",
       "We will tell you which tickets within 24 hours.")
report("search-index", CISA, INIT, "CISA portal", ident("search-index", 55),
       "Data exposure through a misconfigured search service.",
       "Support-ticket text; scope being established.",
       "Endpoint closed.",
       "Update when the scope is known.")
# VERDICT fedramp-icp-report-agency-1h and -cisa-1h at-risk: identified 31 March 11:10
# UTC, only FedRAMP told so far. VERDICT fedramp-icp-update-daily pending.
report("leaked-access-key", FR, INIT, "E-mail", ident("leaked-access-key", 31),
       "A leaked customer access key read objects of other tenants, including one agency tenant.",
       "Public-read objects of one agency tenant were read.",
       "Key revoked; bucket policies under review.",
       "Agency and CISA reports within the hour; update within 24 hours.")



def quarter_summary(label, first, last, issue=""):
    """Counts of the records detected from `first` up to `last` (UTC dates)."""
    a, b = utc(first + " 00:00"), utc(last + " 00:00")
    recs = [i for i in INCIDENTS if a <= i["t"]["detected"] < b]
    inc = sum(1 for i in recs if i["type"] == SEC)
    breaches = sum(1 for i in recs if i["breach"] == "Yes")
    text = (f"Quarterly security report, {label}. Security incidents: {inc}; other security "
            f"events: {len(recs) - inc}; personal data breaches: {breaches}.")
    return text + (f" Systemic issue: {issue}." if issue else "")


# Quarterly security report to the executive team (no incident: a periodic summary).
report(None, EXEC, "", "Executive committee", utc("2025-04-14 09:30"),
       quarter_summary("Q1 2025", "2025-01-01", "2025-04-01"))
# LAPSE management-reporting-periodic: no Q2 2025 report (CISO post vacant); Q2 and Q3
# reported together in October, more than three months after the previous report.
report(None, EXEC, "", "Executive committee", utc("2025-10-09 09:30"),
       quarter_summary("Q2 and Q3 2025", "2025-04-01", "2025-10-01", "nobody owns the customer-notice clock"))
report(None, EXEC, "", "Executive committee", utc("2026-01-08 09:30"),
       quarter_summary("Q4 2025", "2025-10-01", "2026-01-01", "declarations made outside the incident bot"))


# ---------------------------------------------------------------------------------
# On-call schedule (PagerDuty-style final schedule export). Two rotations, weekly
# handoff on Monday 09:00 Europe/London; overrides appear as split shifts. On
# 3 November 2025 both rotations were rebuilt in new schedule layers by an admin whose
# profile zone was America/New_York: the old layers ended at 09:00 London, the new ones
# began at 09:00 New York (14:00 UTC).
# LAPSE oncall-coverage: nobody was on call for 5 hours on 3 November 2025.
# ---------------------------------------------------------------------------------
LON = ZONES["lon"]
NYC = ZONES["nyc"]
SCHEDULES = [
    dict(id="PSECPRI", name="Security Incident Response - Primary", level=1,
         people=["Amir Khan", "Mensah Osei", "Julia Rivera", "Lena Weber", "Piotr Nowak"]),
    dict(id="PSECSEC", name="Security Incident Response - Secondary", level=2,
         people=["Yuki Tanaka", "Noah Schmidt", "Tom\u00e1s Herrera", "Sofia Lindqvist", "Marco Bianchi",
                 "Thanh Nguyen"]),
]
PD_USERS = {}
REBUILD_OLD_END = datetime(2025, 11, 3, 9, 0, tzinfo=LON)
REBUILD_NEW_START = datetime(2025, 11, 3, 9, 0, tzinfo=NYC)
# Overrides: schedule, local start, local end, who covers.
OVERRIDES = [
    ("PSECPRI", datetime(2025, 8, 13, 9, 0, tzinfo=LON), datetime(2025, 8, 15, 18, 0, tzinfo=LON), "Amir Khan"),
    ("PSECSEC", datetime(2025, 10, 1, 9, 0, tzinfo=LON), datetime(2025, 10, 2, 9, 0, tzinfo=LON), "Thanh Nguyen"),
    ("PSECPRI", datetime(2025, 12, 24, 18, 0, tzinfo=NYC), datetime(2025, 12, 27, 9, 0, tzinfo=NYC), "Mensah Osei"),
    ("PSECPRI", datetime(2026, 2, 18, 9, 0, tzinfo=NYC), datetime(2026, 2, 19, 9, 0, tzinfo=NYC), "Priya Raman"),
]
SHIFTS = []


def pd_user(name):
    if name not in PD_USERS:
        PD_USERS[name] = f"PU{len(PD_USERS) + 1:03d}X"
    return {"id": PD_USERS[name], "summary": name}


def shift(sched, who, start, end):
    SHIFTS.append(dict(sched=sched, who=who, start=start, end=end))


def build_oncall():
    for sched in SCHEDULES:
        week = 0
        for first, last, zone in [(datetime(2025, 3, 31, 9, 0, tzinfo=LON), REBUILD_OLD_END, LON),
                                  (REBUILD_NEW_START, None, NYC)]:
            start = first
            while (last is None and start < AS_OF) or (last is not None and start < last):
                # Wall-clock arithmetic: 09:00 stays 09:00 across DST changes.
                end = (start.replace(tzinfo=None) + timedelta(weeks=1)).replace(tzinfo=zone)
                if last is not None:
                    end = min(end, last)
                who = sched["people"][week % len(sched["people"])]
                cut = start
                for sid, o_start, o_end, cover in OVERRIDES:
                    if sid == sched["id"] and start <= o_start < end:
                        shift(sched, who, cut, o_start)
                        shift(sched, cover, o_start, o_end)
                        cut = o_end
                shift(sched, who, cut, end)
                start = end
                week += 1


def oncall_ndjson():
    rows = sorted(SHIFTS, key=lambda x: (x["start"].astimezone(UTC), x["sched"]["level"]))
    lines = []
    for x in rows:
        s = x["sched"]
        lines.append(json.dumps({
            "id": f"{s['id']}-{x['start'].astimezone(UTC):%Y%m%dT%H%MZ}",
            "schedule": {"id": s["id"], "summary": s["name"]},
            "escalation_level": s["level"],
            "user": pd_user(x["who"]),
            "start": x["start"].isoformat(),
            "end": x["end"].isoformat(),
        }, ensure_ascii=False))
    with open(os.path.join(OUT, "oncall.ndjson"), "w", encoding="utf-8", newline="") as f:
        f.write("\n".join(lines) + "\n")
    return len(lines)


# ---------------------------------------------------------------------------------
# Response exercises (GRC register).
# ---------------------------------------------------------------------------------
EXERCISES = [
    # before the period
    ("EX-24-03", "Tabletop", "Credential stuffing against the customer console", "20 Nov 2024",
     "m.osei", "Security, Support, Comms", "https://wiki.example-cloud.com/ir/exercises/EX-24-03"),
    ("EX-25-01", "Tabletop", "Public bucket exposure found by a researcher", "12 Mar 2025",
     "m.osei", "Security, Storage, Legal", "https://wiki.example-cloud.com/ir/exercises/EX-25-01"),
    # in the period
    ("EX-25-02", "Tabletop", "Ransomware on corporate endpoints", "18 Jun 2025",
     "l.weber", "Security, Corporate IT, HR, Exec", "https://wiki.example-cloud.com/ir/exercises/EX-25-02"),
    ("EX-25-03", "Simulation", "Game day: DDoS on eu-west DNS with the scrubbing swing", "27 Aug 2025",
     "m.osei", "Network on-call, Security, Comms", "https://wiki.example-cloud.com/ir/exercises/EX-25-03"),
    ("EX-25-04", "Red Team", "Breakout from the shared build cluster (purple team)", "30 Sep 2025",
     "a.khan", "Red team, Platform, Security", "https://wiki.example-cloud.com/ir/exercises/EX-25-04"),
    ("EX-25-05", "Tabletop", "Personal data breach: the 72-hour customer notice with Legal and Comms", "20 Nov 2025",
     "g.okafor", "Security, Legal, Comms, Support", "https://wiki.example-cloud.com/ir/exercises/EX-25-05"),
    # LAPSE response-exercise-yearly (not evaluable): the CDN supplier simulation was held
    # in December but its date and report were never filed in the register.
    ("EX-25-06", "Simulation", "CDN supplier compromise", "",
     "a.khan", "Security, CDN supplier, Comms", ""),
    ("EX-26-01", "Tabletop", "FedRAMP incident communications drill (FedRAMP PMO, agency, CISA)", "11 Feb 2026",
     "j.rivera", "Security, GRC, Public Sector", "https://wiki.example-cloud.com/ir/exercises/EX-26-01"),
]


def exercises_csv():
    header = ["Exercise ID", "Type", "Scenario", "Date", "Facilitator", "Participants", "Report"]
    write("exercises.csv", header, [list(e) for e in EXERCISES])


# ---------------------------------------------------------------------------------
# Document register: plans, procedures, runbooks, forensic procedures (and documents no
# check reads). Dates are date-only (London).
# ---------------------------------------------------------------------------------
IR_TEAM = "Security Response Team"
FEDRAMP_RECIPIENTS = "FedRAMP PMO (info@fedramp.gov); FedRAMP ISSO (agency JAB liaison)"
DOCUMENTS = [
    # id, title, type, version, owner, last reviewed, approved by, distribution list, last distributed
    ("DOC-001", "Security Incident Response Plan", "Incident Response Plan", "7.2", "m.osei", "2025-10-14",
     "E. Laurent (CISO)", f"{IR_TEAM}; Engineering on-call; Legal; Communications; Executive team; {FEDRAMP_RECIPIENTS}",
     "2025-10-16"),
    # LAPSE response-plan-reviewed-yearly: last reviewed February 2025, due again February 2026.
    ("DOC-002", "Personal Data Breach Notification Plan", "Incident Response Plan", "4.1", "g.okafor", "2025-02-27",
     "E. Laurent (CISO)", f"{IR_TEAM}; Privacy Office; Legal; Communications; Support leads; {FEDRAMP_RECIPIENTS}",
     "2025-03-03"),
    # LAPSE response-plan-distributed-after-review: revised in January 2026 for the FedRAMP
    # update, but the revised version was never sent out again.
    ("DOC-003", "FedRAMP Incident Communications Plan (Example Cloud for Government)", "Incident Response Plan",
     "2.3", "j.rivera", "2026-01-22", "E. Laurent (CISO)",
     f"{IR_TEAM}; Public Sector GRC; {FEDRAMP_RECIPIENTS}; Agency ISSOs", "2025-07-09"),
    # LAPSE response-plan-distributed-fedramp: the new ransomware plan covers the FedRAMP
    # boundary, but its distribution list left out the FedRAMP recipients.
    ("DOC-004", "Ransomware Response Plan", "Incident Response Plan", "1.0", "l.weber", "2026-02-19",
     "E. Laurent (CISO)", f"{IR_TEAM}; Corporate IT on-call; Executive team; Legal", "2026-02-24"),
    # LAPSE response-plan-distributed: sent out while still awaiting approval (no approver).
    # VERDICT response-plan-reviewed-yearly at-risk: reviewed 23 April 2025, due in April.
    ("DOC-005", "Customer Communications Plan for Security Incidents", "Incident Response Plan", "3.0", "a.rahman",
     "2025-04-23", "", f"{IR_TEAM}; Communications; Support leads; Agency ISSOs; {FEDRAMP_RECIPIENTS}",
     "2025-04-28"),
    ("DOC-010", "Incident Severity and Classification Procedure", "Procedure", "3.4", "m.osei", "2025-10-14",
     "E. Laurent (CISO)", f"{IR_TEAM}; Engineering on-call", "2025-10-16"),
    ("DOC-011", "Escalation and Paging Procedure", "Procedure", "2.8", "m.osei", "2025-09-03",
     "E. Laurent (CISO)", f"{IR_TEAM}; Engineering on-call; Support leads", "2025-09-04"),
    ("DOC-012", "Customer and Regulator Notification Procedure", "Procedure", "2.1", "g.okafor", "2025-11-25",
     "E. Laurent (CISO)", f"{IR_TEAM}; Legal; Communications", "2025-11-27"),
    ("DOC-013", "Postmortem Procedure", "Procedure", "1.6", "a.khan", "2025-06-12",
     "E. Laurent (CISO)", f"{IR_TEAM}; Engineering managers", "2025-06-13"),
    ("DOC-020", "Runbook: DDoS mitigation and scrubbing swing", "Runbook", "5.0", "m.osei", "2025-05-20",
     "E. Laurent (CISO)", "Network on-call; Security Response Team", "2025-05-21"),
    ("DOC-021", "Runbook: Leaked credentials and keys", "Runbook", "2.2", "l.weber", "2025-08-04",
     "E. Laurent (CISO)", "Security Response Team; Platform on-call", "2025-08-05"),
    # LAPSE response-guides-reviewed-yearly: not reviewed since November 2024.
    ("DOC-022", "Runbook: Object storage exposure", "Runbook", "1.3", "m.osei", "2024-11-18",
     "E. Laurent (CISO)", "Security Response Team; Storage on-call", "2024-11-19"),
    ("DOC-023", "Runbook: Compromised CI/CD credentials", "Runbook", "1.1", "s.lindqvist", "2025-07-15",
     "E. Laurent (CISO)", "Security Response Team; Platform on-call", "2025-07-16"),
    # VERDICT response-guides-reviewed-yearly at-risk: next review due 10 April 2026.
    ("DOC-024", "Runbook: Lost or stolen device", "Runbook", "2.0", "p.nowak", "2025-04-10",
     "E. Laurent (CISO)", "Security Response Team; IT Service Desk", "2025-04-11"),
    ("DOC-030", "Evidence Collection and Chain of Custody", "Forensic Procedure", "3.1", "a.khan", "2025-08-19",
     "E. Laurent (CISO)", "Security Response Team; Legal", "2025-08-20"),
    # LAPSE forensic-procedure-reviewed-yearly: not reviewed since December 2024.
    ("DOC-031", "Cloud Forensics: VM and Container Snapshot Acquisition", "Forensic Procedure", "1.4", "a.khan",
     "2024-12-02", "E. Laurent (CISO)", "Security Response Team", "2024-12-03"),
    ("DOC-032", "Endpoint Forensic Triage", "Forensic Procedure", "2.0", "l.weber", "2025-12-10",
     "E. Laurent (CISO)", "Security Response Team; Corporate IT", "2025-12-11"),
    ("DOC-040", "Information Security Policy", "Policy", "9.0", "e.laurent", "2025-09-30",
     "Board of Directors", "All staff", "2025-10-01"),
    ("DOC-041", "Business Continuity Plan", "Plan", "4.2", "r.costa", "2025-06-30",
     "COO", "Executive team; Service owners", "2025-07-02"),
]


def documents_csv():
    header = ["Document ID", "Title", "Document Type", "Version", "Owner", "Last Reviewed", "Approved By",
              "Distribution List", "Last Distributed", "Status"]
    write("documents.csv", header, [list(d) + ["Published"] for d in DOCUMENTS])


# ---------------------------------------------------------------------------------
# HR roster (HRIS API export) and LMS completions.
# ---------------------------------------------------------------------------------
PEOPLE = [
    # number, name, title, department, employment type, hire date, termination date
    ("E1001", "Amir Khan", "Staff Security Engineer", "Security", "Full-Time", "2019-03-04", None),
    ("E1002", "Mensah Osei", "Security Incident Manager", "Security", "Full-Time", "2018-09-17", None),
    ("E1003", "Julia Rivera", "Principal Security Engineer", "Security", "Full-Time", "2020-01-13", None),
    ("E1004", "Lena Weber", "Security Engineer", "Security", "Full-Time", "2021-05-03", None),
    ("E1005", "Piotr Nowak", "IAM Lead", "Security", "Full-Time", "2019-11-04", None),
    ("E1006", "Camille Dubois", "Engineering Manager, Console", "Engineering", "Full-Time", "2017-06-12", None),
    ("E1007", "Sofia Lindqvist", "Platform Engineer", "Engineering", "Full-Time", "2020-08-24", None),
    ("E1008", "David Fischer", "Database Engineering Lead", "Engineering", "Full-Time", "2018-02-05", None),
    ("E1009", "Haruki Sato", "Support Engineering Lead", "Support", "Full-Time", "2021-10-11", None),
    ("E1010", "Bianca Meyer", "Data Engineer", "Engineering", "Full-Time", "2022-03-07", None),
    ("E1011", "Thanh Nguyen", "Messaging Engineer", "Engineering", "Full-Time", "2022-09-19", None),
    # LAPSE security-training-annual: last security course October 2024.
    ("E1012", "Rui Costa", "Support Operations Manager", "Support", "Full-Time", "2016-04-18", None),
    ("E1013", "Elise Laurent", "Chief Information Security Officer", "Security", "Full-Time", "2021-02-01", None),
    ("E1014", "Grace Okafor", "Privacy Counsel", "Legal", "Full-Time", "2020-05-11", None),
    ("E1015", "Tom\u00e1s Herrera", "Network Engineer", "Engineering", "Full-Time", "2023-01-09", None),
    ("E1016", "Yuki Tanaka", "Site Reliability Engineer", "Engineering", "Full-Time", "2023-04-17", None),
    ("E1017", "Noah Schmidt", "Site Reliability Engineer", "Engineering", "Full-Time", "2022-11-28", None),
    ("E1018", "Aisha Rahman", "Communications Lead", "Marketing", "Full-Time", "2021-07-05", None),
    ("E1019", "Marco Bianchi", "Compute Engineer", "Engineering", "Full-Time", "2024-02-12", None),
    ("E1020", "Ingrid Halvorsen", "Product Manager", "Product", "Part-Time", "2023-08-21", None),
    # LAPSE security-training-annual: joined in June 2025, onboarding security course never taken.
    ("E1021", "Kwame Asante", "Field Engineer, Federal", "Public Sector", "Full-Time", "2025-06-02", None),
    ("E1022", "Olivia Brown", "Customer Support Engineer", "Support", "Full-Time", "2024-06-03", None),
    ("E1023", "Jonas Berg", "Customer Support Engineer", "Support", "Full-Time", "2025-01-20", None),
    ("E1024", "Priya Raman", "Security Analyst", "Security", "Full-Time", "2026-01-12", None),
    # VERDICT security-training-annual at-risk: joined 4 March 2026, onboarding grace ends 3 April.
    ("E1025", "Felix Wagner", "Backend Engineer", "Engineering", "Full-Time", "2026-03-04", None),
    # VERDICT security-training-annual pending: joined 16 March 2026.
    ("E1026", "Chlo\u00e9 Martin", "Customer Support Engineer", "Support", "Full-Time", "2026-03-16", None),
    ("E1027", "Ahmed Hassan", "HR Business Partner", "People", "Full-Time", "2020-10-05", None),
    ("E1028", "Sarah Cohen", "Finance Controller", "Finance", "Full-Time", "2019-01-07", None),
    ("E1029", "Luca Romano", "Security Intern", "Security", "Intern", "2025-09-01", None),
    ("E1030", "Daniel Kim", "Procurement Specialist", "Finance", "Part-Time", "2021-03-15", None),
    ("E1031", "Hannah Novak", "Backend Engineer", "Engineering", "Full-Time", "2022-01-10", "2026-04-30"),
    # Leavers and contractors: outside the training population.
    ("E1032", "Ben Carter", "Backend Engineer", "Engineering", "Full-Time", "2020-01-06", "2025-08-29"),
    ("E1033", "Oskar Lind", "Support Agent", "Support", "Full-Time", "2023-03-06", "2026-01-30"),
    ("C2001", "Erik Johansson", "Contract SRE", "Engineering", "Contractor", "2025-05-05", None),
    ("C2002", "Maya Patel", "Contract Technical Writer", "Product", "Contractor", "2024-09-09", "2025-12-19"),
]

AWARE_24 = "Security Awareness 2024 (annual)"
AWARE_25 = "Security Awareness 2025 (annual)"
STARTER = "Security Awareness for New Starters"
PRIVACY = "Privacy and Data Protection Essentials"
ONCALL_IR = "Incident Response for On-call Engineers"
FEDERAL = "Handling Federal Customer Data"

# person, course, completed (London wall clock)
COMPLETIONS = [("E1023", STARTER, "2025-01-24 11:05")]
_ANNUAL_2024 = ["E1001", "E1002", "E1003", "E1004", "E1005", "E1006", "E1007", "E1008", "E1009", "E1010",
                "E1011", "E1012", "E1013", "E1014", "E1015", "E1016", "E1017", "E1018", "E1019", "E1020",
                "E1022", "E1027", "E1028", "E1030", "E1031", "E1032", "E1033"]
for _i, _p in enumerate(_ANNUAL_2024):
    COMPLETIONS.append((_p, AWARE_24, f"2024-10-{1 + _i % 28:02d} {9 + _i % 8}:{(7 * _i) % 60:02d}"))
# The 2025 campaign ran from 15 September to 30 November; a few finished late.
_ANNUAL_2025 = [p for p in _ANNUAL_2024 if p not in ("E1012", "E1019", "E1032", "E1033")] + ["E1023"]
for _i, _p in enumerate(_ANNUAL_2025):
    _day = datetime(2025, 9, 15) + timedelta(days=(_i * 37) % 76)
    COMPLETIONS.append((_p, AWARE_25, f"{_day:%Y-%m-%d} {10 + _i % 7}:{(11 * _i) % 60:02d}"))
COMPLETIONS += [
    ("E1019", AWARE_25, "2026-02-03 16:40"),  # finished late, after two reminders: still within the year
    ("E1012", PRIVACY, "2025-06-11 14:20"),  # not a security course
    ("E1021", FEDERAL, "2025-06-10 10:00"),  # not a security course
    ("E1029", STARTER, "2025-09-05 15:30"),
    ("E1024", STARTER, "2026-01-14 13:10"),
    ("E1001", ONCALL_IR, "2025-05-07 10:30"),
    ("E1004", ONCALL_IR, "2025-05-07 10:30"),
    ("E1016", ONCALL_IR, "2025-05-08 14:00"),
    ("E1017", ONCALL_IR, "2025-05-08 14:00"),
    ("E1014", PRIVACY, "2025-06-03 09:45"),
    ("E1009", PRIVACY, "2025-06-04 11:15"),
]


def people_json():
    emps = []
    for num, name, title, dept, kind, hired, left in PEOPLE:
        emps.append({"employeeNumber": num, "displayName": name, "jobTitle": title, "department": dept,
                     "employment": {"type": kind, "hireDate": hired, "terminationDate": left}})
    doc = {"export": {"system": "HRIS", "generatedAt": "2026-03-31T06:00:00Z", "count": len(emps)},
           "employees": emps}
    with open(os.path.join(OUT, "people.json"), "w", encoding="utf-8", newline="") as f:
        f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def training_csv():
    names = {p[0]: p[1] for p in PEOPLE}
    header = ["Completion ID", "Employee Number", "Learner", "Course", "Status", "Completion Date"]
    rows = []
    for n, (p, course, when) in enumerate(sorted(COMPLETIONS, key=lambda c: (c[2], c[0]))):
        local = datetime.strptime(when, "%Y-%m-%d %H:%M")
        rows.append([f"LMS-{50001 + n}", p, names[p], course, "Completed", local.strftime("%d/%m/%Y %H:%M")])
    write("training.csv", header, rows)


# ---------------------------------------------------------------------------------
# Attestations (GRC tool export): the quarterly review of on-call engineers' access.
# LAPSE oncall-access-review-attested: the Q1 2026 review is not done; the Q4 2025
# attestation expired on 22 March 2026.
# ---------------------------------------------------------------------------------
ATTESTATIONS = [
    ("ATT-0412", "OA-7 On-call production access review", "2025-04-09T15:20:00Z", "2025-07-09", "2025-Q1"),
    ("ATT-0466", "OA-7 On-call production access review", "2025-07-07T10:05:00Z", "2025-10-07", "2025-Q2"),
    ("ATT-0519", "OA-7 On-call production access review", "2025-10-06T13:45:00Z", "2026-01-06", "2025-Q3"),
    ("ATT-0571", "OA-7 On-call production access review", "2025-12-22T11:30:00Z", "2026-03-22", "2025-Q4"),
]


def attestations_csv():
    header = ["Attestation ID", "Control", "Statement", "Attested By", "Attested On", "Evidence", "Valid Until"]
    rows = [[a, ctl, "On-call engineers' production access was temporary (just-in-time), approved per "
             "incident, and reviewed; leavers and rotation changes removed.", "E. Laurent (CISO)", when,
             f"https://grc.example-cloud.com/evidence/OA-7/{q}", until]
            for a, ctl, when, until, q in ATTESTATIONS]
    write("attestations.csv", header, rows)


# ---------------------------------------------------------------------------------
# Waivers (management's accepted exceptions).
# ---------------------------------------------------------------------------------
def waivers_yaml():
    text = f"""# Management's accepted exceptions for the demo; read beside sources.yaml.
# GENERATED by tools/gen_demo.py: edit the script, not this file.
waivers:
  - id: WVR-2025-07
    check: fedramp-icp-report-cisa-1h
    record: {BY_KEY["debug-tokens"]["id"]}
    reason: >-
      Debug logging enabled by our own configuration change: no attack vector of the
      CISA taxonomy, so the Incident Communications Procedure asks no CISA report.
    approver: E. Laurent (CISO)
    approved_at: "2025-10-02T14:00:00Z"
    expires_at: "2026-09-30"
    response: >-
      Management agrees no CISA report was due. The incident record will carry the
      attack vector so that the CISA test can tell such incidents apart.
"""
    with open(os.path.join(OUT, "waivers.yaml"), "w", encoding="utf-8", newline="") as f:
        f.write(text)



# ---------------------------------------------------------------------------------
# Writers.
# ---------------------------------------------------------------------------------
def write(name, header, rows, bom=False, crlf=False):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(header)
    w.writerows(rows)
    data = buf.getvalue()
    with open(os.path.join(OUT, name), "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        f.write(data)


def incidents_csv():
    header = ["Incident ID", "Title", "Severity", "Type", "Status", "Service", "Reported By",
              "Incident Lead", "Detected At", "Escalated At", "Declared At", "Contained At",
              "Eradicated At", "Recovered At", "Resolved At", "Customer Impact",
              "Personal Data Breach", "Postmortem", "Summary", "Slack Channel",
              "Support Ticket", "Personal Data Involved", "Reported To", "Consequences",
              "Actions Taken", "Data Lost", "Data Disclosed", "Data Altered",
              "Investigation Closed At", "FedRAMP Identified At", "FedRAMP Class", "PAIN"]
    rows = []
    for inc in INCIDENTS:
        _, cells = timeline(inc["det"], inc["steps"], inc["zone"], inc.get("override"))
        if "escalated_after_declared" in inc:
            cells["escalated"] = rfc3339(inc["t"]["escalated"], inc["zone"])
        rows.append([inc["id"], inc["title"], inc["sev"], inc["type"], inc["status"], inc["service"],
                     inc["by"], inc["lead"], cells["detected"], cells["escalated"], cells["declared"],
                     cells["contained"], cells["eradicated"], cells["recovered"], cells["resolved"],
                     inc["ci"], inc["breach"], inc.get("pm", ""), inc["summary"],
                     f"#inc-{inc['id'][4:]}-{inc['key']}"] + incident_extras(inc))
    write("incidents.csv", header, rows, bom=True, crlf=True)


NOTICE_HEADER = ["Notice ID", "Incident Ref", "Recipient Group", "Stage", "Channel", "Sent (UTC)",
                 "Nature of Incident", "Impact on Users", "Mitigation", "Next Steps & Timeline"]


def notice_rows(notes, fmt):
    # Each log numbers its notices in the order they were sent.
    ordered = sorted(notes, key=lambda n: (n["sent"], n["seq"]))
    return [[fmt(i), n["incident"], n["audience"], n["stage"], n["channel"],
             n["sent"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), n["nature"], n["impact"],
             n["mitigation"], n["next"]] for i, n in enumerate(ordered)]


def notifications_csv():
    write("notifications.csv", NOTICE_HEADER, notice_rows(NOTES, lambda i: f"COM-{2001 + i}"))


def reporting_log_csv():
    write("reporting-log.csv", NOTICE_HEADER, notice_rows(GRC, lambda i: f"GRC-{i + 1:04d}"))


def postmortems_csv():
    header = ["Review ID", "Incident", "Status", "Completed", "Timeline", "Technical Summary",
              "Participants", "Response Summary", "Lessons Learned", "Lapse Categories"]
    rows = [[p["id"], p["incident"], p["status"], p["completed"], p["events"], p["technical"],
             p["actors"], p["response"], p["takeaways"], p["lapses"]] for p in PIR]
    write("postmortems.csv", header, rows)


def berlin(dt):
    """Jira shows local wall-clock time with no offset; refuse times a DST change repeats
    or skips, which would be ambiguous in the export."""
    if dt is None:
        return ""
    local = dt.astimezone(BERLIN).replace(tzinfo=None)
    back = [local.replace(tzinfo=BERLIN, fold=f).astimezone(UTC) for f in (0, 1)]
    assert back[0] == back[1] == dt.astimezone(UTC), f"ambiguous Berlin time {local}"
    return local.strftime("%Y-%m-%d %H:%M")


AS_OF = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def check_before_as_of():
    """Nothing in the demo may happen after the as-of instant of evidentia.yaml."""
    for inc in INCIDENTS:
        for k, v in inc["t"].items():
            assert v is None or v < AS_OF, (inc["id"], k, v)
    for n in NOTES + GRC:
        assert n["sent"] < AS_OF, n
    for _, _, when, _, _ in ATTESTATIONS:
        assert when < "2026-03-31T12:00:00Z"
    for c in COMPLETIONS:
        assert c[2] < "2026-03-31 12:00", c
    for d in DOCUMENTS:
        assert d[5] <= "2026-03-31" and d[8] <= "2026-03-31", d
    for x in SHIFTS:
        assert x["start"] < x["end"], x
    for f in FINDINGS:
        assert f["created"] < AS_OF and (f["closed"] is None or f["created"] < f["closed"] < AS_OF), f


def findings_csv():
    header = ["Key", "Summary", "Issue Type", "Assignee", "Created", "Due Date", "Status",
              "Resolved", "Jira Issue", "Review"]
    rows = [[f["id"], f["title"], f["kind"], f["owner"] or "Unassigned", berlin(f["created"]), f["due"],
             f["status"], berlin(f["closed"]), f["jira"], f["pm"]] for f in FINDINGS]
    write("findings.csv", header, rows)


if __name__ == "__main__":
    build_oncall()
    check_before_as_of()
    os.makedirs(OUT, exist_ok=True)
    incidents_csv()
    notifications_csv()
    reporting_log_csv()
    postmortems_csv()
    findings_csv()
    shifts = oncall_ndjson()
    exercises_csv()
    documents_csv()
    people_json()
    training_csv()
    attestations_csv()
    waivers_yaml()
    print(f"wrote {len(INCIDENTS)} incidents, {len(NOTES)} + {len(GRC)} notifications, "
          f"{len(PIR)} postmortems, {len(FINDINGS)} findings, {shifts} on-call shifts, "
          f"{len(EXERCISES)} exercises, {len(DOCUMENTS)} documents, {len(PEOPLE)} people, "
          f"{len(COMPLETIONS)} training completions, {len(ATTESTATIONS)} attestations to {OUT}")
