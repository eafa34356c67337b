#!/usr/bin/env python3
"""Helpers for bench/all.sh (standard library only).

  all_lib.py wrkstat FILE                       -> the WRKSTAT line of a wrk run, as JSON
  all_lib.py pgbench FILE                       -> tps and mean latency of a pgbench run, as JSON
  all_lib.py upload BASE TOKEN CHAIN HOOK WASM  -> the stored component's id
  all_lib.py bind BASE TOKEN CHAIN HOOK ID      -> binds through the API
  all_lib.py bind-raw DBURL CHAIN HOOK WASM     -> binds bytes that would fail the upload checks
  all_lib.py rebind BASE TOKEN CHAIN HOOK ID1 ID2 INTERVAL_S SECONDS
                                                -> rebinds back and forth; JSON summary
  all_lib.py start-to-ready BIN PORT LOG        -> seconds from exec to /readyz 200, as JSON
  all_lib.py booking RESULTS_JSONL...           -> row 1 and row 8 figures of booking_load runs
  all_lib.py row RESULTS key=value ...          -> appends one row of the report
  all_lib.py table RESULTS HEADER_JSON          -> the Markdown report
"""

import hashlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request


def median(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def wrkstat(path):
    text = open(path).read()
    m = re.search(r"^WRKSTAT (.*)$", text, re.M)
    if not m:
        raise SystemExit(f"no WRKSTAT line in {path}:\n{text[-2000:]}")
    out = {}
    for kv in m.group(1).split():
        k, v = kv.split("=", 1)
        try:
            out[k] = float(v)
        except ValueError:
            out[k] = v
    return out


def pgbench(path):
    text = open(path).read()
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    if not m:
        raise SystemExit(f"no tps in {path}:\n{text[-2000:]}")
    lat = re.search(r"latency average = ([\d.]+) ms", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    return {"tps": float(m.group(1)), "mean_ms": float(lat.group(1)) if lat else float("nan"),
            "failed": int(failed.group(1)) if failed else 0}


def call(base, method, path, token=None, body=None, content_type="application/json"):
    data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", content_type)
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def upload(base, token, chain, hook, wasm):
    status, body = call(base, "POST", f"/chains/{chain}/components?hook={hook}", token,
                        open(wasm, "rb").read(), "application/wasm")
    if status not in (200, 201):
        raise SystemExit(f"upload {wasm}: HTTP {status}: {body}")
    print(body["id"])


def bind(base, token, chain, hook, component):
    status, body = call(base, "PUT", f"/chains/{chain}/bindings/{hook}", token,
                        {"component_id": component})
    if status != 200:
        raise SystemExit(f"bind {component}: HTTP {status}: {body}")


def bind_raw(dburl, chain, hook, wasm):
    """Stores and binds a component straight in the database, past the upload checks (a
    hostile guest never passes the fixtures): the bindings trigger tells the replicas, which
    then load it like any other binding."""
    data = open(wasm, "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    sql = f"""
insert into components (id, bytes, size_bytes) values ('{sha}', decode('{data.hex()}', 'hex'), {len(data)})
    on conflict do nothing;
insert into chain_components (chain_id, component_id, hook, fixtures_passed, fuel_max)
    values ('{chain}', '{sha}', '{hook}', 0, 0) on conflict do nothing;
insert into bindings (chain_id, hook, component_id, on_failure) values ('{chain}', '{hook}', '{sha}', 'reject')
    on conflict (chain_id, hook) do update set component_id = excluded.component_id,
        bound_at = now(), tripped_at = null, trip_reason = null;
"""
    subprocess.run(["psql", dburl, "-v", "ON_ERROR_STOP=1", "-qAt"], input=sql.encode(),
                   check=True, stdout=subprocess.DEVNULL)
    print(sha)


def rebind(base, token, chain, hook, a, b, interval, seconds):
    """PUTs the binding alternately to a and b every `interval` seconds for `seconds`."""
    stop = time.monotonic() + seconds
    n, errors, took = 0, 0, []
    nxt = time.monotonic()
    while time.monotonic() < stop:
        t0 = time.monotonic()
        status, _ = call(base, "PUT", f"/chains/{chain}/bindings/{hook}", token,
                         {"component_id": b if n % 2 == 0 else a})
        took.append(1000 * (time.monotonic() - t0))
        n += 1
        errors += status != 200
        nxt += interval
        time.sleep(max(0.0, nxt - time.monotonic()))
    # End where it started, so the next phase prices with the same component.
    if n % 2 == 1:
        call(base, "PUT", f"/chains/{chain}/bindings/{hook}", token, {"component_id": a})
    print(json.dumps({"rebinds": n, "errors": errors, "per_s": n / seconds,
                      "p50_ms": median(took), "max_ms": max(took) if took else 0}))


def shadow(base, token, chain, hook, component):
    """Starts a 100 % shadow of `hook` (component None: stops it)."""
    path = f"/chains/{chain}/shadows/{hook}"
    if component is None:
        status, body = call(base, "DELETE", path, token)
        assert status in (204, 404), (status, body)
        return
    status, body = call(base, "PUT", path, token, {"component_id": component, "sample_percent": 100})
    assert status == 200, (status, body)


def shadow_runs(base, token, chain, hook):
    status, body = call(base, "GET", f"/chains/{chain}/shadows/{hook}", token)
    assert status == 200, (status, body)
    print(json.dumps(body))


def replay(base, token, chain, hook, component, limit):
    """Queues a replay, waits for it, and prints its report."""
    status, body = call(base, "POST", f"/chains/{chain}/replays", token,
                        {"component_id": component, "hook": hook, "limit": int(limit)})
    assert status == 201, (status, body)
    path = f"/chains/{chain}/replays/{body['id']}"
    while True:
        status, body = call(base, "GET", path, token)
        assert status == 200, (status, body)
        if body["status"] in ("done", "failed"):
            break
        time.sleep(0.2)
    print(json.dumps(body))


def start_to_ready(binary, port, log):
    """Runs `BIN serve` (settings from the environment) and times exec -> /readyz 200."""
    url = f"http://127.0.0.1:{port}/readyz"
    with open(log, "ab") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen([binary, "serve"], stdout=out, stderr=out)
        ready = None
        try:
            while time.monotonic() - t0 < 60:
                try:
                    with urllib.request.urlopen(url, timeout=1) as r:
                        if r.status == 200:
                            ready = time.monotonic() - t0
                            break
                except (urllib.error.URLError, ConnectionError, OSError):
                    pass
                if proc.poll() is not None:
                    raise SystemExit(f"cineflow exited with {proc.returncode} before ready (log {log})")
                time.sleep(0.002)
            if ready is None:
                raise SystemExit(f"not ready within 60 s (log {log})")
            loads = {}
            metrics = os.environ.get("CINEFLOW_METRICS_LISTEN", "127.0.0.1:9464")
            with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=10) as r:
                for line in r.read().decode().splitlines():
                    m = re.match(r'^cineflow_component_loads_total\{(.*)\}\s+(\S+)$', line)
                    if m:
                        src = re.search(r'source="([^"]*)"', m.group(1)).group(1)
                        loads[src] = loads.get(src, 0) + float(m.group(2))
            rss = 0
            with open(f"/proc/{proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(json.dumps({"ready_s": ready, "loads": loads, "rss_kib": rss}))


def booking(paths):
    """Row 1 (hold + pay, API vs pgbench) per scenario and row 8 (memory) over runs."""
    runs = []
    for p in paths:
        rows = {}
        for line in open(p):
            if line.strip():
                r = json.loads(line)
                rows[r["name"]] = r
        runs.append(rows)
    out = {}
    for scen in ("spread", "hot"):
        for kind, key in (("pgbench", scen), ("least", f"{scen}_least")):
            ratios, a_rates, b_rates, loads = [], [], [], []
            for rows in runs:
                try:
                    ah, ap = rows[f"{kind}_hold_{scen}"], rows[f"{kind}_pay_{scen}"]
                    bh, bp = rows[f"http_hold_{scen}"], rows[f"http_pay_{scen}"]
                except KeyError:
                    continue
                fa = 1 / (1 / ah["rate"] + 1 / ap["rate"])
                fb = 1 / (1 / bh["rate"] + 1 / bp["rate"])
                a_rates.append(fa)
                b_rates.append(fb)
                ratios.append(fb / fa)
                loads.append(f"{ah['load_before']} → {bp['load_after']}")
            out[key] = {"a": median(a_rates), "b": median(b_rates), "ratio": median(ratios),
                        "ratios_txt": ", ".join(f"{r:.2f}" for r in ratios) or "—",
                        "loads": loads, "reps": len(ratios)}
    hwm, idle = [], []
    for rows in runs:
        for r in rows.values():
            if r["kind"] == "wrk" and r.get("server_hwm_after_kib"):
                hwm.append(r["server_hwm_after_kib"])
                idle.append(r["server_rss_before_kib"])
    out["memory"] = {"peak_kib": max(hwm) if hwm else float("nan"),
                     "idle_kib": median(idle), "phases": len(hwm)}
    print(json.dumps(out))


def add_row(path, pairs):
    row = {}
    for pair in pairs:
        k, v = pair.split("=", 1)
        row[k] = v
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def num(x, digits):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return x or "—"
    if v != v:
        return "—"
    return f"{v:,.{digits}f}".replace(",", " ")


def verdict(row):
    """pass / miss against the goal; `*` marks a goal proposed here, not in the design docs."""
    kind = row.get("goal_kind", "none")
    if kind == "none":
        return "—"
    try:
        limit = float(row["goal_value"])
        value = float(row["ratio"] if kind.startswith("ratio") else row["figure"])
    except (KeyError, ValueError):
        return "—"
    if value != value:
        return "no data"
    ok = value >= limit if kind.endswith("_ge") else value <= limit
    mark = "*" if row.get("goal_proposed") == "1" else ""
    return ("**pass**" if ok else "**MISS**") + mark


def table(path, header_path):
    rows = sorted((json.loads(l) for l in open(path) if l.strip()), key=lambda r: r["row"])
    header = json.load(open(header_path))
    out = [f"## Performance report — {header['date']}{' (QUICK=1 smoke run: not a measurement)' if header.get('quick') == '1' else ''}",
           "",
           f"Machine: {header['machine']}. Host: {header['host']}. "
           f"Run took {header['took']}.",
           "",
           f"| # | what | figure | baseline (same run) | ratio | goal | verdict "
           f"| load 1/5/15 min before → after ({header.get('nproc', '?')} cores) | reps | notes |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        d = int(r.get("digits", "0"))
        ratio = num(r.get("ratio"), 2)
        if ratio != "—":
            ratio += "×" if r.get("ratio_kind") == "times" else ""
        out.append(
            f"| {r['row']} | {r['what']} | {num(r.get('figure'), d)} {r.get('unit', '')} "
            f"| {num(r.get('baseline'), d)} {r.get('unit', '')} ({r.get('baseline_what', '')}) "
            f"| {ratio} | {r.get('goal', '—')} | {verdict(r)} "
            f"| {r.get('load_before', '')} → {r.get('load_after', '')} | {r.get('reps', '')} "
            f"| {r.get('note', '')} |")
    out += ["", "Figures are medians over the repetitions (ratios: the median of the per-repetition "
            "ratios). `*`: goal proposed by the benchmark, not in ARCHITECTURE.md or docs/BENCHMARKS.md.",
            "Loads above the core count are the benchmark itself (load generator, server and "
            "PostgreSQL share the cores)."]
    print("\n".join(out))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "wrkstat":
        print(json.dumps(wrkstat(args[0])))
    elif cmd == "pgbench":
        print(json.dumps(pgbench(args[0])))
    elif cmd == "upload":
        upload(*args)
    elif cmd == "bind":
        bind(*args)
    elif cmd == "bind-raw":
        bind_raw(*args)
    elif cmd == "rebind":
        rebind(*args[:6], float(args[6]), float(args[7]))
    elif cmd == "shadow":
        shadow(*args[:4], args[4] if len(args) > 4 and args[4] != "-" else None)
    elif cmd == "shadow-runs":
        shadow_runs(*args)
    elif cmd == "replay":
        replay(*args)
    elif cmd == "start-to-ready":
        start_to_ready(*args)
    elif cmd == "booking":
        booking(args)
    elif cmd == "row":
        add_row(args[0], args[1:])
    elif cmd == "table":
        table(*args)
    elif cmd == "median":
        print(median([float(x) for x in args]))
    elif cmd == "get":  # all_lib.py get JSON key[.key...]
        v = json.loads(args[0])
        for k in args[1].split("."):
            v = v[k]
        print(v)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
