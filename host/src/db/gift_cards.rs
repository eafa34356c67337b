//! Tables `gift_cards` and `gift_card_movements` (the ledger), and the gift-card columns of
//! `payments`. Every change of a balance writes its movement in the same transaction, and
//! the deferred trigger `gift_card_movements_balance` checks at commit that the balance is the
//! sum of the card's movements (migrations/0015_gift_cards.sql).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A gift card (never its code: only a digest of it is stored).
#[derive(Debug, Clone)]
pub struct GiftCard {
    /// Id.
    pub id: Uuid,
    /// The chain that issued it; only its bookings may spend it.
    pub chain_id: Uuid,
    /// The code's last four characters.
    pub hint: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Issued with.
    pub initial_minor: i64,
    /// Left.
    pub balance_minor: i64,
    /// The staff member who issued it.
    pub created_by: Uuid,
    /// Issued at.
    pub created_at: DateTime<Utc>,
}

/// One change of a card's balance.
#[derive(Debug, Clone)]
pub struct Movement {
    /// Id (v7: id order is time order).
    pub id: Uuid,
    /// The card.
    pub card_id: Uuid,
    /// `issue`, `spend` or `refund`.
    pub kind: String,
    /// Signed: a spend is negative.
    pub amount_minor: i64,
    /// The card's balance after it.
    pub balance_after_minor: i64,
    /// The booking paid or refunded.
    pub booking_id: Option<Uuid>,
    /// Its payment.
    pub payment_id: Option<Uuid>,
    /// Who caused it.
    pub actor_id: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Issues a card with `amount_minor` and writes its `issue` movement.
#[tracing::instrument(skip_all, fields(%chain))]
pub async fn insert(
    conn: &mut PgConnection,
    chain: Uuid,
    code_sha256: &[u8; 32],
    hint: &str,
    amount_minor: i64,
    currency: &str,
    actor: Uuid,
) -> Result<GiftCard, sqlx::Error> {
    let card = sqlx::query_as!(
        GiftCard,
        r#"insert into gift_cards (id, chain_id, code_sha256, hint, currency, initial_minor,
                                 balance_minor, created_by)
         values ($1, $2, $3, $4, $5, $6, $6, $7)
         returning id, chain_id, hint, currency, initial_minor, balance_minor, created_by,
                   created_at"#,
        Uuid::now_v7(),
        chain,
        code_sha256.as_slice(),
        hint,
        currency,
        amount_minor,
        actor,
    )
    .fetch_one(&mut *conn)
    .await?;
    record(
        conn,
        &card,
        "issue",
        amount_minor,
        card.balance_minor,
        None,
        Some(actor),
    )
    .await?;
    Ok(card)
}

