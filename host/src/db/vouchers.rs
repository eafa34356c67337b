//! Table `vouchers`, and the redemptions of a voucher: the bookings that name it
//! (`bookings.voucher_id`), counted while they are live (`booking_is_live()`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::hook_io::Discount;
use crate::domain::types::BookingStatus;

/// A voucher as stored, with its live redemptions counted.
#[derive(Debug, Clone)]
pub struct Voucher {
    /// Id.
    pub id: Uuid,
    /// The chain whose staff made it.
    pub chain_id: Uuid,
    /// As the staff typed it (matched case-insensitively).
    pub code: String,
    /// Most live redemptions at once.
    pub max_redemptions: i32,
    /// Not before.
    pub valid_from: Option<DateTime<Utc>>,
    /// Not from then on.
    pub valid_until: Option<DateTime<Utc>>,
    /// For these shows (empty with `movie_ids` empty: every show of the chain).
    pub show_ids: Vec<Uuid>,
    /// For the shows of these movies.
    pub movie_ids: Vec<Uuid>,
    /// What it takes off.
    pub discount: Discount,
    /// Staff may switch it off.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Live redemptions: bookings naming it that are held and unexpired, or confirmed, at the
    /// statement's instant.
    pub redeemed: i64,
}

/// The flat row; [`Row::into_domain`] makes the discount one value.
struct Row {
    id: Uuid,
    chain_id: Uuid,
    code: String,
    max_redemptions: i32,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    show_ids: Vec<Uuid>,
    movie_ids: Vec<Uuid>,
    discount_percent: Option<i16>,
    discount_amount_minor: Option<i64>,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    redeemed: i64,
}

impl Row {
    /// `vouchers_discount_check` and its range checks make exactly one discount column set.
    fn into_domain(self) -> Result<Voucher, sqlx::Error> {
        let discount = match (self.discount_percent, self.discount_amount_minor) {
            (Some(p), None) => u8::try_from(p).ok().map(Discount::Percent),
            (None, Some(a)) => Some(Discount::AmountMinor(a)),
            _ => None,
        }
        .ok_or_else(|| {
            sqlx::Error::Decode(format!("voucher {} has no single valid discount", self.id).into())
        })?;
        Ok(Voucher {
            id: self.id,
            chain_id: self.chain_id,
            code: self.code,
            max_redemptions: self.max_redemptions,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            show_ids: self.show_ids,
            movie_ids: self.movie_ids,
            discount,
            active: self.active,
            created_at: self.created_at,
            updated_at: self.updated_at,
            redeemed: self.redeemed,
        })
    }
}

/// The discount as its two columns.
fn discount_columns(d: Discount) -> (Option<i16>, Option<i64>) {
    match d {
        Discount::Percent(p) => (Some(i16::from(p)), None),
        Discount::AmountMinor(a) => (None, Some(a)),
    }
}

/// A new voucher, validated by the domain.
#[derive(Debug)]
pub struct NewVoucher<'a> {
    /// Chain.
    pub chain_id: Uuid,
    /// Code.
    pub code: &'a str,
    /// Most live redemptions.
    pub max_redemptions: i32,
    /// Not before.
    pub valid_from: Option<DateTime<Utc>>,
    /// Not from then on.
    pub valid_until: Option<DateTime<Utc>>,
    /// Shows.
    pub show_ids: &'a [Uuid],
    /// Movies.
    pub movie_ids: &'a [Uuid],
    /// Discount.
    pub discount: Discount,
    /// Who made it.
    pub created_by: Uuid,
}

/// Inserts a voucher. Violates `vouchers_chain_code_key` when the chain has the code already
/// (in any case).
#[tracing::instrument(skip_all, fields(chain = %v.chain_id))]
pub async fn insert(conn: &mut PgConnection, v: &NewVoucher<'_>) -> Result<Voucher, sqlx::Error> {
    let (percent, amount) = discount_columns(v.discount);
    sqlx::query_as!(
        Row,
        r#"insert into vouchers (id, chain_id, code, max_redemptions, valid_from, valid_until,
                show_ids, movie_ids, discount_percent, discount_amount_minor, created_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         returning id, chain_id, code, max_redemptions, valid_from, valid_until, show_ids,
                movie_ids, discount_percent, discount_amount_minor, active, created_at,
                updated_at, 0::bigint as "redeemed!""#,
        Uuid::now_v7(),
        v.chain_id,
        v.code,
        v.max_redemptions,
        v.valid_from,
        v.valid_until,
        v.show_ids,
        v.movie_ids,
        percent,
        amount,
        v.created_by,
    )
    .fetch_one(conn)
    .await?
    .into_domain()
}

