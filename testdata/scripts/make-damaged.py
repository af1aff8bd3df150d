#!/usr/bin/env python3
"""Derive damaged captures from real ones in testdata/captures/ into testdata/damaged/, and
record what tshark's reader (capinfos) recovers from each in testdata/damaged/expected.tsv.

Every edit is deterministic and in place (offsets of untouched bytes do not move), except
truncation and concatenation. expected.tsv columns:
  file        damaged file in testdata/damaged/
  source      the undamaged original in testdata/captures/ ("-" for made-up files)
  kind        what was done
  touched     original byte range [start,end) the damage overlaps, widened to whole records
  original    records in the original (capinfos)
  tshark      records capinfos reads from the damaged file before it gives up
  genuine     of those, how many are records of the original (same time and MD5 of the
              bytes, as tshark computes them), so phantom records read from damage do not count
  readable    "yes" if capinfos opens the file at all, else "no"
Usage: python3 testdata/scripts/make-damaged.py   (needs capinfos and tshark from Wireshark)
"""
import os
import re
import struct
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(REPO, "testdata", "captures")
OUT = os.path.join(REPO, "testdata", "damaged")
PCAP = "zeek_wikipedia.pcap"
PCAPNG = "apple-tcpdump_radar-74957353.pcapng"


def pcap_records(b):
    """(start, end) of every record of a little- or big-endian pcap file."""
    order = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, pos = [], 24
    while pos + 16 <= len(b):
        caplen = struct.unpack(order + "I", b[pos + 8:pos + 12])[0]
        out.append((pos, pos + 16 + caplen))
        pos += 16 + caplen
    return out, order


def pcapng_blocks(b):
    """(start, end, type) of every block of a little-endian pcapng file."""
    out, pos = [], 0
    while pos + 12 <= len(b):
        btype, length = struct.unpack("<II", b[pos:pos + 8])
        out.append((pos, pos + length, btype))
        pos += length
    return out


def noise(n, seed=12345):
    out = bytearray()
    for _ in range(n):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % 2**64
        out.append(seed >> 56)
    return bytes(out)


def widen(records, a, b):
    """The byte range of every record overlapping [a, b)."""
    hit = [(s, e) for s, e in records if s < b and e > a]
    return (min(s for s, _ in hit), max(e for _, e in hit)) if hit else (a, b)


def capinfos_count(path):
    """(records capinfos reads, whether it opened the file)."""
    run = subprocess.run(["capinfos", "-T", "-r", "-c", path], capture_output=True, text=True)
    text = run.stdout + run.stderr
    partial = re.search(r"after reading (\d+) packets", text)
    if partial:
        return int(partial.group(1)), True
    for line in run.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) == 2 and fields[1].isdigit():
            return int(fields[1]), True
    return 0, False


def tshark_frames(path):
    """(epoch time, MD5 of the captured bytes) of every frame tshark reads."""
    run = subprocess.run(
        ["tshark", "-o", "frame.generate_md5_hash:TRUE", "-r", path, "-T", "fields",
         "-e", "frame.time_epoch", "-e", "frame.md5_hash"],
        capture_output=True, text=True)
    return [tuple(line.split("\t")) for line in run.stdout.splitlines() if line]


def genuine(path, source):
    """How many frames tshark reads from `path` are frames of `source` (multiset match)."""
    if source == "-":
        return 0
    remaining = {}
    for frame in tshark_frames(os.path.join(CAPTURES, source)):
        remaining[frame] = remaining.get(frame, 0) + 1
    count = 0
    for frame in tshark_frames(path):
        if remaining.get(frame, 0) > 0:
            remaining[frame] -= 1
            count += 1
    return count


