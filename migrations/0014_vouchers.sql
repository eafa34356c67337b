-- Vouchers (issue 16): codes a chain's staff hand out, each redeemable `max_redemptions` times
-- within a validity window, for some shows or movies or all of the chain's, with a discount the
-- chain's pricing component interprets. docs/bookings.md, "Vouchers".
--
-- A redemption is a booking that names the voucher (`bookings.voucher_id`); it counts while the
-- booking is live (`booking_is_live()`): a hold releases it at `expires_at` or when cancelled, a
-- confirmed booking keeps it until it is cancelled. So there is no counter to keep true and no
-- job: the count of live bookings of a voucher is the count of its redemptions. Claims are
-- serialised by a row lock of the voucher, taken in the hold's transaction before the count is
-- read (host/src/db/vouchers.rs, `lock`).
create table vouchers (
    id                    uuid        not null,
    chain_id              uuid        not null,
    -- As the staff typed it; unique and matched case-insensitively (`vouchers_chain_code_key`).
    code                  text        not null,
    max_redemptions       integer     not null,
    valid_from            timestamptz,
    valid_until           timestamptz,
    -- Empty and empty: every show of the chain. Otherwise a show in `show_ids`, or of a movie
    -- in `movie_ids`.
    show_ids              uuid[]      not null default '{}',
    movie_ids             uuid[]      not null default '{}',
    -- Exactly one of the two: a percentage off, or an amount off in the chain's minor units.
    discount_percent      smallint,
    discount_amount_minor bigint,
    active                boolean     not null default true,
    created_by            uuid,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    constraint vouchers_pkey primary key (id),
    constraint vouchers_id_chain_key unique (id, chain_id),
    constraint vouchers_chain_fkey foreign key (chain_id) references chains (id),
    constraint vouchers_user_fkey foreign key (created_by) references users (id) on delete set null,
    constraint vouchers_code_check check (code ~ '^[A-Za-z0-9_-]{3,32}$'),
    constraint vouchers_max_redemptions_check check (max_redemptions between 1 and 1000000),
    constraint vouchers_window_check
        check (valid_from is null or valid_until is null or valid_from < valid_until),
    constraint vouchers_scope_check
        check (cardinality(show_ids) <= 100 and cardinality(movie_ids) <= 100),
    constraint vouchers_discount_check
        check ((discount_percent is null) <> (discount_amount_minor is null)),
    constraint vouchers_percent_check check (discount_percent between 1 and 100),
    constraint vouchers_amount_check check (discount_amount_minor > 0)
);
create unique index vouchers_chain_code_key on vouchers (chain_id, upper(code));
create trigger vouchers_updated_at before update on vouchers
    for each row execute function set_updated_at();

-- The booking's voucher (its redemption) and what the voucher took off its price.
alter table bookings
    add column voucher_id uuid,
    add column discount_minor bigint not null default 0,
    add constraint bookings_voucher_fkey foreign key (voucher_id, chain_id)
        references vouchers (id, chain_id),
    add constraint bookings_discount_check check (discount_minor >= 0);
create index bookings_voucher_idx on bookings (voucher_id, id) where voucher_id is not null;

-- The code of a booking's voucher, as the voucher spells it (codes never change).
create function booking_voucher_code(voucher uuid) returns text
    language sql stable parallel safe
    return (select code from vouchers where id = voucher);
