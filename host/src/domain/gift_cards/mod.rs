//! Gift cards: a chain's staff issue them (the code is shown once and stored as a digest), a
//! payment spends them (`bookings::pay`), a refund returns their part
//! (`db::gift_cards::refund_gift_card`), and every change is a ledger row that the card's
//! staff and whoever holds the code can read.

mod code;

use sqlx::PgPool;
use uuid::Uuid;

pub use code::{GiftCardCode, MAX_INPUT_LEN as MAX_CODE_INPUT_LEN};

use super::types::Money;
use super::{Actor, DomainError};
use crate::db::{auth_limits, gift_cards};

pub use crate::db::gift_cards::{GiftCard, Movement};

/// Largest amount a card may be issued with, in minor units (ten million of the major unit).
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000;

/// Movements shown with a card: its latest ones.
pub const MOVEMENTS_SHOWN: i64 = 200;

/// Failed lookups by code one client address may make a minute. Codes have 100 random bits,
/// so guessing is hopeless anyway; this keeps a client from trying.
pub const LOOKUP_FAILURES_PER_MINUTE: u32 = 30;
const LOOKUP_SCOPE: &str = "gift-card-lookup-client";

/// The gift card service.
#[derive(Clone)]
pub struct GiftCards {
    pool: PgPool,
}

/// A card just issued, with the only copy of its code.
#[derive(Debug)]
pub struct IssuedGiftCard {
    /// The card.
    pub card: GiftCard,
    /// Its code; never stored, never shown again.
    pub code: GiftCardCode,
}

/// A card and its latest movements.
#[derive(Debug)]
pub struct GiftCardLedger {
    /// The card.
    pub card: GiftCard,
    /// Its latest [`MOVEMENTS_SHOWN`] movements, oldest first.
    pub movements: Vec<Movement>,
}

impl GiftCards {
    /// The service over its pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Issues a card of `amount` for `chain` (its members and admins).
    pub async fn issue(
        &self,
        actor: &Actor,
        chain: Uuid,
        amount: Money,
    ) -> Result<IssuedGiftCard, DomainError> {
        if !(1..=MAX_AMOUNT_MINOR).contains(&amount.minor) {
            return Err(DomainError::invalid(
                "amount_minor",
                format!("must be 1 to {MAX_AMOUNT_MINOR}"),
            ));
        }
        let mut tx = self.pool.begin().await?;
        actor.require_member(&mut tx, chain).await?;
        let code = GiftCardCode::generate();
        let card = gift_cards::insert(
            &mut tx,
            chain,
            &code.sha256(),
            code.hint(),
            amount.minor,
            amount.currency.as_str(),
            actor.id(),
        )
        .await?;
        tx.commit().await?;
        Ok(IssuedGiftCard { card, code })
    }

    /// A page of the chain's cards (its members and admins).
    pub async fn list(
        &self,
        actor: &Actor,
        chain: Uuid,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<GiftCard>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        actor.require_member(&mut conn, chain).await?;
        Ok(gift_cards::list(&mut conn, chain, after, fetch).await?)
    }

    /// One card of the chain with its movements (its members and admins).
    pub async fn get(
        &self,
        actor: &Actor,
        chain: Uuid,
        card: Uuid,
    ) -> Result<GiftCardLedger, DomainError> {
        let mut conn = self.pool.acquire().await?;
        actor.require_member(&mut conn, chain).await?;
        let card = gift_cards::find(&mut conn, chain, card)
            .await?
            .ok_or_else(|| DomainError::NotFound("no such gift card".into()))?;
        let movements = gift_cards::movements(&mut conn, card.id, MOVEMENTS_SHOWN).await?;
        Ok(GiftCardLedger { card, movements })
    }

    /// The card whose code the holder typed (`raw`), for anyone who has it. Failed lookups
    /// count against the client's budget (`client`, its limiter key); a spent budget is
    /// refused before the code is looked at.
    pub async fn by_code(&self, client: &str, raw: &str) -> Result<GiftCardLedger, DomainError> {
        let key = client_key(client);
        let mut conn = self.pool.acquire().await?;
        if let Some(retry_after_secs) = auth_limits::take(
            &mut conn,
            LOOKUP_SCOPE,
            &key,
            LOOKUP_FAILURES_PER_MINUTE,
            crate::auth::limits::WINDOW,
        )
        .await?
        {
            return Err(DomainError::RateLimited { retry_after_secs });
        }
        let found = match GiftCardCode::parse(raw) {
            Some(code) => gift_cards::find_by_code(&mut conn, &code.sha256()).await?,
            None => None,
        };
        let Some(card) = found else {
            return Err(DomainError::NotFound("no gift card has this code".into()));
        };
        // Found: this lookup does not count.
        auth_limits::give_back(&mut conn, LOOKUP_SCOPE, &key).await?;
        let movements = gift_cards::movements(&mut conn, card.id, MOVEMENTS_SHOWN).await?;
        Ok(GiftCardLedger { card, movements })
    }
}

/// The limiter's key of a client: a digest, so its size does not depend on the request.
fn client_key(client: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(LOOKUP_SCOPE.as_bytes());
    hasher.update([0]);
    hasher.update(client.as_bytes());
    hasher.finalize().into()
}
