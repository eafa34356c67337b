-- Issue 14: "live booking" stated once in SQL, and the fourth hook, seat-picker.

-- A booking is live (its seats are taken) when it is confirmed, or held and its hold has not
-- run out at the statement's instant. Every query that asks goes through this function; the
-- Rust twin is `BookingStatus::is_live`. A `language sql` function this simple is inlined by
-- the planner, so the indexes on (status, expires_at) still serve the queries that use it.
create function booking_is_live(status text, expires_at timestamptz) returns boolean
    language sql stable parallel safe
    return status = 'confirmed' or (status = 'held' and expires_at > statement_timestamp());

alter table platform_defaults drop constraint platform_defaults_hook_check;
alter table platform_defaults add constraint platform_defaults_hook_check
    check (hook in ('booking-rules', 'pricing', 'notify-templates', 'seat-picker'));

alter table chain_components drop constraint chain_components_hook_check;
alter table chain_components add constraint chain_components_hook_check
    check (hook in ('booking-rules', 'pricing', 'notify-templates', 'seat-picker'));
