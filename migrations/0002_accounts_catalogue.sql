-- Accounts, chains and the catalogue, plus the email outbox.
-- Every chain-owned row carries chain_id, and composite foreign keys make it agree with its
-- parent's, so sharding by chain stays possible and a row can never hop chains.

create table users (
    id                 uuid        not null,
    name               text        not null,
    email              citext      not null,
    password_hash      text        not null,
    role               text        not null,
    status             text        not null,
    -- Bumped by a password change; tokens carry the version they were issued at, so every
    -- token issued before the change is rejected.
    token_version      integer     not null default 0,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint users_pkey primary key (id),
    constraint users_email_key unique (email),
    constraint users_role_check check (role in ('customer', 'owner', 'admin')),
    constraint users_status_check check (status in ('approved', 'pending', 'rejected')),
    constraint users_name_check check (length(btrim(name)) between 1 and 100),
    constraint users_email_check check (length(email) between 3 and 254)
);
create trigger users_updated_at before update on users
    for each row execute function set_updated_at();

create table chains (
    id         uuid        not null,
    name       text        not null,
    currency   text        not null,
    timezone   text        not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint chains_pkey primary key (id),
    constraint chains_name_key unique (name),
    constraint chains_currency_check check (currency ~ '^[A-Z]{3}$'),
    constraint chains_name_check check (length(btrim(name)) between 1 and 100)
);
create trigger chains_updated_at before update on chains
    for each row execute function set_updated_at();

create table chain_members (
    chain_id uuid        not null,
    user_id  uuid        not null,
    added_at timestamptz not null default now(),
    constraint chain_members_pkey primary key (chain_id, user_id),
    constraint chain_members_chain_fkey foreign key (chain_id) references chains (id) on delete cascade,
    constraint chain_members_user_fkey foreign key (user_id) references users (id) on delete cascade
);
create index chain_members_user_idx on chain_members (user_id);

create table movies (
    id              uuid        not null,
    title           text        not null,
    description     text        not null,
    cast_members    text[]      not null,
    director        text        not null,
    trailer_url     text        not null,
    release_date    date        not null,
    release_status  text        not null,
    languages       text[]      not null,
    runtime_minutes integer     not null,
    certificate     text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint movies_pkey primary key (id),
    constraint movies_release_status_check check (release_status in ('coming_soon', 'released')),
    constraint movies_cast_check check (cardinality(cast_members) >= 1),
    constraint movies_languages_check check (cardinality(languages) >= 1),
    constraint movies_runtime_check check (runtime_minutes between 1 and 600),
    constraint movies_title_check check (length(btrim(title)) between 1 and 200)
);
create trigger movies_updated_at before update on movies
    for each row execute function set_updated_at();
create index movies_title_lower_idx on movies (lower(title));

create table theatres (
    id          uuid        not null,
    chain_id    uuid        not null,
    name        text        not null,
    description text        not null,
    city        text        not null,
    pin_code    text        not null,
    address     text        not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint theatres_pkey primary key (id),
    constraint theatres_id_chain_key unique (id, chain_id),
    constraint theatres_chain_fkey foreign key (chain_id) references chains (id),
    constraint theatres_name_check check (length(btrim(name)) between 1 and 200),
    constraint theatres_pin_code_check check (pin_code ~ '^[A-Za-z0-9 -]{3,12}$')
);
create trigger theatres_updated_at before update on theatres
    for each row execute function set_updated_at();
create index theatres_chain_idx on theatres (chain_id, id);
create index theatres_city_idx on theatres (lower(city));

-- The theatre's now-showing list.
create table theatre_movies (
    chain_id   uuid        not null,
    theatre_id uuid        not null,
    movie_id   uuid        not null,
    added_at   timestamptz not null default now(),
    constraint theatre_movies_pkey primary key (theatre_id, movie_id),
    constraint theatre_movies_theatre_fkey foreign key (theatre_id, chain_id)
        references theatres (id, chain_id) on delete cascade,
    constraint theatre_movies_movie_fkey foreign key (movie_id) references movies (id) on delete cascade
);
create index theatre_movies_movie_idx on theatre_movies (movie_id);

create table screens (
    id         uuid        not null,
    chain_id   uuid        not null,
    theatre_id uuid        not null,
    name       text        not null,
    created_at timestamptz not null default now(),
    constraint screens_pkey primary key (id),
    constraint screens_id_chain_key unique (id, chain_id),
    constraint screens_theatre_name_key unique (theatre_id, name),
    constraint screens_theatre_fkey foreign key (theatre_id, chain_id)
        references theatres (id, chain_id) on delete cascade,
    constraint screens_name_check check (length(btrim(name)) between 1 and 100)
);

