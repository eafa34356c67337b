-- Webhooks per chain (issue 17): endpoints a chain's staff register, and the deliveries of the
-- chain's events to them. docs/webhooks.md.
--
-- A delivery is written in the transaction of the change it announces (the outbox), one row
-- per subscribed endpoint, with the exact bytes to send: retries resend the same body and the
-- same event id, so a receiver can drop duplicates.
create table webhook_endpoints (
    id          uuid        not null,
    chain_id    uuid        not null,
    url         text        not null,
    events      text[]      not null,
    description text,
    -- The HMAC key of the signatures; shown once (creation, rotation), never listed.
    secret      text        not null,
    created_by  uuid,
    created_at  timestamptz not null default now(),
    -- Deleted endpoints keep their rows (their deliveries stay readable to the log) but get
    -- nothing new, and their pending deliveries stop being sent.
    deleted_at  timestamptz,
    constraint webhook_endpoints_pkey primary key (id),
    constraint webhook_endpoints_id_chain_key unique (id, chain_id),
    constraint webhook_endpoints_chain_fkey foreign key (chain_id) references chains (id),
    constraint webhook_endpoints_user_fkey foreign key (created_by) references users (id)
        on delete set null,
    constraint webhook_endpoints_url_check check (length(url) between 1 and 2048),
    constraint webhook_endpoints_events_check check (cardinality(events) between 1 and 64),
    constraint webhook_endpoints_description_check check (length(description) <= 200)
);
-- The one statement every event pays: the chain's live endpoints (a handful at most).
create index webhook_endpoints_chain_idx on webhook_endpoints (chain_id)
    where deleted_at is null;

create table webhook_deliveries (
    id               uuid        not null,
    chain_id         uuid        not null,
    endpoint_id      uuid        not null,
    -- The event: the same for every endpoint it went to, and across retries.
    event_id         uuid        not null,
    kind             text        not null,
    body             bytea       not null,
    status           text        not null default 'pending',
    attempts         integer     not null default 0,
    -- `attempts` when the current budget began: a redelivery gives a fresh budget of
    -- attempts while `attempts` keeps counting.
    budget_from      integer     not null default 0,
    -- Due time; while a sender has it in flight, the end of its lease.
    next_attempt_at  timestamptz not null default now(),
    claim_token      uuid,
    last_status_code integer,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz not null default now(),
    constraint webhook_deliveries_pkey primary key (id),
    constraint webhook_deliveries_endpoint_fkey foreign key (endpoint_id, chain_id)
        references webhook_endpoints (id, chain_id),
    constraint webhook_deliveries_status_check check (status in ('pending', 'sent', 'failed')),
    constraint webhook_deliveries_event_key unique (endpoint_id, event_id)
);
-- The senders' work list: due pending rows (in flight ones too, by their lease's end).
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at)
    where status = 'pending';
-- An endpoint's deliveries, newest first (ids are UUID v7).
create index webhook_deliveries_endpoint_idx on webhook_deliveries (endpoint_id, id desc);
