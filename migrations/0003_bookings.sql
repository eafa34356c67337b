-- Bookings, their seats, payments, idempotency keys and the audit trail.

create table bookings (
    id           uuid        not null,
    chain_id     uuid        not null,
    show_id      uuid        not null,
    user_id      uuid        not null,
    status       text        not null default 'held',
    seats        text[]      not null,
    items        jsonb       not null,
    total_minor  bigint      not null,
    currency     text        not null,
    promo_code   text,
    expires_at   timestamptz not null,
    refund_minor bigint,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    confirmed_at timestamptz,
    cancelled_at timestamptz,
    expired_at   timestamptz,
    constraint bookings_pkey primary key (id),
    constraint bookings_id_chain_key unique (id, chain_id),
    -- No cascade: a show (or its theatre) with bookings cannot be deleted (409 in_use).
    constraint bookings_show_fkey foreign key (show_id, chain_id) references shows (id, chain_id),
    constraint bookings_user_fkey foreign key (user_id) references users (id),
    constraint bookings_status_check check (status in ('held', 'confirmed', 'cancelled', 'expired')),
    constraint bookings_total_check check (total_minor >= 0),
    constraint bookings_refund_check check (refund_minor is null or refund_minor between 0 and total_minor),
    constraint bookings_seats_check check (cardinality(seats) between 1 and 50),
    constraint bookings_currency_check check (currency ~ '^[A-Z]{3}$')
);
create trigger bookings_updated_at before update on bookings
    for each row execute function set_updated_at();
create index bookings_user_idx on bookings (user_id, id);
create index bookings_chain_idx on bookings (chain_id, id);
create index bookings_show_idx on bookings (show_id) where status in ('held', 'confirmed');
create index bookings_due_idx on bookings (expires_at) where status = 'held';

-- The booking state machine, enforced for every writer: held -> confirmed | expired |
-- cancelled, confirmed -> cancelled. Nothing else.
create function bookings_check_transition() returns trigger
language plpgsql as $$
begin
    if new.status = old.status then
        return new;
    end if;
    if (old.status = 'held' and new.status in ('confirmed', 'expired', 'cancelled'))
        or (old.status = 'confirmed' and new.status = 'cancelled') then
        return new;
    end if;
    raise exception 'booking % cannot go from % to %', old.id, old.status, new.status
        using errcode = 'check_violation', constraint = 'bookings_transition_check';
end;
$$;
create trigger bookings_transition before update of status on bookings
    for each row execute function bookings_check_transition();

-- A seat is taken for the show during [taken_from, taken_until): a hold until it expires, a
-- confirmed booking for ever, a cancelled one until the moment it was cancelled. The
-- exclusion constraint makes selling a seat twice impossible whatever the code does, and an
-- expired hold stops blocking the moment it expires, without waiting for a sweep.
create table booking_seats (
    chain_id    uuid        not null,
    booking_id  uuid        not null,
    show_id     uuid        not null,
    seat_id     text        not null,
    taken_from  timestamptz not null,
    taken_until timestamptz not null,
    constraint booking_seats_pkey primary key (booking_id, seat_id),
    constraint booking_seats_booking_fkey foreign key (booking_id, chain_id)
        references bookings (id, chain_id) on delete cascade,
    constraint booking_seats_range_check check (taken_from <= taken_until),
    constraint booking_seats_live_key exclude using gist (
        show_id with =,
        seat_id with =,
        tstzrange(taken_from, taken_until, '[)') with &&
    )
);
create index booking_seats_show_idx on booking_seats (show_id, taken_until);

create table payments (
    id              uuid        not null,
    chain_id        uuid        not null,
    booking_id      uuid        not null,
    user_id         uuid        not null,
    amount_minor    bigint      not null,
    currency        text        not null,
    status          text        not null default 'succeeded',
    provider_ref    text        not null,
    refunded_minor  bigint      not null default 0,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint payments_pkey primary key (id),
    -- One payment per booking: a double payment, even a simultaneous one, cannot happen.
    constraint payments_booking_key unique (booking_id),
    constraint payments_booking_fkey foreign key (booking_id, chain_id) references bookings (id, chain_id),
    constraint payments_user_fkey foreign key (user_id) references users (id),
    constraint payments_amount_check check (amount_minor >= 0),
    constraint payments_refund_check check (refunded_minor between 0 and amount_minor),
    constraint payments_status_check check (status in ('succeeded', 'refunded', 'partially_refunded'))
);
create trigger payments_updated_at before update on payments
    for each row execute function set_updated_at();
create index payments_user_idx on payments (user_id, id);
create index payments_chain_idx on payments (chain_id, id);

-- Idempotency-Key: the first response to (user, key) is kept for 24 h and replayed.
create table idempotency_keys (
    user_id     uuid        not null,
    key         text        not null,
    request     text        not null,
    status_code integer,
    response    jsonb,
    created_at  timestamptz not null default now(),
    constraint idempotency_keys_pkey primary key (user_id, key),
    constraint idempotency_keys_user_fkey foreign key (user_id) references users (id) on delete cascade,
    constraint idempotency_keys_key_check check (length(key) between 1 and 255)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

-- What happened to each booking, and which component decisions shaped it. A refused hold
-- has no booking: its entry carries the show only.
create table booking_audit (
    id           uuid        not null,
    chain_id     uuid        not null,
    booking_id   uuid,
    show_id      uuid        not null,
    at           timestamptz not null default now(),
    kind         text        not null,
    from_status  text,
    to_status    text,
    actor_id     uuid,
    hook         text,
    component_id text,
    fuel_used    bigint,
    duration_us  bigint,
    detail       jsonb       not null default '{}'::jsonb,
    constraint booking_audit_pkey primary key (id),
    constraint booking_audit_booking_fkey foreign key (booking_id, chain_id)
        references bookings (id, chain_id) on delete cascade,
    constraint booking_audit_kind_check check (kind in ('state', 'decision'))
);
create index booking_audit_booking_idx on booking_audit (booking_id, id);
create index booking_audit_chain_idx on booking_audit (chain_id, id);
