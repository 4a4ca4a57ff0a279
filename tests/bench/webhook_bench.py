#!/usr/bin/env python3
"""Webhook acknowledgement benchmark (run by hand, never by CTest).

Measures, on loopback, with wrk as the load generator:
  1. nginx answering a static 200 (the reference rate): to a plain GET, and to the very requests pgibot
     gets (same script and files, so wrk takes the same share of the two cores in both runs);
     with --floor, also ack_floor: the signature check and a raw durable append, nothing else, and
     ack_floor --store: the same minimal server doing the work pgibot may not leave out (parse, seal,
     commit to pgibot's SQLite store);
  2. pgibot acknowledging signed Facebook webhooks (verified, parsed, committed with fsync) at full load;
  3. pgibot's latency under a steady load of half its own full-load rate (p50/p99);
  4. pgibot's resident memory idle and after the load, and its start-up time to /healthz.

Usage: python3 tests/bench/webhook_bench.py [--pgibot build/release/bot/app/pgibot] [--seconds 10]
                                            [--events read] [--floor build/release/tests/bench/ack_floor]
Needs: wrk and nginx (apt-get install wrk nginx). Replies go to nginx standing in for the Graph API.
"""
import argparse
import glob
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

APP_SECRET = "bench-app-secret"
# System calls counted by --syscalls (the ones the acknowledgement path makes).
SYSCALLS = ("recvfrom", "read", "sendto", "sendmsg", "write", "writev", "pwrite64", "fdatasync", "fsync",
            "epoll_wait", "epoll_ctl", "futex", "pread64", "fcntl", "lseek")
PAGE_ID = "1000000000000001"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(url, seconds, connections, script=None, threads=2):
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        if m:
            v = float(m.group(1))
            lat[pct] = v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return rate, lat, int(non2xx.group(1)) if non2xx else 0, errors.group(0) if errors else "", out



def measured_wrk(results, key, url, pids, seconds, connections, script=None):
    """One wrk run recorded in `results` under `key`: <key>_rps, _latency_ms, _non2xx and the CPU time
    the processes `pids` spent per request (_cpu_us_per_request). Returns (rate, requests served)."""
    cpu_before = cpu_seconds(pids)
    rate, lat, non2xx, _, out = wrk(url, seconds, connections, script=script)
    served = int(re.search(r"(\d+) requests in", out).group(1))
    results[f"{key}_rps"] = rate
    results[f"{key}_latency_ms"] = lat
    results[f"{key}_non2xx"] = non2xx
    results[f"{key}_cpu_us_per_request"] = round((cpu_seconds(pids) - cpu_before) / served * 1e6, 1)
    return rate, served

NSTAT = ("TcpInSegs", "TcpOutSegs", "TcpExtDelayedACKs", "TcpExtTCPPureAcks", "TcpExtTCPHPAcks",
         "TcpExtTCPAutoCorking")


def nstat_delta(requests, reset=False):
    """TCP counters per request since the last call (loopback: both ends count), or None if nstat is absent."""
    if not shutil.which("nstat"):
        return None
    out = subprocess.run(["nstat", "-n"] if reset else ["nstat", "-z", *NSTAT], capture_output=True, text=True).stdout
    if reset:
        return None
    counts = {}
    for line in out.splitlines():
        cells = line.split()
        if len(cells) >= 2 and cells[0] in NSTAT:
            counts[cells[0]] = round(int(cells[1]) / max(requests, 1), 2)
    return counts


def cpu_times():
    with open("/proc/stat") as f:
        cells = f.readline().split()[1:]
    return [int(c) for c in cells[:8]]  # user nice system idle iowait irq softirq steal