def main():
    os.makedirs(OUT, exist_ok=True)
    made = []  # (file, source, kind, touched, bytes)

    src = open(os.path.join(CAPTURES, PCAP), "rb").read()
    records, order = pcap_records(src)
    n = len(records)

    # Cut in the middle of the last record's data.
    s, e = records[-1]
    made.append(("pcap-truncated-last.pcap", PCAP, "truncated mid last record", (s, len(src)), src[:s + (e - s) // 2]))
    # Cut in the middle of a record at 60%: everything after it is gone.
    s, e = records[n * 6 // 10]
    made.append(("pcap-truncated-mid.pcap", PCAP, "truncated mid record", (s, len(src)), src[:s + 7]))
    # Flip every bit of 64 bytes starting inside a record header at 50%.
    s, _ = records[n // 2]
    b = bytearray(src)
    for i in range(s + 4, s + 68):
        b[i] ^= 0xFF
    made.append(("pcap-flipped.pcap", PCAP, "64 bytes flipped", widen(records, s + 4, s + 68), bytes(b)))
    # Zero 3000 bytes from 40% of the file.
    a = len(src) * 2 // 5
    b = bytearray(src)
    b[a:a + 3000] = bytes(3000)
    made.append(("pcap-zeroed.pcap", PCAP, "3000 bytes zeroed", widen(records, a, a + 3000), bytes(b)))
    # Overwrite 2000 bytes at 70% with noise.
    a = len(src) * 7 // 10
    b = bytearray(src)
    b[a:a + 2000] = noise(2000)
    made.append(("pcap-noise.pcap", PCAP, "2000 bytes of noise", widen(records, a, a + 2000), bytes(b)))
    # An absurd record length (caplen and orig_len 0x7ffffff0) at 30%.
    s, e = records[n * 3 // 10]
    b = bytearray(src)
    b[s + 8:s + 16] = struct.pack(order + "II", 0x7FFFFFF0, 0x7FFFFFF0)
    made.append(("pcap-absurd-length.pcap", PCAP, "absurd record length", (s, e), bytes(b)))
    # Two captures one after the other: a second file header mid-stream, nothing lost.
    made.append(("pcap-concatenated.pcap", PCAP, "concatenated with itself", (len(src), len(src)), src + src))

    src = open(os.path.join(CAPTURES, PCAPNG), "rb").read()
    blocks = pcapng_blocks(src)
    packets = [(s, e) for s, e, t in blocks if t in (6, 3, 2)]
    m = len(packets)
    # The trailing length of a packet block at 50% does not match its leading one.
    s, e = packets[m // 2]
    b = bytearray(src)
    b[e - 4:e] = struct.pack("<I", (e - s) + 8)
    made.append(("pcapng-bad-trailing-length.pcapng", PCAPNG, "trailing block length mismatch", (s, e), bytes(b)))
    # An absurd leading block length at 30%.
    s, e = packets[m * 3 // 10]
    b = bytearray(src)
    b[s + 4:s + 8] = struct.pack("<I", 0x7FFFFFF0)
    made.append(("pcapng-absurd-length.pcapng", PCAPNG, "absurd block length", (s, e), bytes(b)))
    # Zero 4000 bytes from 40%.
    a = len(src) * 2 // 5
    b = bytearray(src)
    b[a:a + 4000] = bytes(4000)
    made.append(("pcapng-zeroed.pcapng", PCAPNG, "4000 bytes zeroed", widen(packets, a, a + 4000), bytes(b)))
    # Cut in the middle of a packet block at 80%.
    s, e = packets[m * 8 // 10]
    made.append(("pcapng-truncated-mid.pcapng", PCAPNG, "truncated mid block", (s, len(src)), src[:s + (e - s) // 2]))

    made.append(("empty.pcap", "-", "empty file", (0, 0), b""))
    made.append(("garbage.pcap", "-", "4096 bytes of noise", (0, 0), noise(4096, seed=99)))

    rows = ["file\tsource\tkind\ttouched\toriginal\ttshark\tgenuine\treadable"]
    for name, source, kind, (a, b_), data in made:
        path = os.path.join(OUT, name)
        with open(path, "wb") as f:
            f.write(data)
        original = capinfos_count(os.path.join(CAPTURES, source))[0] if source != "-" else 0
        theirs, readable = capinfos_count(path)
        rows.append(f"{name}\t{source}\t{kind}\t{a},{b_}\t{original}\t{theirs}\t{genuine(path, source)}\t{'yes' if readable else 'no'}")
    with open(os.path.join(OUT, "expected.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
