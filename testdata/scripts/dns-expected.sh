#!/bin/sh
# Regenerate the DNS and naming expectations from tshark (an independent decoder).
#   testdata/scripts/dns-expected.sh            (run from the repository root)
# Writes, for every capture listed in DNS_CAPTURES / NAME_CAPTURES below:
#   testdata/expected/dns/<capture>.responses.tsv   frame, dns.id, question, answer-section A/AAAA
#   testdata/expected/dns/<capture>.payloads.tsv    DNS-port payloads (input fixture for tests
#                                                    that run before/without the capture reader)
#   testdata/expected/naming/<capture>.names.tsv    client, server, kind, name (SNI / Host)
# Requires tshark (4.0 was used) and python3.
set -eu
exec python3 "$(dirname "$0")/dns_expected.py" "$@"
