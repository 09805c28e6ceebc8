#!/usr/bin/env python3
"""Soak and abuse test for `make soak` (issue: prove it under load and bad input).

Runs `aigw serve` for SOAK_SECONDS (default 600) with:
  - good traffic: wrk, 32 keep-alive connections, paced to half of the rate
    measured in a short unpaced warm-up run;
  - the serving certificate rotated every 30 s (files replaced atomically);
  - bad requests mixed in, one every ~0.5 s, each checked for its error:
    garbage body (400), oversized body (413), plain HTTP to the TLS port (400),
    a client that stalls mid-body (the server must close it).
Checks: zero failed good requests, every bad request got its error, RSS growth
under 5% between the end of warm-up and the end, no leaked file descriptors.
Loopback only; bounded in time; every process is stopped by pid.
"""
import argparse
import json
import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_bench as rb  # noqa: E402  (shared helpers: ports, /proc, wrk)


def new_pair(out, tag):
    key, crt = os.path.join(out, "new.key"), os.path.join(out, "new.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=soak-%s" % tag,
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return crt, key


def rotate(out, crt, key, n):
    ncrt, nkey = new_pair(out, n)
    os.replace(nkey, key)
    os.replace(ncrt, crt)


def tls_conn(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    return ctx.wrap_socket(s)


def status_of(sock):
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    line = data.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def bad_garbage(port):
    with tls_conn(port) as s:
        body = b"\x00garbage{{{"
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        return status_of(s) == 400


def bad_oversized(port):
    with tls_conn(port) as s:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (8 * 1024 * 1024))
        s.sendall(b"{" * 65536)
        return status_of(s) == 413


def bad_plain(port):
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return status_of(s) == 400


def bad_stalled(port):
    with tls_conn(port) as s:
        s.sendall(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n{\"apiVersion\":")
        s.settimeout(60)
        t0 = time.monotonic()
        try:
            while s.recv(4096):
                pass
        except (socket.timeout, ConnectionError, ssl.SSLError):
            pass
        return time.monotonic() - t0 < 59  # closed by the server, not by our timeout


BAD = [bad_garbage, bad_oversized, bad_plain, bad_stalled]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aigw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(HERE, "make_bodies.py"), os.path.join(out, "bodies")], check=True)
    body = os.path.join(out, "bodies", "medium.json")
    crt, key = rb.make_pair(out)
    port, mport = rb.free_port(), rb.free_port()
    cmd = [args.aigw, "serve", "--listen", "127.0.0.1:%d" % port, "--tls-cert", crt, "--tls-key", key,
           "--metrics-listen", "127.0.0.1:%d" % mport, "--log-level", "warn",
           # the example cluster opts team-a in, so every pod is really injected
           "--objects", os.path.join(os.path.dirname(HERE), "examples", "cluster")]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(out, "aigw.log"), "w"))
    failures = []
    bad_stats = {f.__name__: [0, 0] for f in BAD}
    try:
        for _ in range(500):
            if rb.http_ok(mport, "/readyz"):
                break
            time.sleep(0.01)
        fd_base = len(os.listdir("/proc/%d/fd" % p.pid))
        warm = rb.run_wrk("https://127.0.0.1:%d/mutate-pods" % port, body, 5)
        rate = warm["rps"] / 2
        delay_ms = max(1, int(rb.CONNECTIONS * 1000 / rate))
        print("max %.0f req/s; soaking at ~%.0f req/s for %d s" % (warm["rps"], rate, args.seconds), flush=True)
        result = {}
        load = threading.Thread(target=lambda: result.update(
            rb.run_wrk("https://127.0.0.1:%d/mutate-pods" % port, body, args.seconds, delay_ms)))
        load.start()
        t0 = time.monotonic()
        warmup_end = t0 + min(60, args.seconds / 5)
        rss_warm = None
        next_rotate = t0 + 30
        rotations = 0
        rng = random.Random(42)
        while time.monotonic() < t0 + args.seconds - 2:
            now = time.monotonic()
            if rss_warm is None and now >= warmup_end:
                rss_warm = rb.proc_status(p.pid, "VmRSS")
            if now >= next_rotate:
                rotations += 1
                rotate(out, crt, key, rotations)
                next_rotate += 30
            f = rng.choice(BAD)
            ok = False
            try:
                ok = f(port)
            except OSError as e:
                failures.append("%s: %s" % (f.__name__, e))
            bad_stats[f.__name__][0] += 1
            bad_stats[f.__name__][1] += 1 if ok else 0
            if p.poll() is not None:
                failures.append("aigw exited during the soak")
                break
            time.sleep(0.5)
        load.join(timeout=args.seconds + 120)
        rss_end = rb.proc_status(p.pid, "VmRSS")
        time.sleep(1)
        fd_end = len(os.listdir("/proc/%d/fd" % p.pid))
    finally:
        rb.stop(p)
    good_failed = result.get("errors", -1) + result.get("non2xx", 0)
    growth = (rss_end - rss_warm) / rss_warm * 100 if rss_warm else 0.0
    print(json.dumps({"good_requests": result.get("requests"), "good_failed": good_failed,
                      "rotations": rotations, "bad": bad_stats, "rss_warm_kb": rss_warm,
                      "rss_end_kb": rss_end, "rss_growth_pct": round(growth, 2),
                      "fds_idle": fd_base, "fds_end": fd_end}, indent=1))
    if good_failed != 0:
        failures.append("%d good requests failed" % good_failed)
    for name, (sent, ok) in bad_stats.items():
        if sent != ok:
            failures.append("%s: %d of %d got the wrong answer" % (name, sent - ok, sent))
    if growth >= 5:
        failures.append("RSS grew %.1f%% after warm-up" % growth)
    if fd_end > fd_base:
        failures.append("file descriptors: %d idle, %d after the soak" % (fd_base, fd_end))
    if rotations == 0 and args.seconds > 40:
        failures.append("no certificate rotation happened")
    for f in failures:
        print("FAIL:", f)
    print("soak: %s" % ("passed" if not failures else "FAILED"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
