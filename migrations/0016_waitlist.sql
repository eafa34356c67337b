-- Waiting lists (issue 16): a customer waits for n seats of a sold-out show; seats that free
-- up are offered in queue order as real holds (docs/bookings.md, "Waiting lists").

create table waitlist_entries (
    id               uuid        not null,
    chain_id         uuid        not null,
    show_id          uuid        not null,
    user_id          uuid        not null,
    seat_count       integer     not null,
    seat_class       text,
    status           text        not null default 'waiting',
    -- The offer's hold, once offered.
    booking_id       uuid,
    -- How long an offer lasts, decided by the chain's booking rules when the customer joined.
    offer_seconds    integer     not null,
    offer_expires_at timestamptz,
    created_at       timestamptz not null default statement_timestamp(),
    updated_at       timestamptz not null default now(),
    constraint waitlist_entries_pkey primary key (id),
    constraint waitlist_entries_show_fkey foreign key (show_id, chain_id) references shows (id, chain_id),
    constraint waitlist_entries_user_fkey foreign key (user_id) references users (id),
    constraint waitlist_entries_booking_fkey foreign key (booking_id, chain_id)
        references bookings (id, chain_id),
    -- One entry per offer hold.
    constraint waitlist_entries_booking_key unique (booking_id),
    constraint waitlist_entries_seat_count_check check (seat_count between 1 and 10),
    constraint waitlist_entries_seat_class_check
        check (seat_class is null or seat_class in ('standard', 'premium', 'vip', 'accessible')),
    constraint waitlist_entries_status_check
        check (status in ('waiting', 'offered', 'booked', 'expired', 'left')),
    constraint waitlist_entries_offer_seconds_check check (offer_seconds between 1 and 86400),
    -- Waiting entries have no offer; offered and booked ones have their hold and its expiry.
    constraint waitlist_entries_offer_check check (
        (status <> 'waiting' or (booking_id is null and offer_expires_at is null))
        and (status not in ('offered', 'booked')
             or (booking_id is not null and offer_expires_at is not null)))
);
create trigger waitlist_entries_updated_at before update on waitlist_entries
    for each row execute function set_updated_at();
-- One active (waiting or offered) entry per customer and show: joining twice is 409
-- already_waiting, decided here whatever the replicas race.
create unique index waitlist_entries_active_key on waitlist_entries (show_id, user_id)
    where status in ('waiting', 'offered');
-- The queue, in order.
create index waitlist_entries_queue_idx on waitlist_entries (show_id, created_at, id)
    where status = 'waiting';
-- Open offers, by their hold.
create index waitlist_entries_offered_idx on waitlist_entries (booking_id)
    where status = 'offered';
create index waitlist_entries_user_idx on waitlist_entries (user_id, id);
create index waitlist_entries_chain_user_idx on waitlist_entries (chain_id, user_id)
    where status in ('waiting', 'offered');

-- The entry state machine, for every writer: waiting -> offered | left | expired,
-- offered -> booked | expired | left. Nothing else.
create function waitlist_entries_check_transition() returns trigger
language plpgsql as $$
begin
    if new.status = old.status then
        return new;
    end if;
    if (old.status = 'waiting' and new.status in ('offered', 'left', 'expired'))
        or (old.status = 'offered' and new.status in ('booked', 'expired', 'left')) then
        return new;
    end if;
    raise exception 'waiting-list entry % cannot go from % to %', old.id, old.status, new.status
        using errcode = 'check_violation', constraint = 'waitlist_entries_transition_check';
end;
$$;
create trigger waitlist_entries_transition before update of status on waitlist_entries
    for each row execute function waitlist_entries_check_transition();

-- An offer follows its hold, whoever changes the booking (payment, cancellation by the
-- customer or the chain, a cancelled show), in the booking's own transaction: paid -> booked;
-- cancelled -> left (expired when the show itself was cancelled). A hold that ran out is
-- recorded by the waiting-list sweep, which also sends the "offer expired" email.
create function waitlist_entries_follow_booking() returns trigger
language plpgsql as $$
begin
    if new.status = 'confirmed' then
        update waitlist_entries set status = 'booked'
        where booking_id = new.id and status = 'offered';
    elsif new.status = 'cancelled' then
        update waitlist_entries
        set status = case when exists (select 1 from shows s
                                       where s.id = new.show_id and s.status = 'cancelled')
                          then 'expired' else 'left' end
        where booking_id = new.id and status = 'offered';
    end if;
    return null;
end;
$$;
create trigger bookings_waitlist after update of status on bookings
    for each row when (new.status is distinct from old.status
                       and new.status in ('confirmed', 'cancelled'))
    execute function waitlist_entries_follow_booking();

-- A cancelled show's queue is over: its waiting entries expire (offered ones follow their
-- holds, which the cancellation cancels).
create function waitlist_entries_follow_show() returns trigger
language plpgsql as $$
begin
    update waitlist_entries set status = 'expired'
    where show_id = new.id and status = 'waiting';
    return null;
end;
$$;
create trigger shows_waitlist after update of status on shows
    for each row when (new.status = 'cancelled' and old.status is distinct from new.status)
    execute function waitlist_entries_follow_show();

-- The waiting list's emails (event kinds new in WIT 0.3.0).
alter table notifications drop constraint notifications_kind_check;
alter table notifications add constraint notifications_kind_check check (kind in (
    'theatre-created', 'account-approved', 'booking-confirmed', 'booking-cancelled',
    'booking-expired', 'show-cancelled', 'custom', 'waitlist-offer', 'waitlist-offer-expired'));
