#!/usr/bin/env bash
# The independent view of a recording: what tshark (not netforensic) sees in its
# capture. Writes tshark-*.txt beside the capture; the recording's README quotes
# them and tools/crosscheck.py checks the truth files against them.
# Usage: bash testdata/scripts/record-tshark-views.sh testdata/recordings/NAME
set -euo pipefail
DIR=$1
CAP=$DIR/capture.pcapng
TS=(tshark -n -r "$CAP" -o tcp.desegment_tcp_streams:TRUE)

{
    printf '# first SYN of every TCP connection: epoch, src, sport, dst, dport\n'
    "${TS[@]}" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -E separator=/t \
        -e frame.time_epoch -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport
} >"$DIR/tshark-tcp-syn.txt" 2>/dev/null
{
    printf '# conversations (tshark -z conv,tcp -z conv,udp)\n'
    tshark -n -r "$CAP" -q -z conv,tcp -z conv,udp
} >"$DIR/tshark-conversations.txt" 2>/dev/null
{
    printf '# DNS responses: epoch, protocol column, client, client port, id, rcode, qname, qtype, cname, a, aaaa, txt\n'
    "${TS[@]}" -Y 'dns.flags.response==1' -T fields -E separator=/t -E occurrence=a -E aggregator=, \
        -e frame.time_epoch -e _ws.col.Protocol -e ip.dst -e udp.dstport -e tcp.dstport -e dns.id \
        -e dns.flags.rcode -e dns.qry.name -e dns.qry.type -e dns.cname -e dns.a -e dns.aaaa -e dns.txt
} >"$DIR/tshark-dns.txt" 2>/dev/null
{
    printf '# TLS ClientHello SNI and HTTP Host: epoch, src, sport, dst, dport, sni, http.host\n'
    "${TS[@]}" -Y 'tls.handshake.type==1 || http.request' -T fields -E separator=/t \
        -e frame.time_epoch -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
        -e tls.handshake.extensions_server_name -e http.host
} >"$DIR/tshark-names.txt" 2>/dev/null
{
    printf '# UDP datagrams other than DNS: epoch, src, sport, dst, dport, udp payload length\n'
    "${TS[@]}" -Y 'udp && !dns && !icmp && !icmpv6' -T fields -E separator=/t \
        -e frame.time_epoch -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport -e udp.length
} >"$DIR/tshark-udp.txt" 2>/dev/null
{
    printf '# capinfos of both captures\n'
    capinfos -t -E -c -u -a -e -M "$DIR/capture.pcap" "$DIR/capture.pcapng"
} >"$DIR/tshark-capinfos.txt" 2>/dev/null
wc -l "$DIR"/tshark-*.txt
