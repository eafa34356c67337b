#!/usr/bin/env python3
"""Seat-map event streams for bench/all.sh (part `live`), standard library only (asyncio).

  seat_streams.py streams BASE DIR N SECONDS OUT_JSON
      Opens N streams of GET /api/v1/shows/{id}/seats/events over the shows of DIR/shows.txt
      (round robin), waits until each has its snapshot, keeps reading them for SECONDS (or
      until SIGTERM) and writes {opened, failed, snapshots, changes, ended_early,
      open_secs} to OUT_JSON. Prints "READY" once every stream has its snapshot.

  seat_streams.py visibility BASE_A BASE_B DIR N OUT_JSON
      Opens one stream of the first show of DIR/shows.txt on replica B, then N times holds a
      fresh seat of that show through replica A (customers of DIR/tokens.txt in turn) and
      times how long until B's stream says the seat is held: from the hold's request being
      sent (so the hold's own time counts) and from its 201 arriving. Writes the medians and
      p99s (ms) to OUT_JSON.
"""

import asyncio
import json
import signal
import statistics
import sys
import time
import urllib.parse


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


class Stream:
    """One text/event-stream over HTTP/1.1 (chunked), parsed into (event, id, data)."""

    def __init__(self, base, show):
        self.url = urllib.parse.urlsplit(base)
        self.path = f"/api/v1/shows/{show}/seats/events"
        self.reader = None
        self.writer = None
        self.buf = b""

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.url.hostname, self.url.port)
        self.writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.url.netloc}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            raise RuntimeError(f"status {status}")

    async def _chunk(self):
        size_line = await self.reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return None
        data = await self.reader.readexactly(size + 2)
        return data[:-2]

    async def next(self):
        """The next event as (event, id, data str), or None at the end of the stream."""
        while True:
            end = self.buf.find(b"\n\n")
            if end >= 0:
                block, self.buf = self.buf[:end], self.buf[end + 2:]
                event, eid, data = "", "", []
                for line in block.decode().split("\n"):
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("id:"):
                        eid = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].lstrip(" "))
                if event or data:
                    return event, eid, "\n".join(data)
                continue
            chunk = await self._chunk()
            if chunk is None:
                return None
            self.buf += chunk

    def close(self):
        if self.writer:
            self.writer.close()


async def streams(base, folder, n, seconds, out):
    shows = [l.strip() for l in open(f"{folder}/shows.txt") if l.strip()]
    stats = {"opened": 0, "failed": 0, "snapshots": 0, "changes": 0, "ended_early": 0}
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    ready = asyncio.Semaphore(0)

    async def one(i):
        s = Stream(base, shows[i % len(shows)])
        try:
            await s.open()
            stats["opened"] += 1
            first = True
            while True:
                ev = await s.next()
                if ev is None:
                    if not stop.is_set():
                        stats["ended_early"] += 1
                    return
                if ev[0] == "snapshot":
                    stats["snapshots"] += 1
                else:
                    stats["changes"] += 1
                if first:
                    first = False
                    ready.release()
        except (OSError, RuntimeError, asyncio.IncompleteReadError, ValueError):
            stats["failed"] += 1
            ready.release()
        finally:
            s.close()

    started = time.monotonic()
    tasks = []
    # Opened in waves of 200, as a crowd arrives, not in one burst of SYNs.
    for i in range(n):
        tasks.append(asyncio.create_task(one(i)))
        if i % 200 == 199:
            await asyncio.sleep(0.05)
    for _ in range(n):
        await ready.acquire()
    stats["open_secs"] = round(time.monotonic() - started, 2)
    print("READY", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
    stop.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    json.dump(stats, open(out, "w"))


def hold(base, token, show, seat):
    import http.client

    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = json.dumps({"show_id": show, "seat_ids": [seat]})
    conn.request(
        "POST",
        "/api/v1/bookings",
        body=body,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    res = conn.getresponse()
    res.read()
    conn.close()
    return res.status


async def visibility(base_a, base_b, folder, n, out):
    show = [l.strip() for l in open(f"{folder}/shows.txt") if l.strip()][0]
    tokens = [l.split()[1] for l in open(f"{folder}/tokens.txt") if l.strip()]
    stream = Stream(base_b, show)
    await stream.open()
    ev = await stream.next()
    assert ev and ev[0] == "snapshot", ev
    seen = {}

    async def watch():
        while True:
            ev = await stream.next()
            if ev is None:
                return
            if ev[0] == "change":
                now = time.monotonic()
                for seat in json.loads(ev[2])["seats"]:
                    if seat["state"] == "held":
                        seen.setdefault(seat["id"], now)

    watcher = asyncio.create_task(watch())
    from_send, from_answer, failed = [], [], 0
    rows = "ABCDEFGHIJKLMNOPQRST"
    for i in range(n):
        seat = f"{rows[(i // 25) % 20]}-{i % 25 + 1}"
        sent = time.monotonic()
        status = await asyncio.to_thread(hold, base_a, tokens[i % len(tokens)], show, seat)
        answered = time.monotonic()
        if status != 201:
            failed += 1
            continue
        deadline = answered + 5
        while seat not in seen and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        if seat not in seen:
            failed += 1
            continue
        from_send.append((seen[seat] - sent) * 1000)
        from_answer.append(max(0.0, seen[seat] - answered) * 1000)
    watcher.cancel()
    stream.close()
    json.dump(
        {
            "n": len(from_send),
            "failed": failed,
            "p50_ms": statistics.median(from_send) if from_send else 0,
            "p99_ms": percentile(from_send, 99),
            "max_ms": max(from_send) if from_send else 0,
            "after_answer_p50_ms": statistics.median(from_answer) if from_answer else 0,
            "after_answer_p99_ms": percentile(from_answer, 99),
        },
        open(out, "w"),
    )


def main():
    mode = sys.argv[1]
    if mode == "streams":
        asyncio.run(streams(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]))
    elif mode == "visibility":
        asyncio.run(visibility(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
