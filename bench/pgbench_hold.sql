-- pgbench script for bench/booking_load.sh: the SQL of one hold (host/src/domain/bookings/hold.rs
-- `hold` and the AuthUser extractor), statement for statement, with the same parameters the host
-- binds (-M prepared = the extended protocol with prepared statements, as sqlx): the second
-- baseline ("same SQL"); bench/pgbench_least_hold.sql is the first (the least SQL).
-- Three round trips: the user, the components' inputs, then the hold's one statement, its own
-- transaction (bookings::insert_hold_at_once: show check, booking, seats, audit, and
-- `hold_at_once_check`, which fails the statement if a seat was taken or the chain has a
-- webhook endpoint for the event — the host then uses a transaction: begin, the same without
-- the audit, the audit, the deliveries, commit; the bench chain has no endpoint). A voucher's
-- hold takes that transaction too (its claim comes first).
--
-- Variables (-D): nc = clients, k = 0 (per-client request counter), hot = 0|1,
-- nshows = shows in bench_shows, nusers = customers in bench_users.
-- bench_shows(n, id) and bench_users(n, id) map numbers to ids (booking_load.sh fills them);
-- the lookups are folded into the statements the host runs anyway (a primary-key probe in
-- the same round trip), so the statement count is the host's. bench_uuid7() stands in for
-- the host's Uuid::now_v7() (time-ordered ids, so index inserts land alike).
--
-- Request i of client c is i = k * nc + c; the (show, seat) mapping is the one of
-- bench/hold_pay.lua: spread = i * 7919 mod (nshows * 500), hot = show i / 500, seat i mod 500.
-- Seats are never asked for twice, so no insert fails (pgbench would abort the client).
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
-- AuthUser: users::find(claims.sub). The show's versions ride along: the host has them in its
-- cached context (host/src/show_contexts.rs), with the chain, prices and names.
select u.id, u.name, u.email::text as email, u.role, u.status, u.token_version, u.created_at,
    bs.id as show, sh.chain_id as chain, sh.updated_at as sv, c.updated_at as cv
  from bench_users bu join users u on u.id = bu.id, bench_shows bs
  join shows sh on sh.id = bs.id join chains c on c.id = sh.chain_id
  where bu.n = :u and bs.n = :show \gset usr_
-- shows::context and screens::seats are not here: both are in the host's memory.
-- bookings::hold_inputs: the seats taken (and which of the requested seat's row), the
-- customer's confirmed bookings and live holds, in one statement
select t.count, t.taken, c.count, h.show, h.chain
  from (select count(*) as count,
               coalesce(array_agg(seat_id) filter (where seat_id = any(
                 array(select chr(65 + :row::int) || '-' || g from generate_series(1, 25) g))), '{}') as taken
        from booking_seats where show_id = :usr_show and taken_until > statement_timestamp()) t,
       (select count(*) as count from bookings
        where user_id = :usr_id and chain_id = :usr_chain and status = 'confirmed') c,
       (select coalesce(sum(cardinality(seats)) filter (where show_id = :usr_show), 0)::bigint as show,
               coalesce(sum(cardinality(seats)), 0)::bigint as chain
        from bookings
        where user_id = :usr_id and chain_id = :usr_chain and status = 'held'
          and booking_is_live(status, expires_at)) h;
-- (components run here, outside any transaction)
-- bookings::insert_hold_at_once
with st as (
    select status, version, chain_version from show_hold_check(:usr_chain::uuid, :usr_show::uuid)
 ), b as (
    insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
        currency, promo_code, created_at, expires_at, voucher_id, discount_minor)
    select bench_uuid7(), :usr_chain::uuid, :usr_show::uuid, :usr_id::uuid, 'held',
        array[chr(65 + :row::int) || '-' || :num::text],
        jsonb_build_array(jsonb_build_object(
          'label', 'Seat ' || chr(65 + :row::int) || '-' || :num::text
                   || case when :row::int >= 16 then ' (premium)' else ' (standard)' end,
          'seat_id', chr(65 + :row::int) || '-' || :num::text,
          'amount_minor', :price::bigint)),
        :price::bigint, 'INR', null,
        statement_timestamp(), statement_timestamp() + make_interval(secs => 600::float8), null, 0
    from st where st.status = 'scheduled' and st.version = :usr_sv::timestamptz
      and st.chain_version = :usr_cv::timestamptz
    returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
        promo_code, expires_at, refund_minor, created_at, voucher_id, discount_minor
 ), s as (
    insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
    select b.chain_id, b.id, b.show_id, x, b.created_at, b.expires_at
    from b, unnest(array[chr(65 + :row::int) || '-' || :num::text]) x order by x
    on conflict do nothing
    returning seat_id
 ), a as (
    insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
        actor_id, hook, component_id, fuel_used, duration_us, detail, function, input,
        input_sha256, output, canary)
    select e.id, b.chain_id, b.show_id, b.id, e.kind, e.from_status, e.to_status, e.actor_id,
           e.hook, e.component_id, e.fuel_used, e.duration_us, e.detail, e.function, e.input,
           e.input_sha256, e.output, e.canary
    from b, unnest(array[bench_uuid7(), bench_uuid7(), bench_uuid7()],
              array['state', 'decision', 'decision'],
              array[null, null, null]::text[],
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
              array[null, (select input from bench_audit_inputs where hook = 'booking-rules'),
                    (select input from bench_audit_inputs where hook = 'pricing')],
              array[null, repeat('a', 64), repeat('b', 64)]::text[],
              array[null, '{"ok": {"hold_seconds": 600}}'::jsonb,
                    jsonb_build_object('ok', jsonb_build_object('total_minor', :price::bigint))],
              array[false, false, false])
      as e(id, kind, from_status, to_status, actor_id, hook, component_id, fuel_used,
           duration_us, detail, function, input, input_sha256, output, canary)
 )
 select id, chain_id, show_id, user_id, status, seats, items, total_minor, currency, promo_code,
        expires_at, refund_minor, created_at, voucher_id,
        booking_voucher_code(voucher_id) as voucher_code, discount_minor,
        hold_at_once_check(true, array(select seat_id from s),
            array[chr(65 + :row::int) || '-' || :num::text],
            exists(select 1 from webhook_endpoints e
                   where e.chain_id = :usr_chain and 'booking.held' = any(e.events)
                     and e.deleted_at is null)) as checked
 from b;
