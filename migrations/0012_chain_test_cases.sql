-- A chain's own test cases per hook (docs/components.md, "Test cases"): inputs with the answers
-- the chain expects, checked at every upload of that chain's components for that hook, after
-- the hook's fixtures. One document per (chain, hook), replaced as a whole by PUT.
create table chain_test_cases (
    chain_id   uuid        not null,
    hook       text        not null,
    -- `{"cases": [{"name", "input", "expect"}]}` as the API received it, already validated.
    cases      jsonb       not null,
    updated_at timestamptz not null default now(),
    updated_by uuid,
    constraint chain_test_cases_pkey primary key (chain_id, hook),
    constraint chain_test_cases_chain_fkey foreign key (chain_id) references chains (id) on delete cascade,
    constraint chain_test_cases_hook_fkey foreign key (hook) references hooks (name),
    constraint chain_test_cases_user_fkey foreign key (updated_by) references users (id) on delete set null,
    constraint chain_test_cases_shape_check check (jsonb_typeof(cases -> 'cases') = 'array')
);
