-- pgbench script for bench/booking_load.sh: the SQL of one hold (host/src/bookings.rs `hold`
-- and the AuthUser extractor), statement for statement, with the same parameters the host
-- binds (-M prepared = the extended protocol with prepared statements, as sqlx).
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
-- AuthUser: users::find(claims.sub)
select u.id, u.name, u.email::text as email, u.role, u.status, u.token_version, u.created_at
  from bench_users bu join users u on u.id = bu.id where bu.n = :u \gset usr_
-- shows::context
select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id, sh.starts_at,
    sh.ends_at, sh.format, sh.currency, sh.prices, sh.status,
    t.name as theatre_name, m.title as movie_title, sc.name as screen_name, c.timezone
  from shows sh
  join theatres t on t.id = sh.theatre_id
  join movies m on m.id = sh.movie_id
  join screens sc on sc.id = sh.screen_id
  join chains c on c.id = sh.chain_id
  where sh.id = (select id from bench_shows where n = :show) \gset ctx_
-- screens::seats is not here: the host caches seat maps in memory (host/src/seat_maps.rs)
-- and reads them once per screen, not once per hold.
-- bookings::taken_among: the count, and which seats of the requested seat's row are taken
select count(*), coalesce(array_agg(seat_id) filter (where seat_id = any(
    array(select chr(65 + :row::int) || '-' || g from generate_series(1, 25) g))), '{}')
  from booking_seats
  where show_id = :ctx_id and taken_from <= clock_timestamp() and taken_until > clock_timestamp();
-- bookings::confirmed_count
select count(*) from bookings where user_id = :usr_id and chain_id = :ctx_chain_id and status = 'confirmed';
-- (components run here, outside any transaction)
begin;
-- shows::lock_for_hold
select pg_advisory_xact_lock_shared(hashtextextended(:ctx_id::text, 7));
select status from shows where id = :ctx_id and starts_at > now();
-- bookings::insert_hold
insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor,
    currency, promo_code, expires_at)
  values (bench_uuid7(), :ctx_chain_id, :ctx_id, :usr_id, 'held',
    array[chr(65 + :row::int) || '-' || :num::text],
    jsonb_build_array(jsonb_build_object(
      'label', 'Seat ' || chr(65 + :row::int) || '-' || :num::text
               || case when :row::int >= 16 then ' (premium)' else ' (standard)' end,
      'seat_id', chr(65 + :row::int) || '-' || :num::text,
      'amount_minor', :price::bigint)),
    :price, :ctx_currency, null, clock_timestamp() + make_interval(secs => 600::float8))
  returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
    promo_code, expires_at, refund_minor, created_at \gset bk_
insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
  select :ctx_chain_id::uuid, :bk_id::uuid, :ctx_id::uuid, s, clock_timestamp(), :bk_expires_at::timestamptz
  from unnest(array[chr(65 + :row::int) || '-' || :num::text]) s order by s;
-- audit::record: state, booking-rules decision, pricing decision, in one statement
insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
    actor_id, hook, component_id, fuel_used, duration_us, detail)
  select e.id, :ctx_chain_id, :ctx_id, :bk_id, e.kind, e.from_status, e.to_status, e.actor_id, e.hook,
         e.component_id, e.fuel_used, e.duration_us, e.detail
  from unnest(array[bench_uuid7(), bench_uuid7(), bench_uuid7()],
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
                    jsonb_build_object('total_minor', :price::bigint, 'items', 1)])
    as e(id, kind, from_status, to_status, actor_id, hook, component_id, fuel_used,
         duration_us, detail);
commit;
