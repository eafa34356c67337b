#!/usr/bin/env python3
"""Measurement helpers for bench/booking_load.sh (standard library only).

  booking_stats.py snap PORT SERVER_PID                 -> JSON snapshot on stdout
  booking_stats.py phase KIND NAME BEFORE AFTER OUT TIME [PGLOG_PREFIX]
                                                        -> one JSON result line on stdout
  booking_stats.py report RESULTS_JSONL                 -> Markdown tables on stdout

A snapshot holds /proc/loadavg, machine CPU jiffies, the server's CPU time, PostgreSQL's CPU
time (live `postgres` processes plus what the postmaster reaped from exited backends) and
the sums/counts of the server's Prometheus histograms. KIND is `pgbench` or `wrk`; OUT is
the tool's output, TIME the `/usr/bin/time -f "%e %U %S"` line of the tool.
"""

import glob
import json
import os
import re
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
HOLD_ROUTE = ("POST", "/api/v1/bookings")
PAY_ROUTE = ("POST", "/api/v1/bookings/{id}/payments")


def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime=14, stime=15, cutime=16, cstime=17, ppid=4
    return comm, int(fields[1]), [int(x) for x in fields[11:15]]


def proc_memory_kib(pid):
    """VmRSS and VmHWM (peak RSS) of a process, in KiB; zeros if it is gone."""
    out = {"VmRSS": 0, "VmHWM": 0}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key = line.split(":", 1)[0]
                if key in out:
                    out[key] = int(line.split()[1])
    except OSError:
        pass
    return out


def postgres_ticks():
    total = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        st = proc_stat(d)
        if st is None or st[0] != "postgres":
            continue
        comm, ppid, (ut, stt, cut, cst) = st
        total += ut + stt
        parent = proc_stat(ppid)
        if parent is None or parent[0] != "postgres":  # the postmaster: add reaped children
            total += cut + cst
    return total


def metrics(port):
    """The metrics of the server whose CINEFLOW_METRICS_LISTEN port is `port`."""
    out = {"component": {}, "http": {}}
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return out
    for line in text.splitlines():
        m = re.match(r"^(cineflow_\w+?)_(sum|count)\{(.*)\}\s+(\S+)$", line)
        if not m:
            continue
        name, kind, labels, value = m.groups()
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels))
        if name == "cineflow_component_call_duration_seconds":
            key = labels.get("hook", "?")
        elif name == "cineflow_http_request_duration_seconds":
            key = labels.get("method", "?") + " " + labels.get("route", "?")
        else:
            continue
        group = out["component" if name.startswith("cineflow_component") else "http"]
        group.setdefault(key, {"sum": 0.0, "count": 0.0})[kind] += float(value)
    return out


def snap(port, server_pid):
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:9]]
    server = proc_stat(server_pid)
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(d)
            if st is not None:
                procs[d] = [st[0], st[2][0] + st[2][1]]
    return {
        "procs": procs,
        "t": time.time(),
        "load": load,
        "cpu_total": sum(cpu),
        "cpu_idle": cpu[3] + cpu[4],
        "server_ticks": (server[2][0] + server[2][1]) if server else 0,
        "server_pid": str(server_pid),
        "server_mem_kib": proc_memory_kib(server_pid),
        "pg_ticks": postgres_ticks(),
        "metrics": metrics(port),
    }


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    i = min(len(values) - 1, max(0, int(round(p / 100 * len(values) + 0.5)) - 1))
    return values[i]


def delta(before, after, group, key):
    a = after["metrics"][group].get(key, {"sum": 0.0, "count": 0.0})
    b = before["metrics"][group].get(key, {"sum": 0.0, "count": 0.0})
    return a["sum"] - b["sum"], a["count"] - b["count"]


