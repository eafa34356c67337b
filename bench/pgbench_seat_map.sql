-- pgbench script for bench/all.sh (row 2): the SQL of one seat-map read (GET /shows/{id}/seats,
-- host/src/http/shows.rs `show_seats`), statement for statement, -M prepared like sqlx.
-- The screen's seat layout is not read: the host keeps it in memory (host/src/seat_maps.rs).
--
-- Variables (-D): nshows = shows in bench_shows(n, id); the lookup of the show's id rides on
-- the statement the host runs anyway (a primary-key probe in the same round trip).
\set n random(0, :nshows - 1)
-- shows::find (with seats_available)
select sh.id, sh.chain_id, sh.theatre_id, sh.screen_id, sh.movie_id,
    sh.starts_at, sh.ends_at, sh.format, sh.currency, sh.prices, sh.status,
    (select count(*) from seats x where x.screen_id = sh.screen_id and not x.blocked)
      - (select count(*) from booking_seats bs where bs.show_id = sh.id
           and bs.taken_from <= clock_timestamp() and bs.taken_until > clock_timestamp())
      as seats_available
  from shows sh where sh.id = (select id from bench_shows where n = :n) \gset sh_
-- bookings::taken_seats
select seat_id, case when taken_until = 'infinity' then 'sold' else 'held' end
  from booking_seats
  where show_id = :sh_id and taken_from <= clock_timestamp() and taken_until > clock_timestamp();
