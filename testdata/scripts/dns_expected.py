"""Generate DNS / naming expectations with tshark. See dns-expected.sh."""
import json
import os
import subprocess
import sys

CAPTURES = "testdata/captures"
OUT_DNS = "testdata/expected/dns"
OUT_NAMING = "testdata/expected/naming"
# Decode these non-standard ports as DNS too (the corpus has DNS on 8053).
DECODE_AS = ["-d", "udp.port==8053,dns"]
# Captures where tshark shows no name but ours must not invent one either (QUIC v2 and a
# ClientHello split over Initials, both without SNI; DTLS without SNI).
EXTRA_NAMING = {"zeek_quicv2-http3-443.pcap", "nfstream_quic_frags_ch_in_multiple_packets.pcapng",
                "zeek_dtls1_2.pcap", "zeek_tls1.2.pcap", "zeek_hrr.pcap"}
DNS_PORTS = "{53, 137, 5353, 5355, 8053}"


def tshark(path, *args):
    return subprocess.run(
        ["tshark", "-n", "-r", path, *DECODE_AS, *args],
        check=False, capture_output=True, text=True,
    ).stdout


def last(value):
    """Fields with several occurrences (tunnels) are comma-joined: the innermost is last."""
    return value.split(",")[-1] if value else ""


def walk_answers(layer):
    """A/AAAA addresses of the Answers section of one dns/mdns layer of tshark's JSON."""
    out = []
    answers = layer.get("Answers", {})
    for rr in answers.values():
        if isinstance(rr, dict):
            for key in ("dns.a", "dns.aaaa"):
                if key in rr:
                    out.append(rr[key])
    return out


def responses(path):
    text = tshark(path, "-Y", "(dns or mdns or llmnr) and dns.flags.response==1", "-T", "json")
    try:
        packets = json.loads(text) if text.strip() else []
    except json.JSONDecodeError:
        return []
    rows = []
    for p in packets:
        layers = p["_source"]["layers"]
        frame = layers["frame"]["frame.number"]
        for proto in ("dns", "mdns", "llmnr"):
            layer = layers.get(proto)
            if layer is None:
                continue
            for one in layer if isinstance(layer, list) else [layer]:
                ident = int(one.get("dns.id", "0x0"), 16)
                queries = one.get("Queries", {})
                qname = ""
                for q in queries.values():
                    if isinstance(q, dict):
                        qname = q.get("dns.qry.name", "")
                        break
                rows.append((frame, str(ident), qname, ",".join(walk_answers(one))))
    return rows


def payloads(path, display_filter=None):
    fields = ["frame.time_epoch", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst",
              "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport", "tcp.seq_raw",
              "udp.payload", "tcp.payload"]
    if display_filter is None:
        display_filter = f"(udp.port in {DNS_PORTS} and udp.length > 8) or (tcp.port == 53 and tcp.len > 0)"
    args = ["-Y", display_filter,
            "-T", "fields", "-E", "occurrence=a"]
    for f in fields:
        args += ["-e", f]
    rows = []
    for line in tshark(path, *args).splitlines():
        c = line.split("\t")
        if len(c) < len(fields):
            continue
        ts, ip4s, ip6s, ip4d, ip6d, us, ud, ts_, td, seq, up, tp = c
        src, dst = last(ip4s) or last(ip6s), last(ip4d) or last(ip6d)
        if up:
            rows.append((ts, "udp", src, last(us), dst, last(ud), "-", last(up)))
        elif tp:
            rows.append((ts, "tcp", src, last(ts_), dst, last(td), last(seq), last(tp)))
    return rows


def names(path):
    fields = ["ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.srcport", "udp.srcport",
              "tcp.dstport", "udp.dstport", "tls.handshake.extensions_server_name",
              "dtls.handshake.extensions_server_name", "http.host", "quic.version"]
    args = ["-o", "tcp.desegment_tcp_streams:TRUE", "-Y",
            "tls.handshake.extensions_server_name or dtls.handshake.extensions_server_name or (http.host and tcp)",
            "-T", "fields", "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    rows = set()
    for line in tshark(path, *args).splitlines():
        c = line.split("\t")
        if len(c) < len(fields):
            continue
        src = c[0] or c[1]
        dst = c[2] or c[3]
        sport = c[4] or c[5]
        dport = c[6] or c[7]
        if c[8]:
            kind = "quic_sni" if c[11] else "sni"
            name = c[8]
        elif c[9]:
            kind, name = "dtls_sni", c[9]
        else:
            kind, name = "http_host", c[10].rsplit(":", 1)[0] if c[10].count(":") == 1 else c[10]
        rows.add((src, sport, dst, dport, kind, name))
    return sorted(rows)


def write(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")


def main():
    for name in sorted(os.listdir(CAPTURES)):
        path = os.path.join(CAPTURES, name)
        r = responses(path)
        p = payloads(path)
        if r or p:
            write(os.path.join(OUT_DNS, name + ".responses.tsv"), r)
            write(os.path.join(OUT_DNS, name + ".payloads.tsv"), p)
        n = names(path)
        if n or name in EXTRA_NAMING:
            write(os.path.join(OUT_NAMING, name + ".names.tsv"), n)
            # Every TCP/UDP payload, as input for the name sniffer tests.
            write(os.path.join(OUT_NAMING, name + ".payloads.tsv"),
                  payloads(path, "(tcp.len > 0) or (udp.length > 8)"))


if __name__ == "__main__":
    sys.exit(main())
