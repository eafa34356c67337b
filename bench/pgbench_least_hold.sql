-- pgbench script for bench/booking_load.sh: the LEAST SQL of one hold that keeps today's
-- guarantees (issue 18 item 3) — the baseline the host's hold is measured against. Two round
-- trips, -M prepared (the extended protocol with prepared statements, as sqlx):
--
--   1. the caller's revocation check: one primary-key read of the user's token version and
--      status (the AuthUser extractor; a revoked token or a deleted user is 401);
--   2. ONE statement, its own transaction, writing everything the host writes for a hold:
--      - the show check, `show_hold_check` (migration 0021): the show's shared advisory lock
--        (a cancellation waits for holds in flight), then the show read with a fresh
--        snapshot: scheduled, not started;
--      - the booking row (`held`, expires in 600 s: the default rules' hold);
--      - its seats under the exclusion constraint `booking_seats_live_key` (the arbiter of
--        "no seat in two live bookings"; a conflict fails the statement, so nothing of it
--        stays);
--      - its audit: 3 rows, as the host writes them (the state change, and the booking-rules
--        and pricing decisions with the component's input, output, fuel and time — the
--        inputs are the host's size: bench_audit_inputs holds one of each, read by key);
--      - the `booking.held` webhook delivery rows, one per subscribed endpoint of the chain
--        (the host writes them in the hold's transaction today; the bench chain has no
--        endpoint, so the statement reads the chain's endpoints and inserts none, as the host's
--        does).
--
-- What is NOT here, because the decision does not need a database read for it: the show's
-- context (chain, prices, names, time zone) and the screen's seats come from the host's
-- memory (the caches of host/src/show_contexts.rs and host/src/seat_maps.rs, kept true across
-- replicas by LISTEN/NOTIFY, and checked by `show_hold_check`'s version inside the
-- statement). What IS in the host's hold and not here: the reads the chain's components are
-- given (seats taken in the seat's row, the customer's confirmed bookings and live holds) —
-- component inputs, not guarantees of the database; bench/pgbench_hold.sql has them.
--
-- Variables (-D): nc = clients, k = 0 (per-client request counter), hot = 0|1,
-- nshows = shows in bench_shows, nusers = customers in bench_users, chain = the chain's id.
-- Seats map to requests as in bench/pgbench_hold.sql and bench/hold_pay.lua, so no seat is
-- asked for twice; bench_uuid7() stands in for the host's Uuid::now_v7().
\set i :k * :nc + :client_id
\set k :k + 1
\if :hot
\set show (:i / 500) % :nshows
\set seat :i % 500
\else
\set p (:i * 7919) % (:nshows * 500)
\set show :p % :nshows
\set seat :p / :nshows
\endif
\set row :seat / 25
\set num :seat % 25 + 1
\set price case when :row >= 16 then 40000 else 25000 end
\set u random(0, :nusers - 1)
-- 1. revocation check (the bench's number -> id lookups ride along, a primary-key probe each)
select u.id, u.token_version, u.status, bs.id as show
  from bench_users bu join users u on u.id = bu.id, bench_shows bs
  where bu.n = :u and bs.n = :show \gset usr_
-- 2. the hold, one statement
with st as (
    select status from show_hold_check(:chain::uuid, :usr_show::uuid)
), b as (
    insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
        currency, promo_code, created_at, expires_at, voucher_id, discount_minor)
    select bench_uuid7(), :chain::uuid, :usr_show::uuid, :usr_id::uuid, 'held',
        array[chr(65 + :row::int) || '-' || :num::text],
        jsonb_build_array(jsonb_build_object(
          'label', 'Seat ' || chr(65 + :row::int) || '-' || :num::text
                   || case when :row::int >= 16 then ' (premium)' else ' (standard)' end,
          'seat_id', chr(65 + :row::int) || '-' || :num::text,
          'amount_minor', :price::bigint)),
        :price::bigint, 'INR', null, statement_timestamp(),
        statement_timestamp() + make_interval(secs => 600::float8), null, 0
    from st where st.status = 'scheduled'
    returning id, chain_id, show_id, seats, created_at, expires_at
), s as (
    insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
    select b.chain_id, b.id, b.show_id, x, b.created_at, b.expires_at
    from b, unnest(b.seats) x order by x
    returning seat_id
), a as (
    insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
        actor_id, hook, component_id, fuel_used, duration_us, detail, function, input,
        input_sha256, output, canary)
    select e.id, b.chain_id, b.show_id, b.id, e.kind, null, e.to_status, e.actor_id, e.hook,
           e.component_id, e.fuel_used, e.duration_us, e.detail, e.function, i.input,
           i.input_sha256, e.output, false
    from b,
         unnest(array[bench_uuid7(), bench_uuid7(), bench_uuid7()],
                array['state', 'decision', 'decision'],
                array['held', null, null]::text[],
                array[:usr_id::uuid, null, null],
                array[null, 'booking-rules', 'pricing']::text[],
                array[null, '7f3b1c0e9d2a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
                      '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9']::text[],
                array[null, 250000, 20000]::bigint[],
                array[null, 400, 20]::bigint[],
                array['null'::jsonb, '{"hold_seconds": 600}'::jsonb,
                      jsonb_build_object('total_minor', :price::bigint, 'items', 1)],
                array[null, 'check-hold', 'quote']::text[],
                array[null, '{"ok": {"hold_seconds": 600}}'::jsonb,
                      jsonb_build_object('ok', jsonb_build_object('total_minor', :price::bigint))])
           as e(id, kind, to_status, actor_id, hook, component_id, fuel_used, duration_us,
                detail, function, output)
         left join bench_audit_inputs i on i.hook = e.hook
), w as (
    insert into webhook_deliveries (id, chain_id, endpoint_id, event_id, kind, body)
    select bench_uuid7(), b.chain_id, e.id, bench_uuid7(), 'booking.held',
           convert_to(jsonb_build_object('kind', 'booking.held', 'booking_id', b.id)::text, 'UTF8')
    from b join webhook_endpoints e on e.chain_id = b.chain_id
    where 'booking.held' = any(e.events) and e.deleted_at is null
)
select b.id, (select count(*) from s) as seats from b;
