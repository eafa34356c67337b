-- pgbench script for bench/booking_load.sh: the SQL of one payment (host/src/domain/bookings/pay.rs
-- `pay` and the AuthUser extractor), statement for statement, -M prepared like sqlx: the second
-- baseline ("same SQL"); bench/pgbench_least_pay.sql is the first (the least SQL).
-- Ten round trips: the user, begin, the booking locked, its confirmation (which also says
-- whether the chain has a webhook endpoint for its events), the chain's ticket key, the
-- payment, the tickets (inserted and read back in one statement), the outbox row, the audit,
-- commit. (With an endpoint, the host adds one statement for both events' deliveries; the
-- bench chain has none. The show context comes from the host's memory.)
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
-- bookings::lock_by_id
select id, chain_id, show_id, user_id, status, seats, items, total_minor, currency, promo_code,
    expires_at, refund_minor, created_at, voucher_id, booking_voucher_code(voucher_id) as voucher_code,
    discount_minor, booking_is_live(status, expires_at) as live
  from bookings where id = :usr_bid for update \gset bk_
-- bookings::confirm (and the versions of the show's context)
with b as (
    update bookings set status = 'confirmed', confirmed_at = statement_timestamp()
    where chain_id = :bk_chain_id and id = :usr_bid and status = 'held'
      and booking_is_live(status, expires_at)
    returning id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
           promo_code, expires_at, refund_minor, created_at, voucher_id, discount_minor),
 s as (
    update booking_seats set taken_until = 'infinity'
    where chain_id = :bk_chain_id and booking_id = (select id from b))
 select b.id, b.chain_id, b.show_id, b.user_id, b.status, b.seats, b.items, b.total_minor,
        b.currency, b.promo_code, b.expires_at, b.refund_minor, b.created_at, b.voucher_id,
        booking_voucher_code(b.voucher_id) as voucher_code, b.discount_minor,
        sh.updated_at as show_version, c.updated_at as chain_version,
        exists(select 1 from webhook_endpoints e
               where e.chain_id = :bk_chain_id and e.deleted_at is null
                 and e.events && array['booking.confirmed', 'payment.succeeded']) as webhooks
 from b join shows sh on sh.id = b.show_id join chains c on c.id = b.chain_id;
-- tickets::prepare: the chain's active key, share-locked (its signing half is in memory)
select key_id, public_key, created_at, retired_at, valid_until, true as usable
  from ticket_keys where chain_id = :bk_chain_id and retired_at is null for share \gset key_
-- (the test gateway charges here)
-- payments::insert
insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency, provider_ref,
    gift_card_id, gift_card_minor)
  values (bench_uuid7(), :bk_chain_id, :usr_bid, :usr_id, :bk_total_minor, :bk_currency,
    'test_' || :usr_bid::text, null, 0)
  returning id, chain_id, booking_id, user_id, amount_minor, currency, status, provider_ref,
    refunded_minor, gift_card_id, gift_card_minor, created_at \gset pay_
-- tickets::store: insert_tickets, which answers all of the booking's tickets
with i as (
    insert into tickets (id, chain_id, booking_id, show_id, seat_id, key_id, code)
    select bench_uuid7(), :bk_chain_id, :usr_bid, :bk_show_id, x, :key_key_id,
           md5(:usr_bid::text || x) || md5(x || :usr_bid::text) || md5(:bk_show_id::text || x)
    from unnest(:bk_seats::text[]) x
    on conflict (booking_id, seat_id) do nothing
    returning id, chain_id, booking_id, show_id, seat_id, key_id, code, status, checked_in_at,
              checked_in_gate)
select * from (select * from i
               union all
               select id, chain_id, booking_id, show_id, seat_id, key_id, code, status,
                      checked_in_at, checked_in_gate
               from tickets where chain_id = :bk_chain_id and booking_id = :usr_bid) t
  order by id;
-- outbox::enqueue (booking-confirmed email; names from the cached show context)
insert into notifications (id, kind, chain_id, recipient_emails, fields, dedupe_key)
  values (bench_uuid7(), 'booking-confirmed', :bk_chain_id, array[:usr_email::text],
    jsonb_build_object('name', :usr_name::text, 'movie-title', 'The Long Benchmark 0123abcd',
      'theatre-name', 'Bench Multiplex', 'screen-name', 'Screen 1',
      'seats', array_to_string(:bk_seats::text[], ', '), 'starts-at', 'Tue, 8 Dec 2026, 9:30 pm IST',
      'total', 'INR ' || (:bk_total_minor::bigint / 100)::text || '.00',
      'booking-id', :usr_bid::text,
      'ticket-links', 'https://cineflow.example/api/v1/tickets/' || :usr_bid::text || '/image'),
    'booking-confirmed:' || :usr_bid::text)
  on conflict (dedupe_key) do nothing
  returning id;
-- audit::record: held -> confirmed, in one statement
insert into booking_audit (id, chain_id, show_id, booking_id, kind, from_status, to_status,
    actor_id, hook, component_id, fuel_used, duration_us, detail, function, input,
    input_sha256, output, canary)
  select e.id, :bk_chain_id, :bk_show_id, :usr_bid, e.kind, e.from_status, e.to_status, e.actor_id,
         e.hook, e.component_id, e.fuel_used, e.duration_us, e.detail, null, null, null, null, false
  from unnest(array[bench_uuid7()], array['state'], array['held'], array['confirmed'],
              array[:usr_id::uuid], array[null]::text[], array[null]::text[],
              array[null]::bigint[], array[null]::bigint[], array['null'::jsonb])
    as e(id, kind, from_status, to_status, actor_id, hook, component_id, fuel_used,
         duration_us, detail);
commit;
