-- Partial cancellation: some seats of a confirmed booking are cancelled, the booking keeps the
-- rest. Its `total_minor` becomes what the kept seats cost, while `refund_minor` adds up every
-- refund the booking has had, so the old bound "refund <= total" no longer holds. What bounds
-- the refunds is the payment: `payments_refund_check` (refunded_minor <= amount_minor) is
-- untouched, and every refund of a paid booking goes through it.
alter table bookings drop constraint bookings_refund_check;
alter table bookings add constraint bookings_refund_check
    check (refund_minor is null or refund_minor >= 0);
