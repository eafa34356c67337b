-- Foundation: the content-addressed store of components and the platform defaults.
-- Later migrations add accounts, the catalogue, bookings, the outbox and chain bindings.

-- Used by later migrations: case-insensitive emails and the no-overlap rule for shows.
create extension if not exists citext;
create extension if not exists btree_gist;

-- Keeps updated_at honest without every UPDATE having to remember it.
create or replace function set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

-- Component bytes, stored once per content (the id is the lowercase hex sha256 of bytes).
create table components (
    id          text        not null,
    bytes       bytea       not null,
    size_bytes  integer     not null,
    uploaded_at timestamptz not null default now(),
    constraint components_pkey primary key (id),
    constraint components_id_is_sha256 check (id ~ '^[0-9a-f]{64}$'),
    constraint components_size_matches check (size_bytes = octet_length(bytes) and size_bytes > 0)
);

-- Which stored component is the platform default of each hook.
create table platform_defaults (
    hook         text        not null,
    component_id text        not null,
    updated_at   timestamptz not null default now(),
    constraint platform_defaults_pkey primary key (hook),
    constraint platform_defaults_hook_check
        check (hook in ('booking-rules', 'pricing', 'notify-templates')),
    constraint platform_defaults_component_fkey
        foreign key (component_id) references components (id)
);

create trigger platform_defaults_updated_at before update on platform_defaults
    for each row execute function set_updated_at();
