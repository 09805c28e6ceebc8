#!/usr/bin/env python3
"""Benchmark driver for `make bench` (DESIGN §9): aigw vs nginx over TLS.

For each payload (small, medium, large pod; a policy validation) both servers
are driven by wrk with 32 keep-alive connections, in interleaved rounds so
machine drift cancels. nginx returns aigw's own reply for that payload from a
file, so both send the same bytes. Then a half-load run (each connection paced
to half of aigw's measured medium-pod rate) gives latency at 50% load.
Also: time from exec to /readyz, idle RSS, peak RSS (VmHWM), and, when the
reconciler and the test API server exist, the convergence figures
(bench/reconcile_bench.py). Results go to stdout and to --results.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PAYLOADS = [("small", "/mutate-pods"), ("medium", "/mutate-pods"), ("large", "/mutate-pods"),
            ("policy", "/validate")]
CONNECTIONS = 32


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_status(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids):
    """utime + stime of the given processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def http_ok(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
            return s.recv(64).startswith(b"HTTP/1.1 200") or False
    except OSError:
        return False


def stop(p):
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_wrk(url, body, seconds, delay_ms=0):
    env = dict(os.environ, BENCH_BODY=body, BENCH_DELAY_MS=str(delay_ms))
    out = subprocess.run(["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % seconds, "--timeout", "5s",
                          "-s", os.path.join(HERE, "post.lua"), url],
                         env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
            return r
    raise RuntimeError("wrk gave no result: %s %s" % (out.stdout, out.stderr))


def make_pair(out):
    key, crt = os.path.join(out, "tls.key"), os.path.join(out, "tls.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(key, 0o644)  # nginx workers may run as another user; throwaway bench key
    return crt, key


def start_aigw(args, crt, key, port, mport):
    cmd = [args.aigw, "serve", "--listen", "127.0.0.1:%d" % port, "--tls-cert", crt,
           "--tls-key", key, "--metrics-listen", "127.0.0.1:%d" % mport, "--log-level", "warn"]
    helptext = subprocess.run([args.aigw, "serve", "--help"], capture_output=True, text=True)
    if "--objects" in helptext.stdout + helptext.stderr:
        cmd += ["--objects", os.path.join(ROOT, "examples", "cluster")]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(args.out, "aigw.log"), "w"))
    deadline = t0 + 10
    while time.monotonic() < deadline:
        if http_ok(mport, "/readyz"):
            return p, (time.monotonic() - t0) * 1000
        if p.poll() is not None:
            raise RuntimeError("aigw exited: see %s/aigw.log" % args.out)
        time.sleep(0.001)
    stop(p)
    raise RuntimeError("aigw not ready within 10 s")


def start_nginx(out, crt, key, port):
    conf = os.path.join(out, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes %d;
pid %s/nginx.pid;
error_log %s/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path %s/tmp; proxy_temp_path %s/tmp; fastcgi_temp_path %s/tmp;
  uwsgi_temp_path %s/tmp; scgi_temp_path %s/tmp;
  client_max_body_size 8m;
  client_body_buffer_size 128k;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%d ssl;
    ssl_certificate %s; ssl_certificate_key %s;
    ssl_protocols TLSv1.2 TLSv1.3;
    root %s/replies;
    default_type application/json;
    # POST to a static file is 405; serve the file with 200 instead.
    location / { error_page 405 =200 $uri; }
  }
}
""" % (os.cpu_count() or 2, out, out, out, out, out, out, out, port, crt, key, out))
    os.makedirs(os.path.join(out, "tmp"), exist_ok=True)
    p = subprocess.Popen(["nginx", "-p", out, "-c", conf, "-g", "daemon off;"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.02)
    stop(p)
    raise RuntimeError("nginx did not start")


def capture_replies(out, crt, port, bodies):
    os.makedirs(os.path.join(out, "replies"), exist_ok=True)
    for name, path in PAYLOADS:
        reply = os.path.join(out, "replies", name)
        subprocess.run(["curl", "-sS", "--fail", "--cacert", crt, "-H", "Content-Type: application/json",
                        "--data-binary", "@" + bodies[name], "-o", reply,
                        "https://127.0.0.1:%d%s" % (port, path)], check=True)
        os.chmod(reply, 0o644)


def nginx_hwm(p):
    return sum(proc_status(pid, "VmHWM") for pid in [p.pid] + children(p.pid))


def fmt_table(rows):
    head = ["payload", "server", "req/s (median)", "p50 ms", "p99 ms", "p99.9 ms", "errors", "peak RSS MB",
            "server CPU us/req", "aigw/nginx req/s", "aigw/nginx CPU"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--aigw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-reconcile", action="store_true", help="skip the reconciler figures (quick runs)")
    args = ap.parse_args()
    args.aigw = os.path.abspath(args.aigw)
    out = os.path.abspath(args.out)
    args.out = out
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    subprocess.run([sys.executable, os.path.join(HERE, "make_bodies.py"), os.path.join(out, "bodies")], check=True)
    bodies = {n: os.path.join(out, "bodies", n + ".json") for n, _ in PAYLOADS}
    crt, key = make_pair(out)
    aport, mport, nport = free_port(), free_port(), free_port()
    aigw = nginx = None
    try:
        aigw, ready_ms = start_aigw(args, crt, key, aport, mport)
        time.sleep(1.0)
        idle_kb = proc_status(aigw.pid, "VmRSS")
        capture_replies(out, crt, aport, bodies)
        nginx = start_nginx(out, crt, key, nport)
        results = {(n, s): [] for n, _ in PAYLOADS for s in ("aigw", "nginx")}
        hwm = {}
        for rnd in range(args.rounds):
            for name, path in PAYLOADS:
                order = [("aigw", aport), ("nginx", nport)]
                if rnd % 2:
                    order.reverse()
                for server, port in order:
                    # nginx serves aigw's captured reply for this payload from replies/<name>
                    url_path = path if server == "aigw" else "/" + name
                    pids = [aigw.pid] if server == "aigw" else [nginx.pid] + children(nginx.pid)
                    c0 = cpu_seconds(pids)
                    r = run_wrk("https://127.0.0.1:%d%s" % (port, url_path), bodies[name], args.seconds)
                    r["cpu_us"] = (cpu_seconds(pids) - c0) * 1e6 / max(1, r["requests"])
                    results[(name, server)].append(r)
                    print("round %d %-6s %-5s %8.0f req/s p99 %.2f ms cpu %.1f us/req errors %d non2xx %d" % (
                        rnd + 1, name, server, r["rps"], r["p99_us"] / 1000, r["cpu_us"], r["errors"],
                        r["non2xx"]), flush=True)
                hwm[(name, "aigw")] = proc_status(aigw.pid, "VmHWM")
                hwm[(name, "nginx")] = nginx_hwm(nginx)
        rows = []
        medians = {}
        cpus = {}
        for name, _ in PAYLOADS:
            for server in ("aigw", "nginx"):
                rs = results[(name, server)]
                med = statistics.median(r["rps"] for r in rs)
                medians[(name, server)] = med
                p50 = statistics.median(r["p50_us"] for r in rs) / 1000
                p99 = statistics.median(r["p99_us"] for r in rs) / 1000
                p999 = statistics.median(r["p999_us"] for r in rs) / 1000
                errs = sum(r["errors"] + r["non2xx"] for r in rs)
                cpu = statistics.median(r["cpu_us"] for r in rs)
                cpus[(name, server)] = cpu
                ratio = "%.2f" % (medians[(name, "aigw")] / med) if server == "nginx" else ""
                cpu_ratio = "%.1fx" % (cpus[(name, "aigw")] / cpu) if server == "nginx" and cpu > 0 else ""
                rows.append([name, server, "%.0f" % med, "%.2f" % p50, "%.2f" % p99, "%.2f" % p999,
                             errs, "%.1f" % (hwm[(name, server)] / 1024), "%.1f" % cpu, ratio, cpu_ratio])
        # Half load: pace each connection to half of aigw's medium-pod rate.
        half_rate = medians[("medium", "aigw")] / 2
        delay_ms = max(1, int(CONNECTIONS * 1000 / half_rate))
        half = {}
        for server, port, url_path in (("aigw", aport, "/mutate-pods"), ("nginx", nport, "/medium")):
            half[server] = run_wrk("https://127.0.0.1:%d%s" % (port, url_path), bodies["medium"], args.seconds * 2, delay_ms)
        peak_kb = proc_status(aigw.pid, "VmHWM")
    finally:
        stop(aigw)
        stop(nginx)

    recon = ""
    rb = os.path.join(HERE, "reconcile_bench.sh")
    if args.no_reconcile:
        recon = "Not measured in this run (--no-reconcile).\n"
    elif os.path.exists(rb):
        r = subprocess.run([rb, args.aigw, os.path.join(out, "reconcile")],
                           capture_output=True, text=True, timeout=900)
        recon = r.stdout if r.returncode == 0 else "reconciler benchmark failed:\n```\n%s\n```\n" % (r.stdout + r.stderr)[-3000:]
    else:
        recon = "The reconciler benchmark (bench/reconcile_bench.sh) is not present in this build.\n"

    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
    med_ratio = medians[("medium", "aigw")] / medians[("medium", "nginx")]
    cpu_ratio = cpus[("medium", "aigw")] / max(cpus[("medium", "nginx")], 1e-9)
    report = """# aigw benchmark results