/// A page of the chain's vouchers in id order.
#[tracing::instrument(skip_all, fields(%chain))]
pub async fn list(
    conn: &mut PgConnection,
    chain: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<Voucher>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"select v.id, v.chain_id, v.code, v.max_redemptions, v.valid_from, v.valid_until,
                v.show_ids, v.movie_ids, v.discount_percent, v.discount_amount_minor, v.active,
                v.created_at, v.updated_at,
                (select count(*) from bookings b
                 where b.chain_id = v.chain_id and b.voucher_id = v.id
                   and booking_is_live(b.status, b.expires_at)) as "redeemed!"
         from vouchers v
         where v.chain_id = $1 and ($2::uuid is null or v.id > $2)
         order by v.id limit $3"#,
        chain,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await?
    .into_iter()
    .map(Row::into_domain)
    .collect()
}

/// One voucher of the chain.
#[tracing::instrument(skip_all, fields(%chain, %id))]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<Voucher>, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"select v.id, v.chain_id, v.code, v.max_redemptions, v.valid_from, v.valid_until,
                v.show_ids, v.movie_ids, v.discount_percent, v.discount_amount_minor, v.active,
                v.created_at, v.updated_at,
                (select count(*) from bookings b
                 where b.chain_id = v.chain_id and b.voucher_id = v.id
                   and booking_is_live(b.status, b.expires_at)) as "redeemed!"
         from vouchers v where v.chain_id = $1 and v.id = $2"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await?
    .map(Row::into_domain)
    .transpose()
}

/// The chain's voucher whose code is `code` in any case, and the database's "now" at the
/// statement that read it (a promo code's first, unlocked look: see [`lock`] for the claim).
#[tracing::instrument(skip_all, fields(%chain))]
pub async fn find_by_code(
    conn: &mut PgConnection,
    chain: Uuid,
    code: &str,
) -> Result<Option<(Voucher, DateTime<Utc>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select v.id, v.chain_id, v.code, v.max_redemptions, v.valid_from, v.valid_until,
                v.show_ids, v.movie_ids, v.discount_percent, v.discount_amount_minor, v.active,
                v.created_at, v.updated_at,
                (select count(*) from bookings b
                 where b.chain_id = v.chain_id and b.voucher_id = v.id
                   and booking_is_live(b.status, b.expires_at)) as "redeemed!",
                statement_timestamp() as "now!"
         from vouchers v where v.chain_id = $1 and upper(v.code) = upper($2)"#,
        chain,
        code,
    )
    .fetch_optional(conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let now = r.now;
    let voucher = Row {
        id: r.id,
        chain_id: r.chain_id,
        code: r.code,
        max_redemptions: r.max_redemptions,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        show_ids: r.show_ids,
        movie_ids: r.movie_ids,
        discount_percent: r.discount_percent,
        discount_amount_minor: r.discount_amount_minor,
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
        redeemed: r.redeemed,
    }
    .into_domain()?;
    Ok(Some((voucher, now)))
}

/// Locks the chain's voucher `id` until the end of the transaction, then counts its live
/// redemptions, and returns it with the database's "now" of that count.
///
/// This is what serialises claims: every transaction that may add a live redemption (a hold
/// naming the voucher, a payment confirming one) or lower `max_redemptions` takes this lock
/// first (`for no key update`: it queues these writers behind each other, while the foreign
/// key check of a booking insert, `for key share`, passes). The count is a second statement
/// on purpose: under READ COMMITTED each statement sees what was committed when it started,
/// so a count that waited for the lock in the same statement would miss the redemption of
/// the transaction it waited for.
#[tracing::instrument(skip_all, fields(%chain, %id))]
pub async fn lock(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<(Voucher, DateTime<Utc>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, chain_id, code, max_redemptions, valid_from, valid_until, show_ids,
                movie_ids, discount_percent, discount_amount_minor, active, created_at, updated_at
         from vouchers where chain_id = $1 and id = $2 for no key update"#,
        chain,
        id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let count = sqlx::query!(
        r#"select count(*) as "redeemed!", statement_timestamp() as "now!" from bookings
         where chain_id = $1 and voucher_id = $2 and booking_is_live(status, expires_at)"#,
        chain,
        id,
    )
    .fetch_one(conn)
    .await?;
    let voucher = Row {
        id: r.id,
        chain_id: r.chain_id,
        code: r.code,
        max_redemptions: r.max_redemptions,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        show_ids: r.show_ids,
        movie_ids: r.movie_ids,
        discount_percent: r.discount_percent,
        discount_amount_minor: r.discount_amount_minor,
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
        redeemed: count.redeemed,
    }
    .into_domain()?;
    Ok(Some((voucher, count.now)))
}

/// Locks the voucher of the chain's booking `booking`, if it has one ([`lock`]'s lock,
/// without the count): a payment takes it before confirming, so that a confirmation and a
/// claim of the last redemption happen one after the other, each seeing the other's outcome.
#[tracing::instrument(skip_all, fields(%chain, %booking))]
pub async fn lock_of_booking(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"select v.id from vouchers v
         where v.chain_id = $1
           and v.id = (select b.voucher_id from bookings b where b.chain_id = $1 and b.id = $2)
         for no key update of v"#,
        chain,
        booking,
    )
    .fetch_optional(conn)
    .await?;
    Ok(())
}

