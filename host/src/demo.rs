//! Demo data (`CINEFLOW_DEMO`, on in `scripts/run.sh`): a chain with one theatre, two
//! screens, four movies and a week of shows, a demo owner and customers, and a cinema in use:
//! bookings of the coming shows (confirmed, partly or fully cancelled, one held), check-ins,
//! a waiting list on a show whose VIP row sold out, vouchers, gift cards, an example pricing
//! component bound with the version before it to roll back to, the run log of their calls, a
//! replay of the newer over the older's traffic, and a month of past sales.
//!
//! Fixed ids and `on conflict do nothing` make loading the catalogue again harmless; each start
//! tops the coming week up. The activity goes through the domain services (the outbox,
//! tickets, audit and run log stay consistent) and is written when the coming shows have no
//! demo bookings (so a restart a week later books the new week); only the past, which no use
//! case can write, is inserted by `db::demo`. A missing example component, or any failure of
//! the activity, is logged and skipped: it never stops the start.

mod activity;
mod history;

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveTime, Utc};
use chrono_tz::Asia::Kolkata;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::Passwords;
use crate::db::movies::MovieFields;
use crate::db::shows::{NewShow, Prices};
use crate::db::theatres::TheatreFields;
use crate::db::users::NewUser;
use crate::db::{chains, movies, screens, shows, theatres, users};
use crate::domain::hook_io::SeatClass;
use crate::domain::types::seat_layout::{self, RowSpec};
use crate::domain::types::{AccountStatus, Role};
use crate::state::AppState;

/// Demo owner (chain staff), listed in the README.
pub const OWNER: (&str, &str) = ("owner@demo.cineflow.local", "Demo-Owner-2026");
/// Demo customer, listed in the README.
pub const CUSTOMER: (&str, &str) = ("customer@demo.cineflow.local", "Demo-Customer-2026");
/// The other customers of the demo's bookings and waiting list (name, email); they sign in
/// with the demo customer's password.
pub const REGULARS: [(&str, &str); 5] = [
    ("Priya Nair", "priya@demo.cineflow.local"),
    ("Arjun Mehta", "arjun@demo.cineflow.local"),
    ("Kavya Reddy", "kavya@demo.cineflow.local"),
    ("Rohan Das", "rohan@demo.cineflow.local"),
    ("Sana Khan", "sana@demo.cineflow.local"),
];

/// The demo chain.
pub const CHAIN: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_c4a1);
const THEATRE: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_7ea1);
const SCREENS: [Uuid; 2] = [
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_5c01),
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_5c02),
];
const MOVIES: [(u128, &str, i32, &str); 4] = [
    (
        0x0190_0000_0000_7000_8000_0000_0000_0a01,
        "The Long Night Express",
        128,
        "UA",
    ),
    (
        0x0190_0000_0000_7000_8000_0000_0000_0a02,
        "Monsoon Letters",
        142,
        "U",
    ),
    (
        0x0190_0000_0000_7000_8000_0000_0000_0a03,
        "Circuit of Stars",
        117,
        "UA",
    ),
    (
        0x0190_0000_0000_7000_8000_0000_0000_0a04,
        "Chai and Chess",
        96,
        "U",
    ),
];

/// Loads (or tops up) the demo data: the catalogue and accounts (a failure stops the start),
/// then the activity (a failure is logged). `components_dir` holds the example components
/// (`examples/*.wasm`, built by `scripts/build-components.sh`).
pub async fn load(
    state: &AppState,
    cleaning_buffer: Duration,
    components_dir: &Path,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let added = catalogue(&state.db, &state.passwords, cleaning_buffer).await?;
    if let Err(e) = history::load(&state.db, cleaning_buffer).await {
        tracing::warn!(error = %e, "demo: the past sales were not written");
    }
    if let Err(e) = activity::load(state, components_dir).await {
        tracing::warn!(error = %e, "demo: the bookings and components were not (all) loaded");
    }
    tracing::info!(
        shows_added = added,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo data ready"
    );
    Ok(())
}