def phase(kind, name, before_path, after_path, out_path, time_path, pglog=None):
    before = json.load(open(before_path))
    after = json.load(open(after_path))
    out = open(out_path).read()
    r = {"name": name, "kind": kind, "load_before": before["load"], "load_after": after["load"]}
    wall = after["t"] - before["t"]
    dt = after["cpu_total"] - before["cpu_total"]
    r["cpu_busy_pct"] = 100.0 * (1 - (after["cpu_idle"] - before["cpu_idle"]) / dt) if dt else 0
    r["server_cpu_s"] = (after["server_ticks"] - before["server_ticks"]) / TICK
    r["pg_cpu_s"] = (after["pg_ticks"] - before["pg_ticks"]) / TICK
    try:
        e, u, s = (float(x) for x in open(time_path).read().split()[-3:])
        r["client_cpu_s"] = u + s
    except (OSError, ValueError):
        r["client_cpu_s"] = float("nan")
    r["wall_s"] = wall
    # The server restarts before every measured HTTP phase: RSS before is the idle process,
    # the high-water mark after is its peak under this phase's load.
    r["server_rss_before_kib"] = before.get("server_mem_kib", {}).get("VmRSS", 0)
    r["server_hwm_after_kib"] = after.get("server_mem_kib", {}).get("VmHWM", 0)
    ours = r["server_cpu_s"] + r["pg_cpu_s"] + (r["client_cpu_s"] if r["client_cpu_s"] == r["client_cpu_s"] else 0)
    r["other_cpu_pct"] = max(0.0, r["cpu_busy_pct"] - 100.0 * ours / (wall * (os.cpu_count() or 1)))
    # The biggest other CPU users during the phase (processes alive at the end).
    mine = {"postgres", "pgbench", "wrk", "time", "timeout", "psql", "python3", "cineflow", "perf"}
    others = {}
    for pid, (comm, ticks) in after.get("procs", {}).items():
        prev = before.get("procs", {}).get(pid)
        used = ticks - (prev[1] if prev and prev[0] == comm else 0)
        if used > 0 and comm not in mine and pid != str(after.get("server_pid")):
            others[comm] = others.get(comm, 0) + used / TICK
    r["other_top"] = ", ".join(f"{c} {v:.1f} s" for c, v in sorted(others.items(), key=lambda x: -x[1])[:4] if v >= 0.2) or "-"
    if kind == "pgbench":
        m = re.search(r"number of transactions actually processed: (\d+)", out)
        r["ok"] = int(m.group(1)) if m else 0
        m = re.search(r"number of failed transactions: (\d+)", out)
        r["failed"] = int(m.group(1)) if m else 0
        r["aborted"] = len(re.findall(r"aborted", out))
        m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
        r["rate"] = float(m.group(1)) if m else 0.0
        m = re.search(r"latency average = ([\d.]+) ms", out)
        r["mean_ms"] = float(m.group(1)) if m else float("nan")
        lat = []
        for path in glob.glob(pglog + "*"):
            with open(path) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 3:
                        lat.append(int(parts[2]) / 1000.0)
        r["p50_ms"], r["p99_ms"] = pct(lat, 50), pct(lat, 99)
        r["other"] = "-" if not (r["failed"] or r["aborted"]) else f"failed {r['failed']}, aborted {r['aborted']}"
    else:
        m = re.search(r"^WRKSTAT (.*)$", out, re.M)
        if not m:
            raise SystemExit(f"{name}: no WRKSTAT line in {out_path}")
        w = dict(kv.split("=", 1) for kv in m.group(1).split())
        r["ok"] = int(w["ok"])
        r["rate"] = float(w["ok_rps"])
        r["p50_ms"], r["p99_ms"], r["mean_ms"] = float(w["p50_ms"]), float(w["p99_ms"]), float(w["mean_ms"])
        r["other"] = w["statuses"] if w["statuses"] != "-" else "-"
        if int(w["errors"]):
            r["other"] += f" (socket errors {w['errors']})"
        r["requests"] = int(w["requests"])
        comp = {k: delta(before, after, "component", k) for k in after["metrics"]["component"]}
        r["component_s"] = sum(v[0] for v in comp.values())
        r["component_calls"] = sum(v[1] for v in comp.values())
        r["component_by_hook"] = {k: {"s": v[0], "calls": v[1]} for k, v in comp.items() if v[1]}
        for label, route in (("hold", HOLD_ROUTE), ("pay", PAY_ROUTE)):
            s, c = delta(before, after, "http", " ".join(route))
            r[f"http_{label}_s"], r[f"http_{label}_n"] = s, c
    n = max(r["ok"], 1)
    tb, ta = before_path[:-len(".json")] + ".tables", after_path[:-len(".json")] + ".tables"
    if os.path.exists(tb) and os.path.exists(ta):
        def tables(path):
            return {p[0]: [int(x) for x in p[1:]] for p in (l.split() for l in open(path)) if len(p) == 5}
        b, a = tables(tb), tables(ta)
        seq = {t: a[t][1] - b.get(t, [0, 0, 0, 0])[1] for t in a}
        r["seq_rows_per_ok"] = sum(seq.values()) / n
        r["seq_rows_by_table"] = {t: v for t, v in seq.items() if v}
    r["server_cpu_ms_per_ok"] = 1000 * r["server_cpu_s"] / n
    r["pg_cpu_ms_per_ok"] = 1000 * r["pg_cpu_s"] / n
    r["client_cpu_ms_per_ok"] = 1000 * r["client_cpu_s"] / n
    return r


def fmt(x, digits=1):
    return "—" if x is None or x != x else f"{x:.{digits}f}"


def cpu_ms(r):
    """CPU (cineflow + PostgreSQL + load generator) per successful request, in ms."""
    client = r["client_cpu_ms_per_ok"] if r["client_cpu_ms_per_ok"] == r["client_cpu_ms_per_ok"] else 0
    return r["server_cpu_ms_per_ok"] + r["pg_cpu_ms_per_ok"] + client


