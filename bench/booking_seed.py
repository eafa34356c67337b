#!/usr/bin/env python3
"""Seeds a running Cineflow for bench/booking_load.sh, through the HTTP API only.

Creates an approved owner (signup as owner, the admin approves), a chain, a theatre, one
movie on its now-showing list, ONE screen of ROWS x SEATS seats (rows A.., the last four
rows premium), SHOWS shows on it (back to back: runtime + cleaning buffer + margin, from
tomorrow) and CUSTOMERS signed-in customers. Writes into OUT_DIR:

  tokens.txt  one "user_id access_token" per line
  shows.txt   one show id per line, in start order
  chain.txt   the chain id
  owner.txt   the owner's access token (chain staff: uploads and bindings)

Usage: booking_seed.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD CUSTOMERS SHOWS OUT_DIR
Standard library only (urllib).
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

ROWS = 20
SEATS = 25
PREMIUM_ROWS = 4
RUNTIME_MIN = 120
CLEANING_MIN = 15
MARGIN_MIN = 5
PASSWORD = "Bench-Password-2026"


def call(base, method, path, token=None, body=None, expect=(200, 201)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    if status not in expect:
        raise SystemExit(f"{method} {path}: HTTP {status}: {text}")
    return json.loads(text) if text else None


def signin(base, email, password):
    return call(base, "POST", "/auth/signin", body={"email": email, "password": password})["access_token"]


def customer(base, i, tag):
    email = f"bench-customer-{i}-{tag}@example.com"
    user = call(base, "POST", "/auth/signup",
                body={"name": f"Bench Customer {i}", "email": email, "password": PASSWORD,
                      "role": "customer"})
    return user["id"], signin(base, email, PASSWORD)


def main():
    base, admin_email, admin_password, customers, shows, out = sys.argv[1:7]
    customers, shows = int(customers), int(shows)
    tag = uuid.uuid4().hex[:8]
    started = time.monotonic()

    admin = signin(base, admin_email, admin_password)
    owner_email = f"bench-owner-{tag}@example.com"
    owner = call(base, "POST", "/auth/signup",
                 body={"name": "Bench Owner", "email": owner_email, "password": PASSWORD,
                       "role": "owner"})
    call(base, "PATCH", f"/users/{owner['id']}", admin, {"status": "approved"})
    token = signin(base, owner_email, PASSWORD)

    chain = call(base, "POST", "/chains", token,
                 {"name": f"Bench Cinemas {tag}", "currency": "INR", "timezone": "Asia/Kolkata"})
    theatre = call(base, "POST", "/theatres", token, {
        "chain_id": chain["id"], "name": "Bench Multiplex", "description": "For load tests.",
        "city": "Bengaluru", "pin_code": "560001", "address": "1 MG Road"})
    movie = call(base, "POST", "/movies", token, {
        "title": f"The Long Benchmark {tag}", "description": "A film about throughput.",
        "cast": ["Ada Lovelace"], "director": "Grace Hopper",
        "trailer_url": "https://videos.example.com/trailer.mp4", "release_date": "2026-01-15",
        "release_status": "released", "languages": ["English"],
        "runtime_minutes": RUNTIME_MIN, "certificate": "UA", "chain_id": chain["id"]})
    call(base, "POST", f"/theatres/{theatre['id']}/movies", token, {"movie_ids": [movie["id"]]})
    rows = [{"label": chr(ord("A") + r), "seats": SEATS,
             "class": "premium" if r >= ROWS - PREMIUM_ROWS else "standard"}
            for r in range(ROWS)]
    screen = call(base, "POST", f"/theatres/{theatre['id']}/screens", token,
                  {"name": "Screen 1", "rows": rows})

    first = (datetime.now(timezone.utc) + timedelta(days=1)).replace(minute=0, second=0,
                                                                      microsecond=0)
    step = timedelta(minutes=RUNTIME_MIN + CLEANING_MIN + MARGIN_MIN)
    prices = {"standard": 25000, "premium": 40000}

    def make_show(i):
        starts = (first + i * step).strftime("%Y-%m-%dT%H:%M:%SZ")
        return call(base, "POST", "/shows", token, {
            "screen_id": screen["id"], "movie_id": movie["id"], "starts_at": starts,
            "prices": prices})["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        show_ids = list(pool.map(make_show, range(shows)))
        people = list(pool.map(lambda i: customer(base, i, tag), range(customers)))

    with open(f"{out}/shows.txt", "w") as f:
        f.write("".join(s + "\n" for s in show_ids))
    with open(f"{out}/tokens.txt", "w") as f:
        f.write("".join(f"{uid} {tok}\n" for uid, tok in people))
    with open(f"{out}/chain.txt", "w") as f:
        f.write(chain["id"] + "\n")
    with open(f"{out}/owner.txt", "w") as f:
        f.write(token + "\n")
    print(f"seeded: chain {chain['id']}, screen {screen['id']} ({ROWS * SEATS} seats), "
          f"{len(show_ids)} shows, {len(people)} customers in {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