Run: {date} on {cores} cores ({cpu}); {rounds} interleaved rounds of {secs} s per payload and server,
wrk with {conns} keep-alive TLS connections. nginx {nginx} serves aigw's own reply for each payload
from a file (same bytes on the wire). Medians over rounds. Server CPU per request is the server
processes' user+system time (/proc/PID/stat; nginx: master and workers) over the run divided by
the requests answered; wrk shares the 2 cores, so req/s is bounded by both.

{table}

## Latency at half load (medium pod)

Each of the {conns} connections paced to {delay} ms between requests (about {half_rate:.0f} req/s, half
of aigw's measured medium-pod rate).

| server | req/s | p50 ms | p99 ms | p99.9 ms | errors |
|---|---|---|---|---|---|
| aigw | {ha[rps]:.0f} | {ha_p50:.2f} | {ha_p99:.2f} | {ha_p999:.2f} | {ha_err} |
| nginx | {hn[rps]:.0f} | {hn_p50:.2f} | {hn_p99:.2f} | {hn_p999:.2f} | {hn_err} |

## Start-up and memory (aigw)

- exec to `/readyz` 200: {ready:.1f} ms (target < 100 ms)
- idle RSS after start: {idle:.1f} MB (target < 6 MB)
- peak RSS (VmHWM) over the whole run: {peak:.1f} MB (target < 16 MB)

## Targets

- throughput on the medium pod: aigw/nginx = {ratio:.2f} (target >= 0.50): {ratio_ok}
- server CPU per medium-pod request: aigw {cpu_a:.1f} us, nginx {cpu_n:.1f} us, {cpu_ratio:.1f}x (target 2-4x): {cpu_ok}
- p99 at half load: {ha_p99:.2f} ms (target < 2 ms): {p99_ok}
- peak RSS: {peak:.1f} MB (target < 16 MB): {rss_ok}

## Reconciler

{recon}
""".format(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           cores=os.cpu_count(), cpu=cpu, rounds=args.rounds, secs=args.seconds, conns=CONNECTIONS,
           nginx=subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip().split("/")[-1],
           table=fmt_table(rows), delay=delay_ms, half_rate=half_rate,
           ha=half["aigw"], hn=half["nginx"],
           ha_p50=half["aigw"]["p50_us"] / 1000, ha_p99=half["aigw"]["p99_us"] / 1000,
           ha_p999=half["aigw"]["p999_us"] / 1000, ha_err=half["aigw"]["errors"] + half["aigw"]["non2xx"],
           hn_p50=half["nginx"]["p50_us"] / 1000, hn_p99=half["nginx"]["p99_us"] / 1000,
           hn_p999=half["nginx"]["p999_us"] / 1000, hn_err=half["nginx"]["errors"] + half["nginx"]["non2xx"],
           ready=ready_ms, idle=idle_kb / 1024, peak=peak_kb / 1024, ratio=med_ratio,
           cpu_a=cpus[("medium", "aigw")], cpu_n=cpus[("medium", "nginx")], cpu_ratio=cpu_ratio,
           cpu_ok="met" if cpu_ratio <= 4 else "MISSED (%.1fx)" % cpu_ratio,
           ratio_ok="met" if med_ratio >= 0.5 else "MISSED by %.0f%%" % ((0.5 - med_ratio) / 0.5 * 100),
           p99_ok="met" if half["aigw"]["p99_us"] < 2000 else "MISSED by %.2f ms" % (half["aigw"]["p99_us"] / 1000 - 2),
           rss_ok="met" if peak_kb < 16 * 1024 else "MISSED by %.1f MB" % (peak_kb / 1024 - 16),
           recon=recon)
    with open(args.results, "w") as f:
        f.write(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
