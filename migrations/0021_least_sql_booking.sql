-- The least SQL per booking (issue 18 item 3): what lets a hold check its show inside the
-- statement that inserts it, and lets every replica keep show contexts in memory.

-- A hold's show check, for use inside the hold's insert statement. It takes the show's shared
-- advisory lock (a show's cancellation takes it exclusively, so it waits for holds in flight
-- and keeps new ones out) and only then reads the show. Being VOLATILE, its query gets a fresh
-- snapshot, taken after the lock was granted: under READ COMMITTED the calling statement's
-- own snapshot may be older than a cancellation that committed while this waited, and a
-- status read from that snapshot could say `scheduled` of a show cancelled meanwhile.
-- `statement_timestamp()` is the calling statement's instant (docs: one clock per statement).
-- No row: no such show of the chain, or it has started. `version` and `chain_version`
-- (`updated_at` of the show and of its chain) let a replica check that the context it cached
-- (prices, start, time zone) is the one the hold was decided on.
create function show_hold_check(p_chain uuid, p_show uuid)
    returns table (status text, version timestamptz, chain_version timestamptz)
    language plpgsql volatile as $$
begin
    perform pg_advisory_xact_lock_shared(hashtextextended(p_show::text, 7));
    return query
        select sh.status, sh.updated_at, c.updated_at
        from shows sh join chains c on c.id = sh.chain_id
        where sh.chain_id = p_chain and sh.id = p_show and sh.starts_at > statement_timestamp();
end
$$;

-- Every replica caches show contexts (show, theatre, movie, screen names, chain time zone):
-- a change to any of them is announced on `cineflow_show_contexts` (payload: the show's id,
-- or empty for "forget them all": a theatre, movie or chain changed, which is rare).
-- pg_notify is delivered at commit, and only if the transaction commits.
create function show_contexts_notify() returns trigger language plpgsql as $$
begin
    if tg_table_name = 'shows' then
        perform pg_notify('cineflow_show_contexts', old.id::text);
    else
        perform pg_notify('cineflow_show_contexts', '');
    end if;
    return null;
end
$$;

create trigger shows_contexts_notify after update or delete on shows
    for each row execute function show_contexts_notify();
create trigger chains_contexts_notify after update on chains
    for each row execute function show_contexts_notify();
create trigger theatres_contexts_notify after update on theatres
    for each row execute function show_contexts_notify();
create trigger movies_contexts_notify after update on movies
    for each row execute function show_contexts_notify();
create trigger screens_contexts_notify after update or delete on screens
    for each row execute function show_contexts_notify();

-- The seats a customer holds right now, which every hold reads for the booking rules
-- (`bookings::hold_inputs`): without this the planner walks every live hold of the platform
-- (`bookings_due_idx`) and filters by customer, which grows with the on-sale it serves.
create index bookings_held_user_chain_idx on bookings (user_id, chain_id) where status = 'held';

-- A hold written by one statement in its own transaction (`bookings::insert_hold_at_once`)
-- cannot roll itself back when only some of its seats went in, so it fails instead: this
-- raises `CF409` with the seats that did not go in (a JSON array, sorted) as its detail, and
-- the whole statement, booking and audit included, is undone. It raises `CF101` when the chain
-- has a webhook endpoint for the hold's event: the host then writes the hold in a transaction
-- with its deliveries (their bodies are the host's to make). `booked`: the booking row went in.
create function hold_at_once_check(booked boolean, inserted text[], wanted text[],
                                   endpoints boolean)
    returns boolean language plpgsql as $$
begin
    if booked and cardinality(inserted) < cardinality(wanted) then
        raise exception using errcode = 'CF409', message = 'seats taken',
            detail = to_json(array(select x from unnest(wanted) x
                                   where x <> all(inserted) order by x))::text;
    end if;
    if booked and endpoints then
        raise exception using errcode = 'CF101', message = 'the chain has webhook endpoints';
    end if;
    return booked;
end
$$;
