-- Seeds a migrated Cineflow database with a lived-in amount of data, fast, in plain SQL
-- (issue 18 item 6: every figure should hold with 1 000 000 bookings and 10 000 shows in the
-- database, not only on fresh tables).
--
--   psql "$DB" -v ON_ERROR_STOP=1 -v shows=10000 -v bookings=1000000 -v due=0 -v pending=0 \
--        -f bench/seed_scale.sql
--
-- Variables (all optional):
--   shows     shows to add (default 10000): one chain "Scale Chain", one theatre, one movie,
--             one screen of 500 seats (rows A-T x 25) per 100 shows, the shows back to back
--             from tomorrow on each screen (2 h, 3 h apart)
--   bookings  bookings to add over those shows (default 1000000), 2 seats each, round robin
--             (at most 250 per show): 70 % confirmed, 15 % cancelled, 15 % expired, each with
--             its booking_seats rows (the exclusion constraint holds: seats never repeat in a
--             show), and one sent `booking-confirmed` email per confirmed booking
--   customers customers the bookings belong to (default 1000)
--   due       extra held bookings whose hold ran out an hour ago, not yet recorded as expired
--             (work for the expiry job; default 0)
--   pending   extra pending emails, due now (work for the sweeper; default 0)
-- Runs in one transaction. Triggers and foreign-key checks are off while it runs
-- (session_replication_role = replica, superuser only): the rows are consistent by
-- construction, the statement-level NOTIFY of the outbox is not wanted, and it keeps 1 M
-- bookings to a couple of minutes. The exclusion constraints and unique keys still apply.
-- Ends with ANALYZE so that plans are those of the seeded sizes.

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
\set customers 1000
\endif
\if :{?due}
\else
\set due 0
\endif
\if :{?pending}
\else
\set pending 0
\endif

begin;
set local session_replication_role = replica;
set local synchronous_commit = off;

create temporary table scale_ids on commit drop as
select gen_random_uuid() as chain_id, gen_random_uuid() as theatre_id,
       gen_random_uuid() as movie_id, now() as at;

insert into chains (id, name, currency, timezone)
select chain_id, 'Scale Chain ' || left(chain_id::text, 8), 'EUR', 'UTC' from scale_ids;

insert into theatres (id, chain_id, name, description, city, pin_code, address)
select theatre_id, chain_id, 'Scale Theatre', 'seeded by bench/seed_scale.sql', 'Scaleton',
       '10115', '1 Seed Street'
from scale_ids;

insert into movies (id, title, description, cast_members, director, trailer_url, release_date,
                    release_status, languages, runtime_minutes)
select movie_id, 'Scale Movie', 'seeded', array['Someone'], 'Someone Else',
       'https://example.com/trailer', current_date, 'released', array['en'], 120
from scale_ids;

insert into theatre_movies (chain_id, theatre_id, movie_id)
select chain_id, theatre_id, movie_id from scale_ids;

create temporary table scale_screens on commit drop as
select g as n, gen_random_uuid() as id from generate_series(0, (:shows - 1) / 100) g;

insert into screens (id, chain_id, theatre_id, name)
select s.id, i.chain_id, i.theatre_id, 'Screen ' || s.n from scale_screens s, scale_ids i;

insert into seats (chain_id, screen_id, id, row_label, number, class, position)
select i.chain_id, s.id, chr(65 + p / 25) || '-' || (p % 25 + 1), chr(65 + p / 25), p % 25 + 1,
       case when p >= 400 then 'premium' else 'standard' end, p
from scale_screens s, scale_ids i, generate_series(0, 499) p;

create temporary table scale_shows on commit drop as
select g as n, gen_random_uuid() as id from generate_series(0, :shows - 1) g;

insert into shows (id, chain_id, theatre_id, screen_id, movie_id, starts_at, ends_at, busy_until,
                   currency, prices)
select sh.id, i.chain_id, i.theatre_id, sc.id, i.movie_id,
       date_trunc('day', i.at) + interval '1 day' + (sh.n % 100) * interval '3 hours',
       date_trunc('day', i.at) + interval '1 day' + (sh.n % 100) * interval '3 hours' + interval '2 hours',
       date_trunc('day', i.at) + interval '1 day' + (sh.n % 100) * interval '3 hours' + interval '2 hours 15 minutes',
       'EUR', '{"standard": 1000, "premium": 1500}'
