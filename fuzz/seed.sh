#!/usr/bin/env bash
# Seed the fuzz corpora (fuzz/corpus/<target>/, not committed) from the demo catalog,
# sources and exports, the reference benchmark's files, and a few crafted inputs for
# the mappings of records_read. Safe to re-run: files are named by content.
set -euo pipefail
cd "$(dirname "$0")"
root=..
c=corpus
mkdir -p $c/catalog_load $c/sources_compile $c/records_read $c/time_parse $c/filter_eval $c/check_run

put() { # put TARGET FILE: copy under its sha1 name
  local h; h=$(sha1sum "$2" | cut -c1-40); cp "$2" "$c/$1/$h"
}
putb() { # putb TARGET SELECTOR-BYTE FILE: one selector byte, then the file
  local t; t=$(mktemp); printf "\\x$(printf %02x "$2")" > "$t"; cat "$3" >> "$t"; put "$1" "$t"; rm -f "$t"
}
puts() { # puts TARGET SELECTOR-BYTE TEXT
  local t; t=$(mktemp); printf "\\x$(printf %02x "$2")" > "$t"; printf '%s' "$3" >> "$t"; put "$1" "$t"; rm -f "$t"
}

while IFS= read -r -d '' f; do put catalog_load "$f"; done < <(find $root/controls $root/benches/reference -name '*.yaml' -print0)
[ -d $root/tests/bad_inputs ] && while IFS= read -r -d '' f; do
  case "$f" in */controls/*) put catalog_load "$f";; */sources.yaml) put sources_compile "$f";; esac
done < <(find $root/tests/bad_inputs -name '*.yaml' -print0)
put sources_compile $root/evidence/sources.yaml
put sources_compile $root/benches/reference/sources.yaml

# records_read: selector byte = mapping (see fuzz_targets/records_read.rs).
for f in $root/evidence/*.csv; do putb records_read 0 "$f"; putb records_read 5 "$f"; done
puts records_read 0 $'\xef\xbb\xbfIncident ID,Title,Severity,Type,Detected At,Declared At,Contained At,Resolved At,Customer Impact,Personal Data Breach,Users,Notified At\r\nINC-1,Key leak,SEV1,security-incident,2025-03-09T01:59:00,2025-03-09T03:00:00,2025-11-02T01:30:00,2025-03-10,Yes,No,12,2025-03-10T10:00:00Z\r\nINC-2,"multi\nline",SEV2,event,N/A,2024-02-29,,2025-02-30,No,,x,\r\n'
puts records_read 1 $'id;title;declared_at;resolved_at;data_breach;users_affected\n1;a;30/03/2025 02:30;26/10/2025 02:30;true;5\n2;b;29/02/2024 10:00;31/04/2025 10:00;false;-1\n'
puts records_read 2 '{"data":[{"key":"A-1","fields":{"summary":"s","created":"2025-01-01T00:00:00","resolutiondate":null,"priority":{"name":"High"},"breach":true,"users":3}},{"key":"A-1","fields":{"created":1}},7]}'
puts records_read 3 '[{"id":"1","declared_at":"2025-01-01T00:00:00Z","data_breach":"true","users_affected":1e3},{"id":2,"title":["x"]},{"id":"3","id":"4"}]'
puts records_read 4 $'{"id":"1","declared_at":"2025-04-06T01:45:00","resolved_at":"2025-10-05"}\n\n{"id":"2","declared_at":"2025-10-05T02:15:00"}\nnot json\n[1]\n'
puts records_read 5 $'id,parent,title,incident_id,lapses,completed_at\nI-1,,t,,,\nN-1,I-1,n,I-1,a|b,2025-01-01T00:00:00Z\nN-2,I-9,n,I-9,,\n'
puts records_read 6 $'{"id":"I-1"}\n{"id":"P-1","parent":"I-1","completed_at":"2025-01-01T00:00:00Z"}\n{"id":"F-1","parent":"P-1","due_at":"2025-03-30","created_at":"2025-03-30T02:30:00"}\n'

# filter_eval: selector byte (table, as-of), then a `where:` as JSON.
for w in '{"data_breach":true}' '{"severity":["sev1","sev2"]}' '{"resolved_at":null}' '{"title":{"set":true}}' \
         '{"title":{"matches":"^Leak"}}' '{"declared_at":{"before":"as_of"}}' '{"declared_at":{"not_after":"resolved_at"}}' \
         '{"declared_at":{"within_last":"1y"}}' '{"any":[{"customer_impacting":true},{"data_breach":true}]}' \
         '{"all":[{"classification":"security-incident"},{"not":{"status":"closed"}}]}' '[{"users_affected":120},{"users_affected":{"in":[0,-5]}}]' \
         '{"declared_at":{"after":"2025-01-01T00:00:00Z"}}'; do
  puts filter_eval 0 "$w"; puts filter_eval 2 "$w"
done
for w in '{"lapses":"technical"}' '{"lapses":["technical","process"]}' '{"lapses":{"set":false}}' '{"completed_at":{"within_last":"10bd"}}' '{"status":{"eq":"complete"}}'; do
  puts filter_eval 1 "$w"; puts filter_eval 3 "$w"
done
echo "seeded: $(for d in $c/*; do printf '%s=%s ' "$(basename $d)" "$(ls $d | wc -l)"; done)"