def report(path):
    rows = {}
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            rows[r["name"]] = r
    out = []
    out.append("| scenario | baseline | baseline pgbench tps | baseline p50 / p99 ms | (b) HTTP req/s (201s) "
               "| (b) p50 / p99 ms | (b)/baseline | (b)/baseline per CPU-second "
               "| component share of server time | load before → after baseline; (b) |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    kinds = (("least", "(l) least SQL"), ("pgbench", "(a) same SQL"))
    for scen in ("spread", "hot"):
        label = "500 shows" if scen == "spread" else "hot show"
        for kind, kind_label in kinds:
            for op in ("hold", "pay"):
                a, b = rows.get(f"{kind}_{op}_{scen}"), rows.get(f"http_{op}_{scen}")
                if not a or not b:
                    continue
                if op == "hold":
                    share = b["component_s"] / b["http_hold_s"] if b.get("http_hold_s") else float("nan")
                    share_txt = f"{100 * share:.1f} %"
                else:
                    share_txt = "0 % (no component on pay)"
                out.append(
                    f"| {op}, {label} | {kind_label} | {a['rate']:.0f} | {fmt(a['p50_ms'])} / {fmt(a['p99_ms'])} "
                    f"| {b['rate']:.0f} | {fmt(b['p50_ms'])} / {fmt(b['p99_ms'])} "
                    f"| **{b['rate'] / a['rate']:.2f}** | {cpu_ms(a) / cpu_ms(b):.2f} | {share_txt} "
                    f"| {a['load_before']} → {a['load_after']}; {b['load_before']} → {b['load_after']} |")
            ah, ap = rows.get(f"{kind}_hold_{scen}"), rows.get(f"{kind}_pay_{scen}")
            bh, bp = rows.get(f"http_hold_{scen}"), rows.get(f"http_pay_{scen}")
            if ah and ap and bh and bp:
                fa = 1 / (1 / ah["rate"] + 1 / ap["rate"])
                fb = 1 / (1 / bh["rate"] + 1 / bp["rate"])
                server = bh["http_hold_s"] + bp["http_pay_s"]
                share = bh["component_s"] / server if server else float("nan")
                ca, cb = cpu_ms(ah) + cpu_ms(ap), cpu_ms(bh) + cpu_ms(bp)
                out.append(
                    f"| **hold + pay, {label}** | {kind_label} | {fa:.0f} | — | {fb:.0f} | — | **{fb / fa:.2f}** "
                    f"| {ca / cb:.2f} | **{100 * share:.1f} %** | |")
    out.append("")
    out.append("Where the CPU went (2 cores; CPU ms per successful request, from /proc):")
    out.append("")
    out.append("| phase | successes | other responses | wall s | machine CPU busy (other processes) "
               "| cineflow ms/req | PostgreSQL ms/req | load generator ms/req "
               "| server time per request (mean, ms) | components per hold (mean, ms) "
               "| components ÷ cineflow CPU | rows read by seq scans per request "
               "| biggest other CPU users |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    order = [f"{k}_{op}_{s}" for s in ("spread", "hot") for op in ("hold", "pay")
             for k in ("least", "pgbench", "http")]
    for name in order:
        r = rows.get(name)
        if not r:
            continue
        server_mean = comp_mean = comp_cpu = "—"
        if r["kind"] == "wrk":
            route = "hold" if "_hold_" in name else "pay"
            if r.get(f"http_{route}_n"):
                server_mean = fmt(1000 * r[f"http_{route}_s"] / r[f"http_{route}_n"], 2)
            if route == "hold" and r.get("http_hold_n"):
                comp_mean = fmt(1000 * r["component_s"] / r["http_hold_n"], 3)
                if r["server_cpu_s"]:
                    comp_cpu = f"{100 * r['component_s'] / r['server_cpu_s']:.0f} %"
        out.append(
            f"| {name} | {r['ok']} | {r['other']} | {r['wall_s']:.1f} "
            f"| {r['cpu_busy_pct']:.0f} % ({r.get('other_cpu_pct', float('nan')):.0f} %) "
            f"| {fmt(r['server_cpu_ms_per_ok'], 3)} | {fmt(r['pg_cpu_ms_per_ok'], 3)} "
            f"| {fmt(r['client_cpu_ms_per_ok'], 3)} | {server_mean} | {comp_mean} | {comp_cpu} "
            f"| {fmt(r.get('seq_rows_per_ok'), 0)} | {r.get('other_top', '—')} |")
    print("\n".join(out))


def main():
    cmd = sys.argv[1]
    if cmd == "snap":
        print(json.dumps(snap(sys.argv[2], sys.argv[3])))
    elif cmd == "phase":
        print(json.dumps(phase(*sys.argv[2:])))
    elif cmd == "report":
        report(sys.argv[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