/// What staff may change.
#[derive(Debug, Default)]
pub struct VoucherChanges {
    /// Switch it on or off.
    pub active: Option<bool>,
    /// A new maximum.
    pub max_redemptions: Option<i32>,
    /// A new end (`Some(None)`: none).
    pub valid_until: Option<Option<DateTime<Utc>>>,
}

/// Applies `changes` to the chain's voucher (locked by [`lock`] in this transaction, whose
/// count is `redeemed`). Violates `vouchers_window_check` for an end not after the start.
#[tracing::instrument(skip_all, fields(%chain, %id))]
pub async fn update(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    changes: &VoucherChanges,
    redeemed: i64,
) -> Result<Voucher, sqlx::Error> {
    sqlx::query_as!(
        Row,
        r#"update vouchers set active = coalesce($3, active),
                max_redemptions = coalesce($4, max_redemptions),
                valid_until = case when $5 then $6 else valid_until end
         where chain_id = $1 and id = $2
         returning id, chain_id, code, max_redemptions, valid_from, valid_until, show_ids,
                movie_ids, discount_percent, discount_amount_minor, active, created_at,
                updated_at, $7::bigint as "redeemed!""#,
        chain,
        id,
        changes.active,
        changes.max_redemptions,
        changes.valid_until.is_some(),
        changes.valid_until.flatten(),
        redeemed,
    )
    .fetch_one(conn)
    .await?
    .into_domain()
}

/// One redemption of a voucher: a booking that names it, live or not.
#[derive(Debug, Clone)]
pub struct Redemption {
    /// The booking.
    pub booking_id: Uuid,
    /// Its customer.
    pub user_id: Uuid,
    /// As recorded (a `held` row may have run out).
    pub status: BookingStatus,
    /// End of the hold.
    pub expires_at: DateTime<Utc>,
    /// What the voucher took off.
    pub discount_minor: i64,
    /// When it was claimed (the hold).
    pub created_at: DateTime<Utc>,
}

/// The newest `limit` redemptions of the chain's voucher, newest first.
#[tracing::instrument(skip_all, fields(%chain, %id))]
pub async fn redemptions(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
    limit: i64,
) -> Result<Vec<Redemption>, sqlx::Error> {
    sqlx::query_as!(
        Redemption,
        r#"select id as booking_id, user_id, status as "status: BookingStatus", expires_at,
                discount_minor, created_at
         from bookings where chain_id = $1 and voucher_id = $2
         order by id desc limit $3"#,
        chain,
        id,
        limit,
    )
    .fetch_all(conn)
    .await
}

/// Of `shows`, those that are not shows of the chain, and of `movies`, those that do not
/// exist (a voucher's scope names only things it can apply to).
#[tracing::instrument(skip_all, fields(%chain))]
pub async fn unknown_scope(
    conn: &mut PgConnection,
    chain: Uuid,
    shows: &[Uuid],
    movies: &[Uuid],
) -> Result<(Vec<Uuid>, Vec<Uuid>), sqlx::Error> {
    let r = sqlx::query!(
        r#"select array(select s from unnest($2::uuid[]) s
                        where not exists (select 1 from shows where chain_id = $1 and id = s))
                    as "shows!",
                array(select m from unnest($3::uuid[]) m
                      where not exists (select 1 from movies where id = m)) as "movies!""#,
        chain,
        shows,
        movies,
    )
    .fetch_one(conn)
    .await?;
    Ok((r.shows, r.movies))
}
