-- The email sweeper (host/src/mail): claims, leases, results, and an early wake-up.

-- `subject`: given for custom mail; for events, the subject as last rendered (templates render
-- at send time, so a chain's new templates apply to mail already queued).
-- `claim_token`: set by each claim; a sweeper records a result only while its claim holds, so
-- a sweeper that lost its lease (it stalled past `locked_until` and another one re-claimed the
-- row) cannot overwrite the newer attempt's outcome.
alter table notifications
    add column subject     text,
    add column claim_token uuid,
    add constraint notifications_subject_check check (subject is null or length(subject) <= 200),
    add constraint notifications_sending_check check (
        status <> 'sending' or (claim_token is not null and locked_until is not null)),
    add constraint notifications_sent_check check (status <> 'sent' or sent_at is not null);

-- Committing a new row wakes the sweepers at once (LISTEN cineflow_outbox); the periodic
-- sweep still runs, so a lost notification only delays mail. Statement-level and payload-free:
-- PostgreSQL folds identical notifications of one transaction into one.
create function notifications_wake_sweepers() returns trigger
    language plpgsql as $$
begin
    perform pg_notify('cineflow_outbox', '');
    return null;
end
$$;

create trigger notifications_queued after insert on notifications
    for each statement execute function notifications_wake_sweepers();

-- GET /notifications?status=... pages by id within a status.
create index notifications_status_id_idx on notifications (status, id);
