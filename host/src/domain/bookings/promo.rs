//! A hold's promo code: a voucher of the show's chain (checked, then claimed in the hold's
//! transaction), or a code only the chain's pricing component may know (docs/bookings.md,
//! "Vouchers").

use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::shows::ShowContext;
use crate::db::vouchers::{self, Voucher};
use crate::domain::DomainError;
use crate::domain::hook_io::VoucherTerms;
use crate::domain::vouchers::{VoucherRefusal, check_left, check_open, check_scope};

/// What the customer's promo code is.
#[derive(Debug, Clone)]
pub(super) enum Promo {
    /// No code.
    None,
    /// A code that matches no voucher of the chain: it goes to pricing as before vouchers, and
    /// a refusal by pricing means nobody knows it (`voucher_unknown`).
    Legacy(String),
    /// A voucher of the chain, open and applicable when it was read.
    Voucher {
        /// As the customer typed it (trimmed): the booking's `promo_code`.
        typed: String,
        /// The voucher.
        voucher: Box<Voucher>,
    },
}

impl Promo {
    /// The code as the customer gave it.
    pub(super) fn code(&self) -> Option<&str> {
        match self {
            Promo::None => None,
            Promo::Legacy(code) | Promo::Voucher { typed: code, .. } => Some(code),
        }
    }

    /// The voucher's terms, for pricing.
    pub(super) fn terms(&self) -> Option<VoucherTerms> {
        match self {
            Promo::Voucher { voucher, .. } => Some(VoucherTerms {
                code: voucher.code.clone(),
                discount: voucher.discount,
            }),
            _ => None,
        }
    }

    /// The voucher's id.
    pub(super) fn voucher_id(&self) -> Option<Uuid> {
        match self {
            Promo::Voucher { voucher, .. } => Some(voucher.id),
            _ => None,
        }
    }

    /// What pricing's refusal (`reason`) means: a legacy code nobody knows is
    /// `voucher_unknown`; otherwise the rules refused (`rule_violation`).
    pub(super) fn refused(&self, reason: &str) -> DomainError {
        match self {
            Promo::Legacy(_) => DomainError::Voucher(VoucherRefusal::Unknown(reason.to_owned())),
            _ => DomainError::RuleViolation(reason.to_owned()),
        }
    }

    /// The voucher's part of the pricing decision's audit detail.
    pub(super) fn audit(&self, discount_minor: i64) -> Option<serde_json::Value> {
        match self {
            Promo::Voucher { voucher, .. } => Some(json!({
                "id": voucher.id,
                "code": voucher.code,
                "discount": voucher.discount,
                "discount_minor": discount_minor,
            })),
            _ => None,
        }
    }
}

/// The promo code `code` for the show: a voucher of its chain if one has this code in any
/// case, checked (switched on, within its window, for this show, a redemption left) before
/// any component runs; a code no voucher has is [`Promo::Legacy`].
pub(super) async fn read(
    conn: &mut PgConnection,
    ctx: &ShowContext,
    code: Option<&str>,
) -> Result<Promo, DomainError> {
    let Some(code) = code else {
        return Ok(Promo::None);
    };
    let Some((voucher, now)) = vouchers::find_by_code(conn, ctx.show.chain_id, code).await? else {
        return Ok(Promo::Legacy(code.to_owned()));
    };
    check_open(&voucher, now)
        .and_then(|()| check_scope(&voucher, ctx.show.id, ctx.show.movie_id))
        .and_then(|()| check_left(&voucher))
        .map_err(DomainError::Voucher)?;
    Ok(Promo::Voucher {
        typed: code.to_owned(),
        voucher: Box::new(voucher),
    })
}

/// Claims a redemption of the chain's voucher `id` in the hold's transaction, before the hold's
/// booking is inserted: the voucher's row lock queues every claim of it, then the live
/// redemptions are counted and the voucher checked again (staff may have switched it off,
/// its window may have closed, others may have taken the rest while the components ran). The
/// claim is the booking row itself, committed or rolled back with the hold.
pub(super) async fn claim(
    conn: &mut PgConnection,
    chain: Uuid,
    id: Uuid,
) -> Result<(), DomainError> {
    let (voucher, now) = vouchers::lock(conn, chain, id).await?.ok_or_else(|| {
        DomainError::Voucher(VoucherRefusal::Unknown(
            "the voucher no longer exists".to_owned(),
        ))
    })?;
    check_open(&voucher, now)
        .and_then(|()| check_left(&voucher))
        .map_err(DomainError::Voucher)
}
