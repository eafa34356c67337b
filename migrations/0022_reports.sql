-- Reports for the operator console (issue 19; docs/API.md, "Reports") and the booking list's
-- new filters.

-- Every refund, when it happened. `payments.refunded_minor` only adds refunds up, and a
-- booking may be refunded several times (partial cancellations) on different days, so the
-- sales report could not say which day a refund belongs to. `db::payments::refund`, the one
-- writer of `refunded_minor`, adds a row here in the same statement. Append-only.
create table payment_refunds (
    id           uuid        not null,
    chain_id     uuid        not null,
    payment_id   uuid        not null,
    booking_id   uuid        not null,
    amount_minor bigint      not null,
    created_at   timestamptz not null default now(),
    constraint payment_refunds_pkey primary key (id),
    constraint payment_refunds_payment_fkey foreign key (payment_id) references payments (id),
    constraint payment_refunds_booking_fkey foreign key (booking_id, chain_id)
        references bookings (id, chain_id),
    constraint payment_refunds_amount_check check (amount_minor > 0)
);
create index payment_refunds_chain_created_idx on payment_refunds (chain_id, created_at);

create function payment_refunds_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'payment refunds cannot be changed or deleted'
        using errcode = 'integrity_constraint_violation';
end;
$$;
create trigger payment_refunds_append_only before update or delete on payment_refunds
    for each row execute function payment_refunds_append_only();

-- Refunds made before this migration have no time of their own: each payment's refunded sum
-- becomes one row, dated when the booking was cancelled or else when the payment last changed
-- (its last refund). Their ids are UUID v7 of that time (a v4's random bits under the
-- millisecond timestamp, version nibble 7), like every id the host makes.
insert into payment_refunds (id, chain_id, payment_id, booking_id, amount_minor, created_at)
select encode(set_byte(overlay(uuid_send(gen_random_uuid())
                               placing substring(int8send((extract(epoch from r.at) * 1000)::bigint) from 3)
                               from 1 for 6),
                       6, (get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid,
       r.chain_id, r.id, r.booking_id, r.refunded_minor, r.at
from (select p.id, p.chain_id, p.booking_id, p.refunded_minor,
             coalesce(b.cancelled_at, p.updated_at) as at
      from payments p
      join bookings b on b.id = p.booking_id
      where p.refunded_minor > 0) r;

-- The sales report reads a chain's payments by time.
create index payments_chain_created_idx on payments (chain_id, created_at);

-- The shows report reads a chain's shows by start time.
create index shows_chain_starts_idx on shows (chain_id, starts_at);

-- `GET /bookings?show_id=` pages a show's bookings of every status by id, and the shows report
-- sums the payments of a show's bookings of every status (`bookings_show_idx` has live ones
-- only).
create index bookings_show_id_idx on bookings (show_id, id);
