-- pgbench script for bench/booking_load.sh: the SQL of one payment (host/src/bookings.rs
-- `pay` and the AuthUser extractor), statement for statement, -M prepared like sqlx.
--
-- Variables (-D): nc = clients, k = 0 (per-client counter). Request i = k * nc + client_id
-- pays booking n = i of bench_pay_queue(n, booking_id, user_id), which booking_load.sh fills
-- with the holds of the preceding pgbench hold phase; run with -t so that nc * t <= queue.
-- The queue lookup rides on the user lookup the host does anyway (same round trip).
\set i :k * :nc + :client_id
\set k :k + 1
-- AuthUser: users::find(claims.sub)
select u.id, u.name, u.email::text as email, u.role, u.status, u.token_version, u.created_at,
    q.booking_id as bid
  from bench_pay_queue q join users u on u.id = q.user_id where q.n = :i \gset usr_
begin;
-- bookings::lock
select id, chain_id, show_id, user_id, status, seats, items, total_minor, currency, promo_code,
    expires_at, refund_minor, created_at
  from bookings where id = :usr_bid for update \gset bk_
-- bookings::confirm
update booking_seats set taken_until = 'infinity' where booking_id = :usr_bid;
update bookings set status = 'confirmed', confirmed_at = now() where id = :usr_bid
  returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
    promo_code, expires_at, refund_minor, created_at;
-- (the test gateway charges here)
-- payments::insert
insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency, provider_ref)
  values (bench_uuid7(), :bk_chain_id, :usr_bid, :usr_id, :bk_total_minor, :bk_currency,
    'test_' || :usr_bid::text)
  returning id, chain_id, booking_id, user_id, amount_minor, currency, status, provider_ref,
    refunded_minor, created_at;
-- shows::context
select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id, sh.starts_at,
    sh.ends_at, sh.format, sh.currency, sh.prices, sh.status,
    t.name as theatre_name, m.title as movie_title, sc.name as screen_name, c.timezone
  from shows sh
  join theatres t on t.id = sh.theatre_id
  join movies m on m.id = sh.movie_id
  join screens sc on sc.id = sh.screen_id
  join chains c on c.id = sh.chain_id
  where sh.id = :bk_show_id \gset ctx_
-- outbox::enqueue (booking-confirmed email)
insert into notifications (id, kind, chain_id, recipient_emails, fields, dedupe_key)
  values (bench_uuid7(), 'booking-confirmed', :bk_chain_id, array[:usr_email::text],
    jsonb_build_object('name', :usr_name::text, 'movie-title', :ctx_movie_title::text,
      'theatre-name', :ctx_theatre_name::text, 'screen-name', :ctx_screen_name::text,
      'seats', array_to_string(:bk_seats::text[], ', '), 'starts-at', :ctx_starts_at::text,
      'total', 'INR ' || (:bk_total_minor::bigint / 100)::text || '.00',
      'booking-id', :usr_bid::text),
    'booking-confirmed:' || :usr_bid::text)
  on conflict (dedupe_key) do nothing
  returning id;
-- audit::record: held -> confirmed, in one statement
insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
    actor_id, hook, component_id, fuel_used, duration_us, detail)
  select e.id, :bk_chain_id, :bk_show_id, :usr_bid, e.kind, e.from_status, e.to_status, e.actor_id,
         e.hook, e.component_id, e.fuel_used, e.duration_us, e.detail
  from unnest(array[bench_uuid7()], array['state'], array['held'], array['confirmed'],
              array[:usr_id::uuid], array[null]::text[], array[null]::text[],
              array[null]::bigint[], array[null]::bigint[], array['null'::jsonb])
    as e(id, kind, from_status, to_status, actor_id, hook, component_id, fuel_used,
         duration_us, detail);
commit;
