-- Chains' own components: which stored components each chain uploaded (with their fixture
-- results), which one each hook of the chain is bound to, and the trail of every change.

create table chain_components (
    chain_id        uuid        not null,
    component_id    text        not null,
    hook            text        not null,
    uploaded_by     uuid,
    uploaded_at     timestamptz not null default now(),
    fixtures_passed integer     not null,
    fuel_max        bigint      not null,
    constraint chain_components_pkey primary key (chain_id, component_id),
    constraint chain_components_chain_fkey foreign key (chain_id) references chains (id),
    constraint chain_components_component_fkey foreign key (component_id) references components (id),
    constraint chain_components_uploader_fkey foreign key (uploaded_by) references users (id),
    constraint chain_components_hook_check check (hook in ('booking-rules', 'pricing', 'notify-templates')),
    -- A binding names the hook as well, so it can only point at a component of that hook.
    constraint chain_components_hook_key unique (chain_id, component_id, hook)
);

create table bindings (
    chain_id      uuid        not null,
    hook          text        not null,
    component_id  text        not null,
    on_failure    text        not null,
    bound_by      uuid,
    bound_at      timestamptz not null default now(),
    -- The breaker: set when the component failed too often in a row; calls then go to the
    -- platform default until the binding is set again.
    tripped_at    timestamptz,
    trip_reason   text,
    constraint bindings_pkey primary key (chain_id, hook),
    constraint bindings_component_fkey foreign key (chain_id, component_id, hook)
        references chain_components (chain_id, component_id, hook),
    constraint bindings_binder_fkey foreign key (bound_by) references users (id),
    constraint bindings_on_failure_check check (on_failure in ('reject', 'fallback')),
    constraint bindings_trip_check check ((tripped_at is null) = (trip_reason is null))
);

-- Every replica LISTENs and reloads the chain's bindings at once (host/src/components/registry.rs).
create function bindings_changed() returns trigger
    language plpgsql as $$
begin
    perform pg_notify('cineflow_bindings', coalesce(new.chain_id, old.chain_id)::text);
    return null;
end
$$;

create trigger bindings_notify after insert or update or delete on bindings
    for each row execute function bindings_changed();

create table component_audit (
    id           uuid        not null,
    chain_id     uuid        not null,
    kind         text        not null,
    hook         text,
    component_id text,
    actor_id     uuid,
    detail       jsonb       not null default '{}'::jsonb,
    at           timestamptz not null default now(),
    constraint component_audit_pkey primary key (id),
    constraint component_audit_chain_fkey foreign key (chain_id) references chains (id),
    constraint component_audit_kind_check check (kind in ('uploaded', 'bound', 'unbound', 'breaker-tripped'))
);
create index component_audit_chain_idx on component_audit (chain_id, id);
