-- The hooks a component can serve are rows, not a list repeated in check constraints: the host
-- registers each hook it knows when it stores that hook's platform default at start-up
-- (`db::components::register_hook`), so adding a hook needs no migration. The tables that name
-- a hook refer to this one.
create table hooks (
    name text not null,
    constraint hooks_pkey primary key (name),
    -- The shape of a WIT world name, which every hook's name is.
    constraint hooks_name_check check (name ~ '^[a-z][a-z0-9-]{0,39}$')
);

insert into hooks (name) values ('booking-rules'), ('pricing'), ('notify-templates'), ('seat-picker');

alter table platform_defaults
    drop constraint platform_defaults_hook_check,
    add constraint platform_defaults_hook_fkey foreign key (hook) references hooks (name);

alter table chain_components
    drop constraint chain_components_hook_check,
    add constraint chain_components_hook_fkey foreign key (hook) references hooks (name);
