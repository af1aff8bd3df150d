#!/usr/bin/env python3
"""Small, deterministic network programs for the netforensic recordings.

Every client prints one JSON line per connection it made, with its own pid,
its own local address/port (from getsockname, i.e. from the program, not from
the capture) and the wall-clock times around connect() and close(). These lines
are the ground truth that `make_truth.py` turns into truth.tsv.

The program name seen by ss/netstat/lsof is the name of the symlink this script
is started through (argv[0] of the interpreter), so each client gets a
distinctive process name without copying the interpreter.

Every loop is bounded in count and time; servers stop after --lifetime seconds.
"""

import argparse
import json
import os
import socket
import sys
import threading
import time

# Upper bound for any single socket operation, so that nothing can hang.
SOCKET_TIMEOUT_S = 5.0
# Upper bound for one received message.
RECV_MAX = 4096


def comm():
    with open("/proc/self/comm", encoding="ascii") as f:
        return f.read().strip()


def emit(record):
    record.setdefault("pid", os.getpid())
    record.setdefault("program", comm())
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def resolve(name, port, family=socket.AF_UNSPEC):
    """Resolve through glibc (so the lookup is real DNS on the wire)."""
    qtypes = {socket.AF_INET: ["A"], socket.AF_INET6: ["AAAA"]}.get(family, ["A", "AAAA"])
    started = time.time()
    try:
        infos = socket.getaddrinfo(name, port, family, socket.SOCK_STREAM)
    except socket.gaierror as err:
        emit({"event": "resolve", "name_asked": name, "resolve_epoch": started,
              "error": err.strerror, "answers": [], "qtypes": qtypes})
        return None
    answers = []
    for info in infos:
        addr = info[4][0]
        if addr not in answers:
            answers.append(addr)
    emit({"event": "resolve", "name_asked": name, "resolve_epoch": started,
          "answers": answers, "qtypes": qtypes})
    return answers


def tcp_session(args, remote_addr, name_asked, tag=None):
    """One TCP connection: connect, exchange lines, close; report it."""
    family = socket.AF_INET6 if ":" in remote_addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(SOCKET_TIMEOUT_S)
    if args.reuseaddr:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.local_port:
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", args.local_port))
    target = (remote_addr, args.port)
    if family == socket.AF_INET6:
        # Numeric resolution turns "fe80::1%nfc0" into (addr, port, flowinfo, scope_id).
        target = socket.getaddrinfo(remote_addr, args.port, socket.AF_INET6, socket.SOCK_STREAM,
                                    0, socket.AI_NUMERICHOST)[0][4]
    start = time.time()
    sock.connect(target)
    local = sock.getsockname()
    sharer = None
    if getattr(args, "fork_hold", 0):
        # A child that inherits the connected socket and only holds it: two
        # processes own one socket, as after fork() in pre-forking servers.
        sharer = os.fork()
        if sharer == 0:
            time.sleep(args.fork_hold)
            os._exit(0)
    replies = 0
    try:
        for i in range(args.lines):
            if i:
                time.sleep(args.interval)
            sock.sendall(f"{args.send} {i}\n".encode())
            if sock.recv(RECV_MAX):
                replies += 1
        if args.hold:
            time.sleep(args.hold)
        if args.server_close:
            # Ask the server to close first: the server side then holds TIME_WAIT,
            # and this local port is free again at once.
            sock.sendall(b"CLOSE\n")
            while sock.recv(RECV_MAX):
                pass
    finally:
        sock.close()
    record = {"event": "tcp", "local_addr": local[0], "local_port": local[1],
              "remote_addr": remote_addr, "remote_port": args.port,
              "start_epoch": start, "end_epoch": time.time(),
              "name_asked": name_asked or "-", "replies": replies}
    if tag is not None:
        record["tag"] = tag
    if sharer:
        # The connection ends when the last holder closes it: the child's exit.
        os.waitpid(sharer, 0)
        record["also_held_by_pid"] = sharer
        record["parent_closed_epoch"] = record["end_epoch"]
        record["end_epoch"] = time.time()
    emit(record)


def cmd_tcp(args):
    name_asked = None
    remote = args.addr
    if args.name:
        answers = resolve(args.name, args.port)
        if not answers:
            return 1
        name_asked = args.name
        if args.delay_after_resolve:
            time.sleep(args.delay_after_resolve)
        remote = answers[0]
    tcp_session(args, remote, name_asked)
    return 0


