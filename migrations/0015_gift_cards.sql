-- Gift cards (issue 16): a chain's staff issue cards with an amount; a payment may spend a
-- card first; a refund returns the card's part to it. docs/bookings.md, "Gift cards".
--
-- Guarantees, each held by the database:
-- - a balance never goes below zero: `gift_cards_balance_check`, and a spend is one
--   conditional update (`... where balance_minor >= $n`) in the payment's transaction;
-- - every movement is a ledger row and the balance is their sum: the deferred constraint
--   trigger `gift_card_movements_balance` checks the sum at commit of every transaction that
--   changed a card or wrote a movement, and movements can be neither changed nor deleted.

-- Only a sha256 of the code is stored: codes carry 100 random bits, so no slow hash is needed
-- (nobody can enumerate 2^100 candidates against a fast one either). `hint` is the code's last
-- four characters, for staff lists.
create table gift_cards (
    id             uuid        not null,
    chain_id       uuid        not null,
    code_sha256    bytea       not null,
    hint           text        not null,
    currency       text        not null,
    initial_minor  bigint      not null,
    balance_minor  bigint      not null,
    created_by     uuid        not null,
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint gift_cards_pkey primary key (id),
    constraint gift_cards_id_chain_key unique (id, chain_id),
    constraint gift_cards_code_key unique (code_sha256),
    constraint gift_cards_chain_fkey foreign key (chain_id) references chains (id),
    constraint gift_cards_created_by_fkey foreign key (created_by) references users (id),
    constraint gift_cards_code_check check (octet_length(code_sha256) = 32),
    constraint gift_cards_hint_check check (hint ~ '^[0-9A-Z]{4}$'),
    constraint gift_cards_currency_check check (currency ~ '^[A-Z]{3}$'),
    constraint gift_cards_initial_check check (initial_minor > 0),
    constraint gift_cards_balance_check check (balance_minor >= 0)
);
create trigger gift_cards_updated_at before update on gift_cards
    for each row execute function set_updated_at();
create index gift_cards_chain_idx on gift_cards (chain_id, id);

-- What a payment spent of a card, and what refunds returned to it so far (cumulative, so that
-- several partial refunds never return more than the card paid).
alter table payments
    add column gift_card_id uuid,
    add column gift_card_minor bigint not null default 0,
    add column gift_card_refunded_minor bigint not null default 0,
    add constraint payments_gift_card_fkey foreign key (gift_card_id, chain_id)
        references gift_cards (id, chain_id),
    add constraint payments_gift_card_check check (
        gift_card_minor between 0 and amount_minor
        and (gift_card_id is not null or gift_card_minor = 0)),
    add constraint payments_gift_card_refund_check
        check (gift_card_refunded_minor between 0 and gift_card_minor);

-- The ledger: one row per change of a card's balance. `amount_minor` is signed (a spend is
-- negative) and never zero; `balance_after_minor` is the card's balance after it.
create table gift_card_movements (
    id                  uuid        not null,
    card_id             uuid        not null,
    chain_id            uuid        not null,
    kind                text        not null,
    amount_minor        bigint      not null,
    balance_after_minor bigint      not null,
    booking_id          uuid,
    payment_id          uuid,
    actor_id            uuid,
    created_at          timestamptz not null default now(),
    constraint gift_card_movements_pkey primary key (id),
    constraint gift_card_movements_card_fkey foreign key (card_id, chain_id)
        references gift_cards (id, chain_id),
    constraint gift_card_movements_booking_fkey foreign key (booking_id, chain_id)
        references bookings (id, chain_id),
    -- A spend is written before its payment row (the card is debited before the charge), in
    -- the same transaction: checked at commit.
    constraint gift_card_movements_payment_fkey foreign key (payment_id) references payments (id)
        deferrable initially deferred,
    constraint gift_card_movements_actor_fkey foreign key (actor_id) references users (id),
    constraint gift_card_movements_kind_check check (kind in ('issue', 'spend', 'refund')),
    constraint gift_card_movements_amount_check check (
        amount_minor <> 0 and (kind = 'spend') = (amount_minor < 0)),
    constraint gift_card_movements_balance_check check (balance_after_minor >= 0),
    constraint gift_card_movements_booking_check
        check (kind = 'issue' or (booking_id is not null and payment_id is not null))
);
create index gift_card_movements_card_idx on gift_card_movements (card_id, id);

-- The ledger is append-only.
create function gift_card_movements_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'gift card movements cannot be changed or deleted'
        using errcode = 'integrity_constraint_violation';
end;
$$;
create trigger gift_card_movements_append_only before update or delete on gift_card_movements
    for each row execute function gift_card_movements_append_only();

-- Balance = sum of movements, checked at commit for every card a transaction touched. Every
-- writer of a card's balance holds the card's row lock until it commits, so the sum read here
-- includes every committed movement of the card.
create function gift_card_balance_matches() returns trigger
language plpgsql as $$
declare
    card uuid;
    balance bigint;
    total bigint;
begin
    if tg_table_name = 'gift_cards' then
        card := new.id;
    else
        card := new.card_id;
    end if;
    select balance_minor into balance from gift_cards where id = card;
    select coalesce(sum(amount_minor), 0) into total from gift_card_movements where card_id = card;
    if balance is distinct from total then
        raise exception 'gift card % has balance % but its movements add up to %', card, balance, total
            using errcode = 'check_violation', constraint = 'gift_card_movements_balance';
    end if;
    return null;
end;
$$;
create constraint trigger gift_card_movements_balance
    after insert on gift_card_movements deferrable initially deferred
    for each row execute function gift_card_balance_matches();
create constraint trigger gift_cards_balance
    after insert or update of balance_minor on gift_cards deferrable initially deferred
    for each row execute function gift_card_balance_matches();

-- Failed balance lookups by code count per client address, like signin failures.
alter table auth_limits drop constraint auth_limits_scope_check;
alter table auth_limits add constraint auth_limits_scope_check
    check (scope in ('signin-client', 'signin-email', 'signin-email-client', 'signup-client',
                     'gift-card-lookup-client'));
