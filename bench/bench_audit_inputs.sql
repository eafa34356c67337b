-- Representative component inputs for the audit rows of bench/pgbench_least_hold.sql (and
-- pgbench_hold.sql): the host records each decision's whole input; for one seat of a 25-seat
-- row these are the sizes it writes (check-hold: the show, the seat, its row's 25 seats with
-- their state, the customer; quote: the show, the seat, the customer).
create table bench_audit_inputs (hook text primary key, input jsonb not null, input_sha256 text not null);
with show as (
    select jsonb_build_object('show_id', gen_random_uuid(), 'chain_id', gen_random_uuid(),
        'theatre_id', gen_random_uuid(), 'theatre_name', 'Bench Multiplex',
        'movie_id', gen_random_uuid(), 'movie_title', 'The Long Benchmark 0123abcd',
        'screen_name', 'Screen 1', 'format', '2D', 'starts_at_ms', 1796000000000,
        'timezone', 'Asia/Kolkata', 'currency', 'INR',
        'prices', jsonb_build_array(jsonb_build_array('standard', 25000), jsonb_build_array('premium', 40000)),
        'capacity', 500, 'seats_sold', 120) as v
), seat as (
    select jsonb_build_object('id', 'C-7', 'row', 'C', 'number', 7, 'class', 'standard') as v
), row_seats as (
    select jsonb_agg(jsonb_build_object('seat', jsonb_build_object('id', 'C-' || g, 'row', 'C',
        'number', g, 'class', 'standard'), 'taken', g % 4 = 0)) as v
    from generate_series(1, 25) g
), customer as (
    select jsonb_build_object('user_id', gen_random_uuid(), 'email', 'bench-customer-17-0123abcd@example.com',
        'confirmed_bookings', 0) as v
)
insert into bench_audit_inputs
select 'booking-rules', jsonb_build_object('show', show.v, 'seats', jsonb_build_array(seat.v),
    'row_seats', row_seats.v, 'customer', customer.v, 'now_ms', 1796000000000,
    'customer_holds', jsonb_build_object('show_seats', 0, 'chain_seats', 0)), repeat('a', 64)
from show, seat, row_seats, customer
union all
select 'pricing', jsonb_build_object('show', show.v, 'seats', jsonb_build_array(seat.v),
    'customer', customer.v, 'promo_code', null, 'now_ms', 1796000000000, 'voucher', null), repeat('b', 64)
from show, seat, customer;