create table seats (
    chain_id  uuid    not null,
    screen_id uuid    not null,
    id        text    not null,
    row_label text    not null,
    number    integer not null,
    class     text    not null,
    blocked   boolean not null default false,
    -- Display order: rows in the order given, seats by number.
    position  integer not null,
    constraint seats_pkey primary key (screen_id, id),
    constraint seats_screen_fkey foreign key (screen_id, chain_id)
        references screens (id, chain_id) on delete cascade,
    constraint seats_class_check check (class in ('standard', 'premium', 'vip', 'accessible')),
    constraint seats_number_check check (number between 1 and 500),
    constraint seats_id_check check (id = row_label || '-' || number)
);

create table shows (
    id         uuid        not null,
    chain_id   uuid        not null,
    theatre_id uuid        not null,
    screen_id  uuid        not null,
    movie_id   uuid        not null,
    starts_at  timestamptz not null,
    ends_at    timestamptz not null,
    -- ends_at plus the cleaning buffer: the screen is busy until then.
    busy_until timestamptz not null,
    format     text        not null default '2D',
    currency   text        not null,
    prices     jsonb       not null,
    status     text        not null default 'scheduled',
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint shows_pkey primary key (id),
    constraint shows_id_chain_key unique (id, chain_id),
    -- Deleting a theatre or screen takes its shows along; bookings (a later migration) will
    -- reference shows without cascade, so a show with bookings blocks the delete.
    constraint shows_screen_fkey foreign key (screen_id, chain_id)
        references screens (id, chain_id) on delete cascade,
    constraint shows_theatre_fkey foreign key (theatre_id, chain_id)
        references theatres (id, chain_id) on delete cascade,
    constraint shows_movie_fkey foreign key (movie_id) references movies (id),
    constraint shows_format_check check (format in ('2D', '3D', 'IMAX')),
    constraint shows_status_check check (status in ('scheduled', 'cancelled')),
    constraint shows_times_check check (starts_at < ends_at and ends_at <= busy_until),
    constraint shows_currency_check check (currency ~ '^[A-Z]{3}$'),
    -- Prices per seat class, integer minor units, never negative.
    constraint shows_prices_check check (
        jsonb_typeof(prices) = 'object'
        and prices <> '{}'::jsonb
        and not jsonb_path_exists(prices, '$.keyvalue() ? (!(@.key like_regex "^(standard|premium|vip|accessible)$") || @.value.type() != "number" || @.value < 0 || @.value > 100000000000 || @.value.floor() != @.value)')
    ),
    -- Two shows can never overlap on one screen (cancelled shows free it).
    constraint shows_screen_busy exclude using gist (
        screen_id with =,
        tstzrange(starts_at, busy_until, '[)') with &&
    ) where (status = 'scheduled')
);
create trigger shows_updated_at before update on shows
    for each row execute function set_updated_at();
create index shows_starts_idx on shows (starts_at, id);
create index shows_theatre_idx on shows (theatre_id, starts_at);
create index shows_movie_idx on shows (movie_id, starts_at);

-- The transactional outbox for emails: rows are written in the same transaction as the state
-- change they announce; the sweeper (notifications issue) claims, renders and sends them.
create table notifications (
    id               uuid        not null,
    kind             text        not null,
    chain_id         uuid,
    recipient_emails text[]      not null,
    locale           text        not null default 'en',
    -- Event fields for the templates (kind-specific), or subject/content for custom mail.
    fields           jsonb       not null default '{}'::jsonb,
    -- Drops duplicates of the same event (e.g. a retried request).
    dedupe_key       text,
    status           text        not null default 'pending',
    attempts         integer     not null default 0,
    last_error       text,
    next_attempt_at  timestamptz not null default now(),
    locked_until     timestamptz,
    sent_at          timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint notifications_pkey primary key (id),
    constraint notifications_dedupe_key unique (dedupe_key),
    constraint notifications_kind_check check (kind in (
        'theatre-created', 'account-approved', 'booking-confirmed', 'booking-cancelled',
        'booking-expired', 'show-cancelled', 'custom')),
    constraint notifications_status_check check (status in ('pending', 'sending', 'sent', 'failed')),
    constraint notifications_recipients_check check (cardinality(recipient_emails) between 1 and 50),
    constraint notifications_attempts_check check (attempts >= 0),
    constraint notifications_chain_fkey foreign key (chain_id) references chains (id)
);
create trigger notifications_updated_at before update on notifications
    for each row execute function set_updated_at();
create index notifications_due_idx on notifications (next_attempt_at) where status in ('pending', 'sending');
