-- pgbench script for bench/booking_load.sh: the LEAST SQL of one payment that keeps today's
-- guarantees (issue 18 item 3) — the baseline the host's payment is measured against. Two
-- round trips, -M prepared like sqlx:
--
--   1. the caller's revocation check (a primary-key read of the user's token version) and, in
--      the same statement, the booking by primary key: the host signs one ticket code per
--      seat (Ed25519, in memory) before it writes, so it must know the seats first, and it
--      checks the stated amount against the total. Nothing read here is trusted for the
--      decision: statement 2 re-checks owner, state and liveness under its own row lock.
--   2. ONE statement, its own transaction:
--      - confirms the booking only if it is still `held`, the caller's and live at the
--        statement's instant (`booking_is_live`), which locks its row (a second payment waits,
--        then finds it confirmed; `payments_booking_key` backs that up);
--      - keeps its seats for good (taken_until = infinity: the exclusion constraint still
--        arbitrates if the hold lapsed and someone took a seat meanwhile);
--      - inserts the payment (the test gateway's charge is in memory; no round trip);
--      - inserts one ticket per seat with the chain's active key, share-locked as the host
--        does (a rotation waits for payments in flight, so no ticket is signed by a key after
--        its validity was fixed); the host's codes are signed in memory, here a stand-in;
--      - inserts the outbox row of the confirmation email (`notifications`, deduplicated);
--      - inserts the audit row (held -> confirmed);
--      - inserts the webhook delivery rows of `booking.confirmed` and `payment.succeeded`, one
--        per subscribed endpoint (the bench chain has none: the endpoints are read, none is
--        written, as in the host).
--   The email's names (movie, theatre, screen, start) come from the host's cached show context:
--   here constants of the same size.
--
-- Variables (-D): nc = clients, k = 0 (per-client counter), chain = the chain's id. Request
-- i = k * nc + client_id pays booking n = i of bench_pay_queue(n, booking_id, user_id), which
-- booking_load.sh fills with the holds of the preceding hold phase; run with -t so that
-- nc * t <= queue.
\set i :k * :nc + :client_id
\set k :k + 1
-- 1. revocation check + the booking
select u.id, u.token_version, u.status, u.name, u.email::text as email,
    b.id as bid, b.show_id, b.seats, b.total_minor, b.currency
  from bench_pay_queue q join users u on u.id = q.user_id join bookings b on b.id = q.booking_id
  where q.n = :i \gset usr_
-- 2. the payment, one statement
with b as (
    update bookings set status = 'confirmed', confirmed_at = statement_timestamp()
    where chain_id = :chain::uuid and id = :usr_bid::uuid and user_id = :usr_id::uuid
      and status = 'held' and booking_is_live(status, expires_at)
    returning id, chain_id, show_id, user_id, seats, total_minor, currency
), s as (
    update booking_seats set taken_until = 'infinity'
    where chain_id = :chain::uuid and booking_id = (select id from b)
    returning seat_id
), p as (
    insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency, provider_ref)
    select bench_uuid7(), b.chain_id, b.id, b.user_id, b.total_minor, b.currency, 'test_' || b.id
    from b
    returning id
), k as (
    select key_id from ticket_keys
    where chain_id = :chain::uuid and retired_at is null
    for share
), t as (
    insert into tickets (id, chain_id, booking_id, show_id, seat_id, key_id, code)
    select bench_uuid7(), b.chain_id, b.id, b.show_id, x, k.key_id,
           md5(b.id::text || x) || md5(x || b.id::text) || md5(b.show_id::text || x)
    from b, k, unnest(b.seats) x
    on conflict (booking_id, seat_id) do nothing
    returning id
), n as (
    insert into notifications (id, kind, chain_id, recipient_emails, fields, dedupe_key)
    select bench_uuid7(), 'booking-confirmed', b.chain_id, array[:usr_email::text],
        jsonb_build_object('name', :usr_name::text, 'movie-title', 'The Long Benchmark 0123abcd',
          'theatre-name', 'Bench Multiplex', 'screen-name', 'Screen 1',
          'seats', array_to_string(b.seats, ', '), 'starts-at', 'Tue, 8 Dec 2026, 9:30 pm IST',
          'total', 'INR ' || (b.total_minor / 100)::text || '.00', 'booking-id', b.id::text,
          'ticket-links', 'https://cineflow.example/api/v1/tickets/' || b.id::text || '/image'),
        'booking-confirmed:' || b.id::text
    from b
    on conflict (dedupe_key) do nothing
    returning id
), a as (
    insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
        actor_id, detail)
    select bench_uuid7(), b.chain_id, b.show_id, b.id, 'state', 'held', 'confirmed', b.user_id,
           'null'::jsonb
    from b
), w as (
    insert into webhook_deliveries (id, chain_id, endpoint_id, event_id, kind, body)
    select bench_uuid7(), b.chain_id, e.id, bench_uuid7(), ev.kind,
           convert_to(jsonb_build_object('kind', ev.kind, 'booking_id', b.id)::text, 'UTF8')
    from b join webhook_endpoints e on e.chain_id = b.chain_id,
         unnest(array['booking.confirmed', 'payment.succeeded']) ev(kind)
    where ev.kind = any(e.events) and e.deleted_at is null
)
select (select id from p) as payment, (select count(*) from s) as seats,
       (select count(*) from t) as tickets;
