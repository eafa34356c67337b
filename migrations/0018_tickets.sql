-- Signed tickets and check-in (issue 17; docs/tickets.md).
--
-- Each chain signs its tickets with an Ed25519 key. The private half is stored sealed
-- (XChaCha20-Poly1305 under a key derived from the token secret, host/src/domain/tickets/keys.rs)
-- and never leaves the host; the public half is published at GET /chains/{id}/checkin-keys so a
-- scanner verifies codes offline. At most one active key per chain (`ticket_keys_active_key`):
-- the lazy creation of the first key inserts with `on conflict do nothing` and reads back.
create table ticket_keys (
    -- First 8 bytes of sha256(public key), hex: what a code names its key by.
    key_id      text        not null,
    chain_id    uuid        not null,
    public_key  bytea       not null,
    -- 24-byte nonce then ciphertext and tag of the 32-byte seed.
    sealed_key  bytea       not null,
    created_at  timestamptz not null default now(),
    retired_at  timestamptz,
    -- A retired key verifies codes until then: the end of the last show it has valid
    -- tickets for (set at rotation). Null while active.
    valid_until timestamptz,
    constraint ticket_keys_pkey primary key (key_id),
    constraint ticket_keys_chain_fkey foreign key (chain_id) references chains (id),
    constraint ticket_keys_key_id_check check (key_id ~ '^[0-9a-f]{16}$'),
    constraint ticket_keys_public_key_check check (octet_length(public_key) = 32),
    constraint ticket_keys_retired_check check ((retired_at is null) = (valid_until is null))
);
create unique index ticket_keys_active_key on ticket_keys (chain_id) where retired_at is null;
create index ticket_keys_chain_idx on ticket_keys (chain_id, created_at);

-- One ticket per seat of a confirmed booking, issued in the payment's transaction. A cancelled
-- seat's ticket is `void`; a scanned one `used` (its first scan kept here).
create table tickets (
    id              uuid        not null,
    chain_id        uuid        not null,
    booking_id      uuid        not null,
    show_id         uuid        not null,
    seat_id         text        not null,
    key_id          text        not null,
    -- The signed code (docs/tickets.md, "The code"); deterministic for its key and fields.
    code            text        not null,
    status          text        not null default 'valid',
    created_at      timestamptz not null default now(),
    voided_at       timestamptz,
    checked_in_at   timestamptz,
    checked_in_gate text,
    constraint tickets_pkey primary key (id),
    constraint tickets_booking_seat_key unique (booking_id, seat_id),
    constraint tickets_booking_fkey foreign key (booking_id, chain_id)
        references bookings (id, chain_id),
    constraint tickets_show_fkey foreign key (show_id, chain_id) references shows (id, chain_id),
    constraint tickets_key_fkey foreign key (key_id) references ticket_keys (key_id),
    constraint tickets_status_check check (status in ('valid', 'void', 'used')),
    constraint tickets_used_check check ((status = 'used') = (checked_in_at is not null))
);
create index tickets_show_idx on tickets (show_id, status);
create index tickets_key_idx on tickets (key_id) where status = 'valid';

-- Every scan uploaded, with the answer it got: the same (chain, scan_id) again gets exactly
-- that answer (a scanner re-uploading after being offline). The scan row is inserted first, so
-- a concurrent duplicate waits on `checkin_scans_scan_key` and then reads the stored answer.
create table checkin_scans (
    id          uuid        not null,
    chain_id    uuid        not null,
    scan_id     text        not null,
    ticket_id   uuid,
    gate        text,
    scanned_at  timestamptz,
    received_at timestamptz not null default now(),
    user_id     uuid,
    result      text,
    answer      jsonb,
    constraint checkin_scans_pkey primary key (id),
    constraint checkin_scans_chain_fkey foreign key (chain_id) references chains (id),
    constraint checkin_scans_user_fkey foreign key (user_id) references users (id)
        on delete set null,
    constraint checkin_scans_scan_id_check check (char_length(scan_id) between 1 and 128),
    constraint checkin_scans_gate_check check (gate is null or char_length(gate) between 1 and 64)
);
create unique index checkin_scans_scan_key on checkin_scans (chain_id, scan_id);
create index checkin_scans_ticket_idx on checkin_scans (ticket_id) where ticket_id is not null;
