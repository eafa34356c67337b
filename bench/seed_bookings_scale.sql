-- Scale of data (issue 18 item 6): puts SHOWS shows and BOOKINGS bookings of history into an
-- existing chain with plain SQL (generate_series), so benchmarks run on tables of a real size
-- instead of fresh ones. Reusable: run it on any migrated database with a chain that has a
-- theatre and a movie (bench/booking_load.sh runs it after its API seed when SCALE=1):
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -v chain=<chain uuid> \
--       [-v shows=10000] [-v bookings=1000000] [-v customers=100000] -f bench/seed_bookings_scale.sql
--
-- What it writes, all in the chain's first theatre, of its first movie:
--   - ceil(SHOWS / 500) screens "Scale n" of 20 rows x 25 seats (the last 4 rows premium);
--   - SHOWS shows, 500 per screen back to back (140-minute slots), half of them in the past;
--   - CUSTOMERS customers (`scale-<n>@example.com`, an unusable password hash: nobody signs in);
--   - BOOKINGS bookings spread evenly over the shows and customers, one seat each: 60 %
--     confirmed (seats taken for good, a payment and a ticket each... the ticket only when the
--     chain has an active ticket key), 25 % expired (their seats' interval ended when they
--     lapsed), 15 % cancelled (interval ended at the cancellation); one audit row each;
--   - then ANALYZE.
-- The bench's own customers and shows get none of these, so the figures compare like with
-- like; what grows is every index the hold and payment touch (bookings, booking_seats and its
-- exclusion constraint, payments, tickets, booking_audit, the chain's indexes).
\if :{?shows}
\else
\set shows 10000
\endif
\if :{?bookings}
\else
\set bookings 1000000
\endif
\if :{?customers}
\else
\set customers 100000
\endif
\set per_screen 500
\timing on

begin;
create temporary table scale_ctx on commit drop as
select c.id as chain_id, c.currency,
       (select id from theatres t where t.chain_id = c.id order by created_at, id limit 1) as theatre_id,
       (select id from movies m where m.chain_id = c.id order by created_at, id limit 1) as movie_id
from chains c where c.id = :'chain'::uuid;

-- screens and their seats
create temporary table scale_screens on commit drop as
select n, gen_random_uuid() as id from generate_series(0, (:shows + :per_screen - 1) / :per_screen - 1) n;
insert into screens (id, chain_id, theatre_id, name)
select s.id, x.chain_id, x.theatre_id, 'Scale ' || s.n from scale_screens s, scale_ctx x;
insert into seats (chain_id, screen_id, id, row_label, number, class, blocked, position)
select x.chain_id, s.id, chr(65 + r) || '-' || (k + 1), chr(65 + r), k + 1,
       case when r >= 16 then 'premium' else 'standard' end, false, r * 25 + k
from scale_screens s, scale_ctx x, generate_series(0, 19) r, generate_series(0, 24) k;

-- shows: slot j of screen s, half before now
create temporary table scale_shows on commit drop as
select n, gen_random_uuid() as id, n % (select count(*) from scale_screens) as screen_n,
       date_trunc('hour', now())
         + ((n / (select count(*) from scale_screens)) - :per_screen / 2) * interval '140 minutes'
         as starts_at
from generate_series(0, :shows - 1) n;
insert into shows (id, chain_id, theatre_id, screen_id, movie_id, starts_at, ends_at, busy_until,
                   format, currency, prices, status)
select sh.id, x.chain_id, x.theatre_id, sc.id, x.movie_id, sh.starts_at,
       sh.starts_at + interval '120 minutes', sh.starts_at + interval '135 minutes', '2D',
       x.currency, '{"standard": 25000, "premium": 40000}'::jsonb, 'scheduled'
from scale_shows sh join scale_screens sc on sc.n = sh.screen_n, scale_ctx x;
alter table scale_shows add primary key (n);

-- customers
create temporary table scale_users on commit drop as
select n, gen_random_uuid() as id from generate_series(0, :customers - 1) n;
insert into users (id, name, email, password_hash, role, status)
select id, 'Scale Customer ' || n, 'scale-' || n || '-' || substr(id::text, 1, 8) || '@example.com',
       '!seeded-no-login', 'customer', 'approved'
from scale_users;
alter table scale_users add primary key (n);

-- bookings: booking b is on show b % shows, seat (b / shows) % 500, for customer b % customers
create temporary table scale_bookings on commit drop as
select b, gen_random_uuid() as id, sh.id as show_id, sh.starts_at, u.id as user_id,
       chr(65 + ((b / :shows) % 500) / 25) || '-' || (((b / :shows) % 500) % 25 + 1) as seat,
       case when ((b / :shows) % 500) / 25 >= 16 then 40000 else 25000 end as price,
       case when b % 20 < 12 then 'confirmed' when b % 20 < 17 then 'expired' else 'cancelled' end
         as status,
       least(sh.starts_at, now()) - interval '3 days' + (b % 1000) * interval '1 minute' as created_at
from generate_series(0, :bookings - 1) b
join scale_shows sh on sh.n = b % :shows
join scale_users u on u.n = b % :customers;

insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
                      expires_at, refund_minor, created_at, updated_at, confirmed_at, cancelled_at,
                      expired_at)
