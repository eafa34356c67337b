-- Signin and signup limits shared by every replica (issue 13): each row counts the hits of one
-- (scope, key) in a fixed window. Keys are sha256 digests (of an email, a client address or
-- both), so a row's size does not depend on what a request sent. Rows whose window has ended
-- count nothing; the housekeeping job of every replica deletes them.
create table auth_limits (
    scope          text        not null,
    key            bytea       not null,
    hits           integer     not null,
    window_ends_at timestamptz not null,
    constraint auth_limits_pkey primary key (scope, key),
    constraint auth_limits_scope_check
        check (scope in ('signin-client', 'signin-email', 'signin-email-client', 'signup-client')),
    constraint auth_limits_key_check check (octet_length(key) = 32),
    constraint auth_limits_hits_check check (hits >= 0)
);
create index auth_limits_window_idx on auth_limits (window_ends_at);