/// Writes one movement of `card`, whose balance after it is `balance_after`.
#[tracing::instrument(skip_all, fields(card = %card.id, kind))]
async fn record(
    conn: &mut PgConnection,
    card: &GiftCard,
    kind: &str,
    amount_minor: i64,
    balance_after: i64,
    paid: Option<(Uuid, Uuid)>,
    actor: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"insert into gift_card_movements (id, card_id, chain_id, kind, amount_minor,
                                          balance_after_minor, booking_id, payment_id, actor_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
        Uuid::now_v7(),
        card.id,
        card.chain_id,
        kind,
        amount_minor,
        balance_after,
        paid.map(|(booking, _)| booking),
        paid.map(|(_, payment)| payment),
        actor,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The card whose code has this digest, any chain's.
#[tracing::instrument(skip_all)]
pub async fn find_by_code(
    conn: &mut PgConnection,
    code_sha256: &[u8; 32],
) -> Result<Option<GiftCard>, sqlx::Error> {
    sqlx::query_as!(
        GiftCard,
        r#"select id, chain_id, hint, currency, initial_minor, balance_minor, created_by,
                  created_at
           from gift_cards where code_sha256 = $1"#,
        code_sha256.as_slice(),
    )
    .fetch_optional(conn)
    .await
}

/// [`find_by_code`], with the card's row locked until the transaction ends: a payment reads
/// the balance it will spend from under this lock.
#[tracing::instrument(skip_all)]
pub async fn lock_by_code(
    conn: &mut PgConnection,
    code_sha256: &[u8; 32],
) -> Result<Option<GiftCard>, sqlx::Error> {
    sqlx::query_as!(
        GiftCard,
        r#"select id, chain_id, hint, currency, initial_minor, balance_minor, created_by,
                  created_at
           from gift_cards where code_sha256 = $1 for update"#,
        code_sha256.as_slice(),
    )
    .fetch_optional(conn)
    .await
}

/// One card of the chain.
#[tracing::instrument(skip_all, fields(%chain, %id))]
pub async fn find(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<Option<GiftCard>, sqlx::Error> {
    sqlx::query_as!(
        GiftCard,
        r#"select id, chain_id, hint, currency, initial_minor, balance_minor, created_by,
                  created_at
           from gift_cards where chain_id = $1 and id = $2"#,
        chain,
        id,
    )
    .fetch_optional(conn)
    .await
}

/// A page of the chain's cards, in id order.
#[tracing::instrument(skip_all, fields(%chain))]
pub async fn list(
    conn: &mut PgConnection,
    chain: Uuid,
    after: Option<Uuid>,
    fetch: i64,
) -> Result<Vec<GiftCard>, sqlx::Error> {
    sqlx::query_as!(
        GiftCard,
        r#"select id, chain_id, hint, currency, initial_minor, balance_minor, created_by,
                  created_at
           from gift_cards where chain_id = $1 and ($2::uuid is null or id > $2)
           order by id limit $3"#,
        chain,
        after,
        fetch,
    )
    .fetch_all(conn)
    .await
}

/// The card's latest `limit` movements, oldest first.
#[tracing::instrument(skip_all, fields(%card))]
pub async fn movements(
    conn: &mut PgConnection,
    card: Uuid,
    limit: i64,
) -> Result<Vec<Movement>, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        Movement,
        r#"select id, card_id, kind, amount_minor, balance_after_minor, booking_id, payment_id,
                  actor_id, created_at
           from gift_card_movements where card_id = $1 order by id desc limit $2"#,
        card,
        limit,
    )
    .fetch_all(conn)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// Spends `amount_minor` (> 0) of `card` for `booking`'s payment `payment` (whose row the same
/// transaction writes later: the movement's reference to it is checked at commit). One
/// conditional statement, so the balance never goes below zero whatever runs beside it:
/// `None` (nothing changed) when the balance does not cover the amount.
#[tracing::instrument(skip_all, fields(card = %card.id, %booking))]
pub async fn spend(
    conn: &mut PgConnection,
    card: &GiftCard,
    amount_minor: i64,
    booking: Uuid,
    payment: Uuid,
    actor: Uuid,
) -> Result<Option<i64>, sqlx::Error> {
    let balance = sqlx::query_scalar!(
        r#"update gift_cards set balance_minor = balance_minor - $2
           where id = $1 and balance_minor >= $2 returning balance_minor"#,
        card.id,
        amount_minor,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(balance) = balance {
        record(
            conn,
            card,
            "spend",
            -amount_minor,
            balance,
            Some((booking, payment)),
            Some(actor),
        )
        .await?;
    }
    Ok(balance)
}

/// Returns to the gift card that paid part of `booking` as much of `refund_minor` (this
/// refund, not a running total) as the card paid and was not yet given back, with a `refund`
/// movement; answers how much went back to the card (0 when no card paid, or it has had its
/// whole part back). The rest of the refund is the payment card's. Call it in the
/// cancellation's transaction, after locking the booking: it locks the payment row, then the
/// card's (the order a payment takes them in too: booking, then card).
#[tracing::instrument(skip_all, fields(%chain, %booking))]
pub async fn refund_gift_card(
    conn: &mut PgConnection,
    chain: Uuid,
    booking: Uuid,
    refund_minor: i64,
    actor: Option<Uuid>,
) -> Result<i64, sqlx::Error> {
    if refund_minor <= 0 {
        return Ok(0);
    }
    let Some(paid) = sqlx::query!(
        r#"select id, gift_card_id as "card!", gift_card_minor - gift_card_refunded_minor as "left!"
           from payments
           where chain_id = $1 and booking_id = $2 and gift_card_id is not null
           for update"#,
        chain,
        booking,
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(0);
    };
    let back = refund_minor.min(paid.left);
    if back <= 0 {
        return Ok(0);
    }
    sqlx::query!(
        r#"update payments set gift_card_refunded_minor = gift_card_refunded_minor + $2
           where id = $1"#,
        paid.id,
        back,
    )
    .execute(&mut *conn)
    .await?;
    let card = sqlx::query_as!(
        GiftCard,
        r#"update gift_cards set balance_minor = balance_minor + $2 where id = $1
           returning id, chain_id, hint, currency, initial_minor, balance_minor, created_by,
                     created_at"#,
        paid.card,
        back,
    )
    .fetch_one(&mut *conn)
    .await?;
    record(
        conn,
        &card,
        "refund",
        back,
        card.balance_minor,
        Some((booking, paid.id)),
        actor,
    )
    .await?;
    Ok(back)
}