def cmd_beacon(args):
    """A long-lived process that opens a new connection every --every seconds."""
    remote = args.addr
    name_asked = None
    if args.name:
        answers = resolve(args.name, args.port, socket.AF_INET)
        if not answers:
            return 1
        remote = answers[0]
        name_asked = args.name
    threads = []
    for i in range(args.count):
        t = threading.Thread(target=tcp_session, args=(args, remote, name_asked, i))
        t.start()
        threads.append(t)
        time.sleep(args.every)
    for t in threads:
        t.join(SOCKET_TIMEOUT_S + args.hold + 1)
    return 0


def cmd_resolve(args):
    resolve(args.name, 0)
    return 0


def cmd_udp_send(args):
    """Unconnected UDP socket: sendto() without connect(), as syslog shippers do."""
    family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    start = None
    local = None
    for i in range(args.count):
        if i:
            time.sleep(args.interval)
        now = time.time()
        sock.sendto(f"{args.send} {i}\n".encode(), (args.addr, args.port))
        if start is None:
            start = now
            local = sock.getsockname()
    if args.hold:
        time.sleep(args.hold)
    sock.close()
    emit({"event": "udp", "local_addr": local[0], "local_port": local[1],
          "remote_addr": args.addr, "remote_port": args.port,
          "start_epoch": start, "end_epoch": time.time(), "datagrams": args.count,
          "name_asked": "-"})
    return 0


def serve_tcp_client(conn):
    conn.settimeout(SOCKET_TIMEOUT_S * 4)
    try:
        buf = b""
        while True:
            data = conn.recv(RECV_MAX)
            if not data:
                break
            buf += data
            close = False
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if line == b"CLOSE":
                    close = True
                    break
                conn.sendall(b"ok " + line + b"\n")
            if close or len(buf) > RECV_MAX:
                break
    except OSError:
        pass
    finally:
        conn.close()


def cmd_tcp_server(args):
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind((args.bind, args.port))
    srv.listen(64)
    srv.settimeout(0.5)
    emit({"event": "listen", "local_addr": args.bind, "local_port": args.port})
    deadline = time.time() + args.lifetime
    while time.time() < deadline:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve_tcp_client, args=(conn,), daemon=True).start()
    srv.close()
    return 0


def cmd_udp_sink(args):
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((args.bind, args.port))
    sock.settimeout(0.5)
    deadline = time.time() + args.lifetime
    while time.time() < deadline:
        try:
            sock.recvfrom(RECV_MAX)
        except socket.timeout:
            continue
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    def client_opts(sp):
        sp.add_argument("--name", help="resolve this name first (real DNS via glibc)")
        sp.add_argument("--addr", help="connect to this address (no lookup)")
        sp.add_argument("--port", type=int, required=True)
        sp.add_argument("--local-port", type=int, default=0)
        sp.add_argument("--reuseaddr", action="store_true")
        sp.add_argument("--lines", type=int, default=1)
        sp.add_argument("--interval", type=float, default=1.0)
        sp.add_argument("--hold", type=float, default=0.0)
        sp.add_argument("--send", default="hello")
        sp.add_argument("--server-close", action="store_true")
        sp.add_argument("--delay-after-resolve", type=float, default=0.0)
        sp.add_argument("--fork-hold", type=float, default=0.0,
                        help="after connect, fork a child that holds the socket this long")

    client_opts(sub.add_parser("tcp"))
    b = sub.add_parser("beacon")
    client_opts(b)
    b.add_argument("--count", type=int, default=15)
    b.add_argument("--every", type=float, default=1.0)
    r = sub.add_parser("resolve")
    r.add_argument("name")
    u = sub.add_parser("udp-send")
    u.add_argument("--addr", required=True)
    u.add_argument("--port", type=int, required=True)
    u.add_argument("--count", type=int, default=5)
    u.add_argument("--interval", type=float, default=1.0)
    u.add_argument("--hold", type=float, default=0.0)
    u.add_argument("--send", default="<14>log line")
    for name in ("tcp-server", "udp-sink"):
        s = sub.add_parser(name)
        s.add_argument("--bind", required=True)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--lifetime", type=float, default=120.0)

    args = p.parse_args()
    handlers = {"tcp": cmd_tcp, "beacon": cmd_beacon, "resolve": cmd_resolve,
                "udp-send": cmd_udp_send, "tcp-server": cmd_tcp_server,
                "udp-sink": cmd_udp_sink}
    return handlers[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