from scale_shows sh join scale_screens sc on sc.n = sh.n / 100, scale_ids i;

create temporary table scale_customers on commit drop as
select g as n, gen_random_uuid() as id from generate_series(0, :customers - 1) g;

-- The password hash is no real hash: these customers never sign in.
insert into users (id, name, email, password_hash, role, status)
select c.id, 'Customer ' || c.n, 'scale-' || left(i.chain_id::text, 8) || '-' || c.n || '@example.com',
       'x', 'customer', 'approved'
from scale_customers c, scale_ids i;

-- Booking b: show b % shows, its (b / shows)-th booking there, seats 2k and 2k + 1 of 500.
-- The last `due` ones are held, with a hold that ran out almost two hours ago.
create temporary table scale_bookings on commit drop as
select b, gen_random_uuid() as id, b % :shows as show_n, b / :shows as k,
       case when b >= :bookings then 'held'
            when b % 20 < 14 then 'confirmed'
            when b % 20 < 17 then 'cancelled'
            else 'expired' end as status,
       (select at from scale_ids) - interval '2 hours' - ((:bookings + :due - b) * interval '1 second') as created_at
from generate_series(0, :bookings + :due - 1) b
where b / :shows < 250;

insert into bookings (id, chain_id, show_id, user_id, status, seats, items, total_minor, currency,
                      expires_at, created_at, updated_at, confirmed_at, cancelled_at, expired_at)
select bk.id, i.chain_id, sh.id, c.id, bk.status,
       array[chr(65 + (2 * bk.k) / 25) || '-' || ((2 * bk.k) % 25 + 1),
             chr(65 + (2 * bk.k + 1) / 25) || '-' || ((2 * bk.k + 1) % 25 + 1)],
       jsonb_build_array(
           jsonb_build_object('label', 'Standard seat', 'seat_id', chr(65 + (2 * bk.k) / 25) || '-' || ((2 * bk.k) % 25 + 1), 'amount_minor', 1000),
           jsonb_build_object('label', 'Standard seat', 'seat_id', chr(65 + (2 * bk.k + 1) / 25) || '-' || ((2 * bk.k + 1) % 25 + 1), 'amount_minor', 1000)),
       2000, 'EUR',
       bk.created_at + interval '10 minutes', bk.created_at, bk.created_at,
       case when bk.status in ('confirmed', 'cancelled') then bk.created_at + interval '1 minute' end,
       case when bk.status = 'cancelled' then bk.created_at + interval '2 minutes' end,
       case when bk.status = 'expired' then bk.created_at + interval '10 minutes' end
from scale_bookings bk
join scale_shows sh on sh.n = bk.show_n
join scale_customers c on c.n = bk.b % :customers,
scale_ids i;

insert into booking_seats (chain_id, booking_id, show_id, seat_id, taken_from, taken_until)
select b.chain_id, b.id, b.show_id, seat, b.created_at,
       case b.status when 'confirmed' then 'infinity'::timestamptz
                     when 'cancelled' then b.cancelled_at
                     else b.expires_at end
from bookings b join scale_bookings bk on bk.id = b.id, unnest(b.seats) seat;

insert into notifications (id, kind, chain_id, recipient_emails, fields, status, attempts,
                           next_attempt_at, sent_at, subject, created_at, updated_at)
select gen_random_uuid(), 'booking-confirmed', b.chain_id, array[u.email::text],
       jsonb_build_object('booking_id', b.id), 'sent', 1, b.confirmed_at, b.confirmed_at,
       'Your booking is confirmed', b.confirmed_at, b.confirmed_at
from bookings b join scale_bookings bk on bk.id = b.id join users u on u.id = b.user_id
where b.confirmed_at is not null;

insert into notifications (id, kind, chain_id, recipient_emails, fields, subject)
select gen_random_uuid(), 'custom', i.chain_id, array['pending-' || g || '@example.com'],
       jsonb_build_object('subject', 'Pending ' || g, 'content', 'seeded by bench/seed_scale.sql'),
       'Pending ' || g
from generate_series(1, :pending) g, scale_ids i;

select (select count(*) from scale_shows) as shows_added,
       (select count(*) from scale_bookings) as bookings_added,
       (select count(*) from scale_bookings where status = 'held') as due_holds_added,
       :pending as pending_emails_added;
commit;

analyze;