def cpu_share(before, after):
    """Where the machine's CPU time went between two cpu_times() readings, in % of all cores."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    delta = [b - a for a, b in zip(before, after)]
    total = sum(delta) or 1
    return {n: round(100 * d / total, 1) for n, d in zip(names, delta) if d}


def commit_totals(port):
    """(commits, webhooks, seconds) of the inbox group commits so far, from pgibot's /metrics."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    values = {}
    for name in ("pgibot_inbox_commit_duration_seconds_count", "pgibot_inbox_commit_duration_seconds_sum",
                 "pgibot_inbox_commit_webhooks_sum"):
        m = re.search(rf"^{name}(?:{{}})? ([0-9.e+-]+)$", text, re.M)
        values[name] = float(m.group(1)) if m else 0.0
    return (values["pgibot_inbox_commit_duration_seconds_count"], values["pgibot_inbox_commit_webhooks_sum"],
            values["pgibot_inbox_commit_duration_seconds_sum"])


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pids):
    """User plus system CPU time consumed so far by these processes (all their threads)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """CPU seconds so far per thread name of a process (threads of one name summed)."""
    per = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        per[name] = per.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return per


def children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(p) for p in f.read().split()]


def make_requests(prefix, first, count, kind, threads, host):
    """Distinct signed deliveries, as ready-made HTTP requests: every mid is new, so every one is a
    real commit, not a duplicate. kind "text": a question (handled and answered); "read": a read
    receipt (committed, never answered), which isolates the acknowledgement path from the handling
    and sending it causes. Deliveries first..first+count-1 are dealt to files <prefix>-<thread>.bin,
    each request preceded by its length in 8 digits."""
    files = [open(f"{prefix}-{t}.bin", "wb") for t in range(threads)]
    try:
        for i in range(first, first + count):
            ts = 1764400000000 + i
            head = (f'{{"object":"page","entry":[{{"id":"{PAGE_ID}","time":{ts},"messaging":[{{"sender":'
                    f'{{"id":"user-{i % 5000}"}},"recipient":{{"id":"{PAGE_ID}"}},"timestamp":{ts},')
            if kind == "read":
                body = (head + f'"read":{{"watermark":{ts}}}}}]}}]}}').encode()
            else:
                body = (head + f'"message":{{"mid":"m.bench.{i}","text":"phân loại rác thế nào?"}}}}]}}]}}').encode()
            sig = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            request = (f"POST /webhooks/facebook HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                       f"X-Hub-Signature-256: sha256={sig}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
            files[i % threads].write(b"%08d" % len(request) + request)
    finally:
        for f in files:
            f.close()


LUA = r"""
-- Requests are made by the benchmark beforehand (make_requests): request() only reads the next one.
-- Formatting them here cost wrk about twice the CPU of a static request, which on the same two cores
-- capped the rate the server could show; loading them all in init() is no better, because wrk runs
-- each thread's init() after starting the threads before it, whose requests then count in a run
-- that has not started its clock.
local counter = 0
function setup(thread)
  thread:set("tid", counter); counter = counter + 1
end
function init(args)
  requests = assert(io.open(os.getenv("BENCH_REQUESTS") .. "-" .. tid .. ".bin", "rb"))
  pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
end
function request()
  local size = requests:read(8)
  if not size then  -- all sent: start over (the repeats are duplicates; the benchmark makes enough)
    requests:seek("set", 0)
    size = requests:read(8)
  end
  return requests:read(tonumber(size))
end
function delay()
  return pause