select sb.id, x.chain_id, sb.show_id, sb.user_id, sb.status, array[sb.seat],
       jsonb_build_array(jsonb_build_object('label', 'Seat ' || sb.seat, 'seat_id', sb.seat,
                                            'amount_minor', sb.price)),
       sb.price, x.currency, sb.created_at + interval '10 minutes',
       case when sb.status = 'cancelled' then sb.price end,
       sb.created_at, sb.created_at,
       case when sb.status <> 'expired' then sb.created_at + interval '2 minutes' end,
       case when sb.status = 'cancelled' then sb.created_at + interval '1 day' end,
       case when sb.status = 'expired' then sb.created_at + interval '11 minutes' end
from scale_bookings sb, scale_ctx x;

insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
select x.chain_id, sb.id, sb.show_id, sb.seat, sb.created_at,
       case sb.status when 'confirmed' then 'infinity'::timestamptz
                      when 'expired' then sb.created_at + interval '10 minutes'
                      else sb.created_at + interval '1 day' end
from scale_bookings sb, scale_ctx x;

insert into payments (id, chain_id, booking_id, user_id, amount_minor, currency, status,
                      provider_ref, refunded_minor, created_at)
select gen_random_uuid(), x.chain_id, sb.id, sb.user_id, sb.price, x.currency,
       case when sb.status = 'cancelled' then 'refunded' else 'succeeded' end,
       'test_' || sb.id, case when sb.status = 'cancelled' then sb.price else 0 end,
       sb.created_at + interval '2 minutes'
from scale_bookings sb, scale_ctx x where sb.status in ('confirmed', 'cancelled');

insert into tickets (id, chain_id, booking_id, show_id, seat_id, key_id, code, status, voided_at)
select gen_random_uuid(), x.chain_id, sb.id, sb.show_id, sb.seat, k.key_id,
       md5(sb.id::text) || md5(sb.seat || sb.id::text) || md5(sb.show_id::text),
       case when sb.status = 'cancelled' then 'void' else 'valid' end,
       case when sb.status = 'cancelled' then sb.created_at + interval '1 day' end
from scale_bookings sb, scale_ctx x
join ticket_keys k on k.chain_id = x.chain_id and k.retired_at is null
where sb.status in ('confirmed', 'cancelled');

insert into booking_audit (id, chain_id, show_id, booking_id, at, kind, from_status, to_status,
                           actor_id, detail)
select gen_random_uuid(), x.chain_id, sb.show_id, sb.id, sb.created_at, 'state', null, 'held',
       sb.user_id, 'null'::jsonb
from scale_bookings sb, scale_ctx x;
commit;

analyze;
select (select count(*) from bookings) as bookings, (select count(*) from shows) as shows,
       (select count(*) from booking_seats) as booking_seats, (select count(*) from users) as users;
