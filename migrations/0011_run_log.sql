-- Confidence in a component change: every production call of a chain's components (the run
-- log), replays of a candidate over those calls, shadow runs beside the bound component,
-- canary bindings, and the inputs and outputs behind each booking (its receipt).

-- One row per production call of a chain's component. Written asynchronously and in batches
-- by each replica (`domain::runs`); a full buffer drops rows rather than slowing a booking.
-- Customer e-mail addresses in `input` and `output` are replaced by stable pseudonyms.
create table component_runs (
    id              uuid        not null,
    chain_id        uuid        not null,
    at              timestamptz not null,
    hook            text        not null,
    function        text        not null,
    component_id    text        not null,
    -- The booking or notification the call served: a hold's id is chosen before its
    -- components run, so a hold they refused names a booking that never came to be.
    booking_id      uuid,
    notification_id uuid,
    outcome         text        not null,
    -- Served by the binding's canary rather than its stable component.
    canary          boolean     not null default false,
    fuel_used       bigint      not null,
    duration_us     bigint      not null,
    memory_bytes    bigint      not null,
    input           jsonb       not null,
    -- `{"ok": ...}` or `{"err": "reason"}` as in dry runs; null when the call failed.
    output          jsonb,
    error           text,
    log             text        not null default '',
    constraint component_runs_pkey primary key (chain_id, id),
    constraint component_runs_chain_fkey foreign key (chain_id) references chains (id) on delete cascade,
    constraint component_runs_hook_fkey foreign key (hook) references hooks (name),
    constraint component_runs_outcome_check check (outcome in
        ('ok', 'refused', 'trap', 'out_of_fuel', 'timeout', 'memory', 'bad_output', 'unavailable')),
    constraint component_runs_output_check check ((output is null) = (outcome not in ('ok', 'refused')))
);
create index component_runs_hook_idx on component_runs (chain_id, hook, at);
create index component_runs_component_idx on component_runs (chain_id, component_id, at);

-- A candidate run over recorded inputs, in the background, by whichever replica claims it.
create table replays (
    id                   uuid        not null,
    chain_id             uuid        not null,
    hook                 text        not null,
    component_id         text        not null,
    requested_by         uuid,
    from_at              timestamptz,
    to_at                timestamptz,
    max_runs             integer     not null,
    status               text        not null default 'queued',
    created_at           timestamptz not null default now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    -- A running replay whose replica stopped beating is claimed again by another.
    heartbeat_at         timestamptz,
    total                integer     not null default 0,
    done                 integer     not null default 0,
    same                 integer     not null default 0,
    changed              integer     not null default 0,
    newly_refused        integer     not null default 0,
    newly_allowed        integer     not null default 0,
    seats_changed        integer     not null default 0,
    failures             jsonb       not null default '{}'::jsonb,
    revenue_before_minor bigint      not null default 0,
    revenue_after_minor  bigint      not null default 0,
    refunds_before_minor bigint      not null default 0,
    refunds_after_minor  bigint      not null default 0,
    examples             jsonb       not null default '[]'::jsonb,
    error                text,
    constraint replays_pkey primary key (chain_id, id),
    constraint replays_component_fkey foreign key (chain_id, component_id, hook)
        references chain_components (chain_id, component_id, hook),
    constraint replays_requester_fkey foreign key (requested_by) references users (id),
    constraint replays_status_check check (status in ('queued', 'running', 'done', 'failed')),
    constraint replays_max_runs_check check (max_runs between 1 and 1000000),
    constraint replays_progress_check check (done between 0 and total)
);
create index replays_queue_idx on replays (status, created_at) where status in ('queued', 'running');

-- A candidate running beside the bound component on live traffic; the counts are the sums
-- every replica adds as its shadow calls finish.
create table shadows (
    chain_id            uuid        not null,
    hook                text        not null,
    component_id        text        not null,
    sample_percent      integer     not null,
    since               timestamptz not null default now(),
    started_by          uuid,
    runs                bigint      not null default 0,
    same                bigint      not null default 0,
    changed             bigint      not null default 0,
    failures            jsonb       not null default '{}'::jsonb,
    revenue_delta_minor bigint      not null default 0,
    examples            jsonb       not null default '[]'::jsonb,
    constraint shadows_pkey primary key (chain_id, hook),
    constraint shadows_component_fkey foreign key (chain_id, component_id, hook)
        references chain_components (chain_id, component_id, hook),
    constraint shadows_starter_fkey foreign key (started_by) references users (id),
    constraint shadows_sample_check check (sample_percent between 1 and 100)
);

-- Every replica follows shadows as it follows bindings (one channel, one reload).
create trigger shadows_notify after insert or update of component_id, sample_percent or delete on shadows
    for each row execute function bindings_changed();

-- A canary: a share of the chain's customers served by a candidate, with its own breaker.
alter table bindings
    add column canary_component_id text,
    add column canary_percent      integer,
    add column canary_since        timestamptz,
    add constraint bindings_canary_fkey foreign key (chain_id, canary_component_id, hook)
        references chain_components (chain_id, component_id, hook),
    add constraint bindings_canary_check check (
        (canary_component_id is null and canary_percent is null and canary_since is null)
        or (canary_component_id is not null and canary_percent between 1 and 99
            and canary_since is not null)),
    add constraint bindings_canary_differs_check check (canary_component_id <> component_id);

alter table component_audit
    drop constraint component_audit_kind_check,
    add constraint component_audit_kind_check check (kind in (
        'uploaded', 'bound', 'unbound', 'breaker-tripped',
        'canary-set', 'canary-removed', 'canary-tripped',
        'shadow-started', 'shadow-stopped', 'replay-requested'));

-- The receipt: a decision entry keeps the exact input the component was given and its
-- answer, so `cineflow component run` on the same bytes reproduces it.
alter table booking_audit
    add column function     text,
    add column input        jsonb,
    add column input_sha256 text,
    add column output       jsonb,
    add column canary       boolean not null default false,
    add constraint booking_audit_input_check check ((input is null) = (input_sha256 is null));