/// The chain, its theatre, screens, movies and the coming week's shows, and the accounts;
/// how many shows it added.
async fn catalogue(
    pool: &PgPool,
    passwords: &Passwords,
    cleaning_buffer: Duration,
) -> anyhow::Result<u32> {
    let mut tx = pool.begin().await?;
    let owner = ensure_user(&mut tx, passwords, "Demo Owner", OWNER, Role::Owner).await?;
    ensure_user(
        &mut tx,
        passwords,
        "Demo Customer",
        CUSTOMER,
        Role::Customer,
    )
    .await?;
    // One hash for all of them: five more Argon2 runs would slow the first start for nothing.
    let mut hash = None;
    for (name, email) in REGULARS {
        if users::find_credentials(&mut tx, email).await?.is_some() {
            continue;
        }
        let hash = match &hash {
            Some(h) => h,
            None => hash.insert(passwords.hash(CUSTOMER.1.to_owned()).await?),
        };
        users::insert(
            &mut tx,
            &NewUser {
                name,
                email,
                password_hash: hash,
                role: Role::Customer,
                status: AccountStatus::Approved,
            },
        )
        .await?;
    }

    chains::ensure(
        &mut tx,
        CHAIN,
        "Cineflow Demo Cinemas",
        "INR",
        "Asia/Kolkata",
    )
    .await?;
    chains::add_member(&mut tx, CHAIN, owner).await?;

    theatres::insert(
        &mut tx,
        Some(THEATRE),
        CHAIN,
        &TheatreFields {
            name: "Orion Multiplex".into(),
            description: "Two screens in the heart of the city, recliners in the back rows.".into(),
            city: "Bengaluru".into(),
            pin_code: "560001".into(),
            address: "12 MG Road, Bengaluru".into(),
        },
    )
    .await?;

    let row = |label: &str, seats: u32, class: SeatClass, blocked: &[u32]| RowSpec {
        label: label.into(),
        seats,
        class,
        blocked: blocked.to_vec(),
    };
    let layouts = [
        vec![
            row("A", 12, SeatClass::Accessible, &[5, 6, 7, 8]),
            row("B", 14, SeatClass::Standard, &[]),
            row("C", 14, SeatClass::Standard, &[]),
            row("D", 14, SeatClass::Standard, &[]),
            row("E", 14, SeatClass::Premium, &[]),
            row("F", 10, SeatClass::Vip, &[]),
        ],
        vec![
            row("A", 10, SeatClass::Standard, &[]),
            row("B", 10, SeatClass::Standard, &[]),
            row("C", 10, SeatClass::Premium, &[]),
            row("D", 8, SeatClass::Vip, &[]),
        ],
    ];
    for (i, (id, layout)) in SCREENS.iter().zip(layouts).enumerate() {
        let seats = seat_layout::expand(&layout)
            .map_err(|e| anyhow::anyhow!("demo screen layout is invalid: {e:?}"))?;
        screens::insert(
            &mut tx,
            Some(*id),
            CHAIN,
            THEATRE,
            &format!("Screen {}", i + 1),
            &seats,
        )
        .await?;
    }

    let mut movie_ids = Vec::new();
    for (id, title, runtime, certificate) in MOVIES {
        let movie = movies::insert_with_id(
            &mut tx,
            Uuid::from_u128(id),
            Some(CHAIN),
            &MovieFields {
                title: title.into(),
                description: format!("{title}: a Cineflow demo feature."),
                cast_members: vec!["Asha Rao".into(), "Vikram Sen".into()],
                director: "Meera Iyer".into(),
                trailer_url: "https://example.com/trailers/demo".into(),
                release_date: chrono::NaiveDate::from_ymd_opt(2026, 10, 2).unwrap_or_default(),
                release_status: crate::domain::types::ReleaseStatus::Released,
                languages: vec!["English".into(), "Hindi".into()],
                runtime_minutes: runtime,
                certificate: Some(certificate.into()),
            },
        )
        .await?;
        movie_ids.push((movie.id, movie.runtime_minutes));
    }
    let ids: Vec<Uuid> = movie_ids.iter().map(|(id, _)| *id).collect();
    theatres::add_movies(&mut tx, CHAIN, THEATRE, &ids).await?;

    let prices = prices();
    let today = Utc::now().with_timezone(&Kolkata).date_naive();
    let mut added = 0;
    let now = Utc::now();
    for day in 0..7u64 {
        let Some(date) = today.checked_add_days(Days::new(day)) else {
            continue;
        };
        for (s, screen) in SCREENS.iter().enumerate() {
            for (slot, hour) in [10u32, 14, 19].into_iter().enumerate() {
                let (movie, runtime) = movie_ids[(slot + s + day as usize) % movie_ids.len()];
                let Some(local) = date
                    .and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default())
                    .and_local_timezone(Kolkata)
                    .single()
                else {
                    continue;
                };
                let starts_at = local.with_timezone(&Utc);
                if starts_at <= now {
                    continue;
                }
                let ends_at = starts_at + chrono::Duration::minutes(i64::from(runtime));
                let show = NewShow {
                    chain_id: CHAIN,
                    theatre_id: THEATRE,
                    screen_id: *screen,
                    movie_id: movie,
                    starts_at,
                    ends_at,
                    busy_until: ends_at + cleaning_buffer,
                    format: if s == 1 { "IMAX".into() } else { "2D".into() },
                    currency: "INR".into(),
                    prices: prices.clone(),
                };
                if shows::insert_if_free(&mut tx, Uuid::now_v7(), &show).await? {
                    added += 1;
                }
            }
        }
    }
    tx.commit().await?;
    Ok(added)
}

/// The demo shows' prices per seat class, in paise.
fn prices() -> Prices {
    [
        (SeatClass::Standard, 25_000),
        (SeatClass::Premium, 40_000),
        (SeatClass::Vip, 65_000),
        (SeatClass::Accessible, 25_000),
    ]
    .into_iter()
    .collect()
}

async fn ensure_user(
    conn: &mut sqlx::PgConnection,
    passwords: &Passwords,
    name: &str,
    (email, password): (&str, &str),
    role: Role,
) -> anyhow::Result<Uuid> {
    if let Some((user, _)) = users::find_credentials(conn, email).await? {
        return Ok(user.id);
    }
    let hash = passwords.hash(password.to_owned()).await?;
    let user = users::insert(
        conn,
        &NewUser {
            name,
            email,
            password_hash: &hash,
            role,
            status: AccountStatus::Approved,
        },
    )
    .await?;
    Ok(user.id)
}
