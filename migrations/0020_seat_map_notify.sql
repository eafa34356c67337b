-- Live seat maps (docs/seat-maps.md): every replica keeps each show's seat states in memory and
-- learns of every other replica's writes from NOTIFY on `cineflow_seats`, delivered at commit
-- and in commit order. A statement that takes, keeps or frees seats announces, per show, each
-- changed row as [seat_id, booking_id, taken_from ms, taken_until ms or null for 'infinity'],
-- which is all a replica needs to apply the change without reading anything back. A payload
-- that would pass NOTIFY's 8000-byte limit (a whole show cancelled at once) names only the
-- show, and replicas then re-read that show's seats.

create function cineflow_announce_seat_rows() returns trigger
language plpgsql as $$
declare
    r record;
    payload text;
begin
    for r in
        select show_id,
               json_agg(json_build_array(
                   seat_id,
                   booking_id,
                   floor(extract(epoch from taken_from) * 1000)::bigint,
                   case when taken_until = 'infinity' then null
                        else floor(extract(epoch from taken_until) * 1000)::bigint end)) as seats
        from changed_rows
        group by show_id
    loop
        payload := json_build_object('show', r.show_id, 'seats', r.seats)::text;
        if octet_length(payload) > 7800 then
            payload := json_build_object('show', r.show_id)::text;
        end if;
        perform pg_notify('cineflow_seats', payload);
    end loop;
    return null;
end
$$;

-- Transition tables allow one event per trigger, hence one trigger per event.
create trigger booking_seats_announce_insert after insert on booking_seats
    referencing new table as changed_rows
    for each statement execute function cineflow_announce_seat_rows();
create trigger booking_seats_announce_update after update on booking_seats
    referencing new table as changed_rows
    for each statement execute function cineflow_announce_seat_rows();

-- Rows are never deleted by the service, but an operator's cleanup is announced too: the
-- replicas re-read the show.
create function cineflow_announce_seat_show() returns trigger
language plpgsql as $$
declare
    r record;
begin
    if tg_table_name = 'shows' then
        perform pg_notify('cineflow_seats', json_build_object('show', coalesce(new.id, old.id))::text);
        return null;
    end if;
    for r in select distinct show_id from changed_rows loop
        perform pg_notify('cineflow_seats', json_build_object('show', r.show_id)::text);
    end loop;
    return null;
end
$$;

create trigger booking_seats_announce_delete after delete on booking_seats
    referencing old table as changed_rows
    for each statement execute function cineflow_announce_seat_show();

-- A show's prices and status are part of its map; a deleted show's map is gone.
create trigger shows_announce_seat_map after update of prices, status, screen_id or delete on shows
    for each row execute function cineflow_announce_seat_show();