end
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pgibot", default="build/release/bot/app/pgibot")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--config", default=None, help="base config (default: config/pgibot.toml)")
    ap.add_argument("--events", choices=["text", "read"], default="text",
                    help="text: questions the bot answers; read: receipts (the acknowledgement path alone)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load before the runs")
    ap.add_argument("--floor", default=None,
                    help="also measure this ack_floor binary (build/release/tests/bench/ack_floor) under the same "
                         "load, twice: the signature check and a raw durable append, nothing else (floor_*); and "
                         "with --store, the same plus parse, seal and pgibot's SQLite store (floor_store_*)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    ap.add_argument("--syscalls", action="store_true",
                    help="count pgibot's system calls per request during the full-load run (perf stat)")
    ap.add_argument("--profile-event", default=None,
                    help="with --profile: sample this perf event (e.g. probe_libc:malloc) instead of CPU time")
    ap.add_argument("--count", default="",
                    help="comma-separated perf events to count per request and per thread during the full-load "
                         "run, e.g. probe_libc:malloc after `perf probe -x /lib/x86_64-linux-gnu/libc.so.6 malloc`")
    ap.add_argument("--profile", default=None,
                    help="write a perf profile (perf record -g) of pgibot during the full-load run to this file")
    args = ap.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            sys.exit(f"{tool} is missing: apt-get install wrk nginx")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tmp = tempfile.mkdtemp(prefix="pgibot-bench-")
    nginx_port, bot_port = free_port(), free_port()
    nginx_conf = os.path.join(tmp, "nginx.conf")
    with open(nginx_conf, "w") as f:
        f.write(f"""worker_processes 2; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off;
  server {{ listen 127.0.0.1:{nginx_port} reuseport; keepalive_requests 1000000;
    location / {{ default_type application/json; return 200 '{{"recipient_id":"u","message_id":"m"}}'; }} }} }}
""")
    nginx = subprocess.Popen(["nginx", "-c", nginx_conf, "-p", tmp], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    results = {}
    bot = None
    try:
        workers = children(nginx.pid)
        machine_before = cpu_times()
        nstat_delta(0, reset=True)
        # CPU time per request does not depend on what else runs on the machine, unlike the rates.
        rate_nginx, served = measured_wrk(results, "nginx", f"http://127.0.0.1:{nginx_port}/", workers, args.seconds,
                                          args.connections)
        results["nginx_tcp_per_request"] = nstat_delta(served)
        results["nginx_machine_cpu_percent"] = cpu_share(machine_before, cpu_times())

        # One set of deliveries per run, all distinct. The measured run may not outpace nginx by more
        # than 30% before repeating itself (repeats would be duplicates, acknowledged without a commit).
        per_second = max(rate_nginx, 20000)
        sets = {"warmup": per_second * args.warmup, "full": per_second * args.seconds * 1.3,
                "calibrate": per_second * 0.5 * 3 * 3, "paced": per_second * args.seconds * 0.8}
        first = 0
        for name, count in sets.items():
            if count > 0:
                make_requests(os.path.join(tmp, name), first, int(count), args.events, 2, f"127.0.0.1:{bot_port}")
                first += int(count)
        # The request files are ~100 MB of dirty pages: without this, the kernel writes them back ~30 s
        # later, in the middle of the measured runs, and the bot's fsyncs queue behind that.
        os.sync()
        script = os.path.join(tmp, "signed.lua")
        with open(script, "w") as f:
            f.write(LUA)
        # The same wrk load for both servers: nginx answers the very requests pgibot gets (same script,
        # same files, same connections), so the load generator takes the same CPU from the two cores in
        # both runs. The plain GET above costs wrk far less per request, which leaves nginx more CPU.
        os.environ.update(BENCH_REQUESTS=os.path.join(tmp, "full"))
        rate_same, _ = measured_wrk(results, "nginx_same_requests", f"http://127.0.0.1:{nginx_port}/webhooks/facebook",
                                    workers, args.seconds, args.connections, script=script)
        if args.floor:
            # The floor (ack_floor.cpp), twice: "floor" does only the signature check and a raw append
            # with fdatasync per group; "floor_store" adds the work pgibot may not leave out (parse,
            # sealing, pgibot's SQLite store) without pgibot's server. Each gets its first connections
            # on the warm-up set, so that every measured delivery is new to its store.
            for key, extra, data in (("floor", [], "floor.log"), ("floor_store", ["--store"], "floor.db")):
                floor = subprocess.Popen([args.floor] + extra + [os.path.join(tmp, data)], stdout=subprocess.PIPE,
                                         text=True, env=dict(os.environ, PGIBOT_FACEBOOK_APP_SECRET=APP_SECRET))
                try:
                    floor_port = int(floor.stdout.readline())
                    os.environ.update(BENCH_REQUESTS=os.path.join(tmp, "warmup"))
                    wrk(f"http://127.0.0.1:{floor_port}", 1, args.connections, script=script)  # first connections
                    os.environ.update(BENCH_REQUESTS=os.path.join(tmp, "full"))
                    measured_wrk(results, key, f"http://127.0.0.1:{floor_port}", [floor.pid], args.seconds,
                                 args.connections, script=script)
                finally:
                    floor.kill()
                    floor.wait()
                    for leftover in glob.glob(os.path.join(tmp, data + "*")):
                        os.remove(leftover)
        config = os.path.join(tmp, "pgibot.toml")
        with open(args.config or os.path.join(repo, "config", "pgibot.toml")) as src:
            text = src.read()
        text = text.replace('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{bot_port}"')
        text = text.replace('path = "../data/pgibot.db"', f'path = "{tmp}/bench.db"')
        text = text.replace('dir = "../messages/content"', f'dir = "{repo}/messages/content"')
        text = text.replace('key_file = "../data/pgibot.key"', f'key_file = "{tmp}/bench.key"')
        text = text.replace('level = "info"', 'level = "warn"')
        fb = text.index("[facebook]")
        head, tail = text[:fb], text[fb:]
        tail = tail.replace("enabled = false", "enabled = true", 1)
        tail = tail.replace('page_id = ""', f'page_id = "{PAGE_ID}"', 1).replace('app_id = ""', 'app_id = "1"', 1)
        tail = re.sub(r'graph_api_base = "[^"]*"', f'graph_api_base = "http://127.0.0.1:{nginx_port}/v25.0"', tail,
                      count=1)
        text = head + tail
        text = text.replace("subscription_check_minutes = 15", "subscription_check_minutes = 0")
        text = text.replace("send_rate_per_second = 20", "send_rate_per_second = 10000")
        with open(config, "w") as f:
            f.write(text)
        env = dict(os.environ, PGIBOT_FACEBOOK_APP_SECRET=APP_SECRET, PGIBOT_FACEBOOK_PAGE_TOKEN="t",
                   PGIBOT_FACEBOOK_VERIFY_TOKEN="v")

        started = time.monotonic()
        bot = subprocess.Popen([args.pgibot, "serve", "--config", config], env=env,
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "bot.log"), "w"))
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", bot_port, timeout=1)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - started > 10:
                sys.exit("pgibot did not start; see " + tmp + "/bot.log")
            time.sleep(0.001)
        results["startup_to_healthz_ms"] = round((time.monotonic() - started) * 1000, 1)
        time.sleep(1.0)
        results["idle_rss_mb"] = round(rss_kb(bot.pid) / 1024, 1)

        # Warm-up (not measured): first connections, first pages of a new database file, first
        # checkpoint. It has deliveries of its own, so every measured one is new.
        if args.warmup > 0:
            os.environ.update(BENCH_REQUESTS=os.path.join(tmp, "warmup"))
            wrk(f"http://127.0.0.1:{bot_port}", args.warmup, args.connections, script=script)
        os.environ.update(BENCH_REQUESTS=os.path.join(tmp, "full"))
        perf = None
        if args.profile:
            perf = subprocess.Popen(["perf", "record"] + (["-e", args.profile_event] if args.profile_event else ["-F", "999"]) + ["--call-graph", "dwarf,16384", "-p", str(bot.pid), "-o", args.profile],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        counter = None
        events = (["syscalls:sys_enter_" + c for c in SYSCALLS] if args.syscalls else []) + \
            [e for e in args.count.split(",") if e]
        if events:
            counter = subprocess.Popen(["perf", "stat", "--per-thread", "-x", ",", "-o",
                                        os.path.join(tmp, "counts.csv"), "-e", ",".join(events),
                                        "-p", str(bot.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        commits_before = commit_totals(bot_port)
        cpu_before = cpu_seconds([bot.pid])
        threads_before = thread_cpu(bot.pid)
        load_started = time.monotonic()
        machine_before = cpu_times()
        nstat_delta(0, reset=True)
        rate, lat, non2xx, errors, out = wrk(f"http://127.0.0.1:{bot_port}", args.seconds, args.connections,
                                             script=script)
        cpu_load = cpu_seconds([bot.pid]) - cpu_before
        load_seconds = time.monotonic() - load_started
        # Busy share of one core per thread name: a thread near 100% is the bottleneck.
        results["pgibot_thread_busy_percent"] = {
            name: round(100 * (seconds - threads_before.get(name, 0)) / load_seconds, 1)
            for name, seconds in sorted(thread_cpu(bot.pid).items())
            if seconds - threads_before.get(name, 0) > 0.01 * load_seconds}
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(30)
        if counter:
            counter.send_signal(signal.SIGINT)
            counter.wait(30)
        results["pgibot_rps"] = rate
        results["pgibot_latency_ms_full_load"] = lat
        results["pgibot_non2xx"] = non2xx
        results["ratio_to_nginx"] = round(rate / rate_nginx, 3)
        results["ratio_to_nginx_same_requests"] = round(rate / rate_same, 3)
        if args.floor:
            results["ratio_of_floor_to_nginx_same_requests"] = round(results["floor_rps"] / rate_same, 3)
            results["ratio_of_floor_store_to_nginx_same_requests"] = round(results["floor_store_rps"] / rate_same, 3)
        results["rss_after_load_mb"] = round(rss_kb(bot.pid) / 1024, 1)
        commits, webhooks, commit_seconds = (b - a for a, b in zip(commits_before, commit_totals(bot_port)))
        if commits:
            results["inbox_commits"] = {"per_second": round(commits / load_seconds),
                                        "webhooks_each": round(webhooks / commits, 1),
                                        "mean_ms": round(commit_seconds / commits * 1000, 3)}

        sent = int(re.search(r"(\d+) requests in", out).group(1))
        results["pgibot_tcp_per_request"] = nstat_delta(sent)
        results["pgibot_machine_cpu_percent"] = cpu_share(machine_before, cpu_times())
        # Includes the handling and sending the run caused while it lasted (none for receipts).
        results["pgibot_cpu_us_per_request"] = round(cpu_load / sent * 1e6, 1)
        if counter:
            # perf stat --per-thread -x, lines: "<comm>-<tid>,<count>,<unit>,<event>,..."; summed per thread name.
            per = {}
            with open(os.path.join(tmp, "counts.csv")) as f:
                for line in f:
                    cells = line.strip().split(",")
                    if len(cells) > 3 and cells[1].isdigit():
                        thread = cells[0].rsplit("-", 1)[0]
                        event = cells[3].rsplit("sys_enter_", 1)[-1]
                        row = per.setdefault(event, {})
                        row[thread] = row.get(thread, 0) + int(cells[1])
            results["pgibot_counts_per_request"] = {
                event: {thread: round(n / sent, 3) for thread, n in sorted(row.items()) if n}
                for event, row in per.items()}
        # Latency under a steady load the bot can carry: half its own full-load rate. wrk paces in
        # whole milliseconds, so each connection waits 1 ms after every answer and the rate is set
        # by the number of connections (the achieved rate is reported). Its deliveries are new again.
        paced = rate / 2
        # Each connection sends about one request per (1 ms + latency): the number of connections that
        # gives the target rate is found by up to three 3 s trials, on deliveries of their own.
        paced_connections = max(2, round(paced * 0.0018))
        os.environ.update(BENCH_DELAY_MS="1", BENCH_REQUESTS=os.path.join(tmp, "calibrate"))
        trials = []
        connections = paced_connections
        for _ in range(3):
            trial, _, _, _, _ = wrk(f"http://127.0.0.1:{bot_port}", 3, connections, script=script)
            trials.append([connections, trial])
            if abs(trial - paced) <= 0.05 * paced or trial <= 0:
                break
            connections = max(2, round(connections * min(2.0, paced / trial)))
        # The trial closest to the target (the rate is noisy here: the next count is not always better).
        paced_connections = min(trials, key=lambda t: abs(t[1] - paced))[0]
        results["paced_calibration"] = trials  # [connections, achieved rate] per trial
        os.environ.update(BENCH_REQUESTS=os.path.join(tmp, "paced"))
        rate_h, lat_h, non2xx_h, _, _ = wrk(f"http://127.0.0.1:{bot_port}", args.seconds, paced_connections,
                                            script=script)
        results["paced_target_rps"] = round(paced)
        results["paced_connections"] = paced_connections
        results["paced_achieved_rps"] = rate_h
        results["paced_latency_ms"] = lat_h
        results["paced_non2xx"] = non2xx_h
        # The same paced load on nginx: the latency this machine adds by itself (scheduling, steal).
        _, lat_nginx_h, _, _, _ = wrk(f"http://127.0.0.1:{nginx_port}/webhooks/facebook", args.seconds,
                                      paced_connections, script=script)
        results["nginx_paced_latency_ms"] = lat_nginx_h
    finally:
        if bot:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(30)
            except subprocess.TimeoutExpired:
                bot.kill()
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
