//! Vouchers: codes a chain's staff create with a number of redemptions, a validity window, an
//! optional scope (shows, movies) and a discount the chain's pricing component interprets.
//! Staff manage them here; a hold redeems one (`bookings::hold`, through [`check_open`],
//! [`check_scope`] and [`check_left`]). The count of live redemptions is kept true by
//! PostgreSQL: `db::vouchers::lock` (docs/bookings.md, "Vouchers").

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::hook_io::Discount;
use super::{ChainAccess, DomainError};
use crate::db::vouchers::{self, NewVoucher};

pub use crate::db::vouchers::{Redemption, Voucher, VoucherChanges};

/// Most redemptions a voucher may allow.
pub const MAX_REDEMPTIONS: i64 = 1_000_000;
/// Most shows, and most movies, a voucher's scope may name.
pub const MAX_SCOPE: usize = 100;
/// Largest amount a voucher may take off, in minor units.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000;
/// Redemptions `GET /chains/{id}/vouchers/{voucher_id}` lists, newest first.
pub const REDEMPTIONS_SHOWN: i64 = 100;

/// A voucher code: 3 to 32 of `A-Z a-z 0-9 _ -`, kept as typed and compared without case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherCode(String);

impl VoucherCode {
    /// Fewest characters.
    pub const MIN_LEN: usize = 3;
    /// Most characters.
    pub const MAX_LEN: usize = 32;
    /// The pattern of the OpenAPI document (and of `vouchers_code_check`).
    pub const PATTERN: &'static str = "^[A-Za-z0-9_-]{3,32}$";

    /// A code, or why `raw` is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if !(Self::MIN_LEN..=Self::MAX_LEN).contains(&len) {
            return Err(format!(
                "must be {} to {} characters",
                Self::MIN_LEN,
                Self::MAX_LEN
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err("may contain only letters A-Z, digits, `_` and `-`".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }
}

impl AsRef<str> for VoucherCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A discount from a request: exactly one of `percent` (1 to 100) and `amount_minor` (1 to
/// [`MAX_AMOUNT_MINOR`]).
pub fn parse_discount(percent: Option<i64>, amount_minor: Option<i64>) -> Result<Discount, String> {
    match (percent, amount_minor) {
        (Some(p), None) => u8::try_from(p)
            .ok()
            .filter(|p| (1..=100).contains(p))
            .map(Discount::Percent)
            .ok_or_else(|| "`percent` must be between 1 and 100".to_owned()),
        (None, Some(a)) if (1..=MAX_AMOUNT_MINOR).contains(&a) => Ok(Discount::AmountMinor(a)),
        (None, Some(_)) => Err(format!(
            "`amount_minor` must be between 1 and {MAX_AMOUNT_MINOR}"
        )),
        _ => Err("give exactly one of `percent` and `amount_minor`".to_owned()),
    }
}

/// Why a hold cannot redeem the voucher its promo code names; each is its own 422 `code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoucherRefusal {
    /// Neither a voucher of the show's chain nor a promo code its pricing knows (the pricing
    /// component's reason).
    Unknown(String),
    /// Every redemption is live (held or confirmed).
    Exhausted(String),
    /// Outside its validity window (not yet, or no longer), or switched off by staff.
    Expired(String),
    /// Not for this show (its scope names other shows or movies).
    NotApplicable(String),
}

impl std::fmt::Display for VoucherRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VoucherRefusal::Unknown(m)
            | VoucherRefusal::Exhausted(m)
            | VoucherRefusal::Expired(m)
            | VoucherRefusal::NotApplicable(m) => f.write_str(m),
        }
    }
}

/// Whether the voucher can be redeemed at `now` (the database's clock): switched on and
/// within its window, `valid_from <= now < valid_until`.
pub fn check_open(v: &Voucher, now: DateTime<Utc>) -> Result<(), VoucherRefusal> {
    let code = &v.code;
    if !v.active {
        return Err(VoucherRefusal::Expired(format!(
            "voucher {code} is no longer valid"
        )));
    }
    if let Some(from) = v.valid_from
        && now < from
    {
        return Err(VoucherRefusal::Expired(format!(
            "voucher {code} is valid from {}",
            from.to_rfc3339()
        )));
    }
    if let Some(until) = v.valid_until
        && now >= until
    {
        return Err(VoucherRefusal::Expired(format!(
            "voucher {code} expired at {}",
            until.to_rfc3339()
        )));
    }
    Ok(())
}

/// Whether the voucher applies to the show (of `movie`): an empty scope applies to every show
/// of the chain, otherwise the show is named or its movie is.
pub fn check_scope(v: &Voucher, show: Uuid, movie: Uuid) -> Result<(), VoucherRefusal> {
    let everywhere = v.show_ids.is_empty() && v.movie_ids.is_empty();
    if everywhere || v.show_ids.contains(&show) || v.movie_ids.contains(&movie) {
        Ok(())
    } else {
        Err(VoucherRefusal::NotApplicable(format!(
            "voucher {} does not apply to this show",
            v.code
        )))
    }
}

/// Whether a redemption is left, by the count of live redemptions read with the voucher.
pub fn check_left(v: &Voucher) -> Result<(), VoucherRefusal> {
    if v.redeemed < i64::from(v.max_redemptions) {
        Ok(())
    } else {
        Err(VoucherRefusal::Exhausted(format!(
            "voucher {} has no redemptions left",
            v.code
        )))
    }
}

/// A new voucher, parsed at the edge.
#[derive(Debug)]
pub struct NewVoucherCommand {
    /// Code.
    pub code: VoucherCode,
    /// 1 to [`MAX_REDEMPTIONS`].
    pub max_redemptions: i32,
    /// Not before.
    pub valid_from: Option<DateTime<Utc>>,
    /// Not from then on (after `valid_from`).
    pub valid_until: Option<DateTime<Utc>>,
    /// Shows of the chain (at most [`MAX_SCOPE`], no duplicates).
    pub show_ids: Vec<Uuid>,
    /// Movies (at most [`MAX_SCOPE`], no duplicates).
    pub movie_ids: Vec<Uuid>,
    /// Discount.
    pub discount: Discount,
}

/// A voucher and its newest redemptions.
#[derive(Debug)]
pub struct VoucherDetail {
    /// The voucher.
    pub voucher: Voucher,
    /// Up to [`REDEMPTIONS_SHOWN`], newest first, live or not.
    pub redemptions: Vec<Redemption>,
}

/// The vouchers service.
#[derive(Clone)]
pub struct Vouchers {
    pool: PgPool,
}

impl Vouchers {
    /// The service over its pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Creates a voucher for the chain.
    pub async fn create(
        &self,
        access: &ChainAccess,
        cmd: NewVoucherCommand,
    ) -> Result<Voucher, DomainError> {
        let chain = access.chain();
        let mut conn = self.pool.acquire().await?;
        let (shows, movies) =
            vouchers::unknown_scope(&mut conn, chain, &cmd.show_ids, &cmd.movie_ids).await?;
        let mut problems = Vec::new();
        if !shows.is_empty() {
            problems.push((
                "show_ids".to_owned(),
                unknown("shows of this chain", &shows),
            ));
        }
        if !movies.is_empty() {
            problems.push(("movie_ids".to_owned(), unknown("movies", &movies)));
        }
        if !problems.is_empty() {
            return Err(DomainError::Invalid(problems));
        }
        let new = NewVoucher {
            chain_id: chain,
            code: cmd.code.as_ref(),
            max_redemptions: cmd.max_redemptions,
            valid_from: cmd.valid_from,
            valid_until: cmd.valid_until,
            show_ids: &cmd.show_ids,
            movie_ids: &cmd.movie_ids,
            discount: cmd.discount,
            created_by: access.actor().id(),
        };
        vouchers::insert(&mut conn, &new).await.map_err(|e| {
            if super::error::is_constraint(&e, "vouchers_chain_code_key") {
                DomainError::VoucherCodeTaken
            } else {
                e.into()
            }
        })
    }

    /// A page of the chain's vouchers in id order, each with its live redemptions counted.
    pub async fn list(
        &self,
        access: &ChainAccess,
        after: Option<Uuid>,
        fetch: i64,
    ) -> Result<Vec<Voucher>, DomainError> {
        let mut conn = self.pool.acquire().await?;
        Ok(vouchers::list(&mut conn, access.chain(), after, fetch).await?)
    }

    /// One voucher of the chain and its newest redemptions.
    pub async fn get(&self, access: &ChainAccess, id: Uuid) -> Result<VoucherDetail, DomainError> {
        let mut conn = self.pool.acquire().await?;
        let voucher = vouchers::find(&mut conn, access.chain(), id)
            .await?
            .ok_or_else(not_found)?;
        let redemptions =
            vouchers::redemptions(&mut conn, access.chain(), id, REDEMPTIONS_SHOWN).await?;
        Ok(VoucherDetail {
            voucher,
            redemptions,
        })
    }

    /// Changes a voucher. Under its lock (the one claims take), so a new maximum is compared
    /// with a count no hold can change meanwhile: lowering it below the live redemptions is
    /// refused (nothing already claimed is revoked).
    pub async fn update(
        &self,
        access: &ChainAccess,
        id: Uuid,
        changes: VoucherChanges,
    ) -> Result<Voucher, DomainError> {
        let chain = access.chain();
        let mut tx = self.pool.begin().await?;
        let (current, _) = vouchers::lock(&mut tx, chain, id)
            .await?
            .ok_or_else(not_found)?;
        if let Some(max) = changes.max_redemptions
            && i64::from(max) < current.redeemed
        {
            return Err(DomainError::InvalidState(format!(
                "{} redemptions are live; max_redemptions cannot go below that",
                current.redeemed
            )));
        }
        if let (Some(Some(until)), Some(from)) = (changes.valid_until, current.valid_from)
            && until <= from
        {
            return Err(window_problem());
        }
        let updated = vouchers::update(&mut tx, chain, id, &changes, current.redeemed)
            .await
            .map_err(|e| {
                if super::error::is_constraint(&e, "vouchers_window_check") {
                    window_problem()
                } else {
                    e.into()
                }
            })?;
        tx.commit().await?;
        Ok(updated)
    }
}

fn not_found() -> DomainError {
    DomainError::NotFound("no such voucher".into())
}

fn window_problem() -> DomainError {
    DomainError::invalid("valid_until", "must be after valid_from")
}

fn unknown(what: &str, ids: &[Uuid]) -> String {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    format!("not {what}: {}", ids.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voucher() -> Voucher {
        let now = Utc::now();
        Voucher {
            id: Uuid::now_v7(),
            chain_id: Uuid::now_v7(),
            code: "Summer-10".into(),
            max_redemptions: 2,
            valid_from: None,
            valid_until: None,
            show_ids: Vec::new(),
            movie_ids: Vec::new(),
            discount: Discount::Percent(10),
            active: true,
            created_at: now,
            updated_at: now,
            redeemed: 0,
        }
    }

    #[test]
    fn codes_are_3_to_32_letters_digits_underscores_and_dashes() {
        for ok in ["abc", "SUMMER_10", "a-b", &"x".repeat(32)] {
            assert_eq!(VoucherCode::parse(ok).map(|c| c.0), Ok(ok.to_owned()));
        }
        for bad in ["", "ab", &"x".repeat(33), "SUM MER", "été10", "a.b", " abc"] {
            assert!(VoucherCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_discount_is_one_percentage_or_one_amount() {
        assert_eq!(parse_discount(Some(10), None), Ok(Discount::Percent(10)));
        assert_eq!(parse_discount(Some(100), None), Ok(Discount::Percent(100)));
        assert_eq!(
            parse_discount(None, Some(500)),
            Ok(Discount::AmountMinor(500))
        );
        for (p, a) in [
            (Some(0), None),
            (Some(101), None),
            (Some(-1), None),
            (Some(256 + 10), None),
            (None, Some(0)),
            (None, Some(MAX_AMOUNT_MINOR + 1)),
            (None, None),
            (Some(10), Some(500)),
        ] {
            assert!(parse_discount(p, a).is_err(), "{p:?} {a:?}");
        }
    }

    #[test]
    fn a_voucher_is_open_within_its_window_while_active() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        let mut v = voucher();
        assert!(check_open(&v, now).is_ok());
        v.valid_from = Some(now + hour);
        assert!(matches!(
            check_open(&v, now),
            Err(VoucherRefusal::Expired(_))
        ));
        v.valid_from = Some(now);
        assert!(check_open(&v, now).is_ok());
        v.valid_until = Some(now);
        assert!(matches!(
            check_open(&v, now),
            Err(VoucherRefusal::Expired(_))
        ));
        v.valid_until = Some(now + hour);
        assert!(check_open(&v, now).is_ok());
        v.active = false;
        assert!(matches!(
            check_open(&v, now),
            Err(VoucherRefusal::Expired(_))
        ));
    }

    #[test]
    fn a_scoped_voucher_applies_to_its_shows_and_the_shows_of_its_movies() {
        let (show, movie) = (Uuid::now_v7(), Uuid::now_v7());
        let mut v = voucher();
        assert!(check_scope(&v, show, movie).is_ok(), "no scope: everywhere");
        v.show_ids = vec![Uuid::now_v7()];
        assert!(matches!(
            check_scope(&v, show, movie),
            Err(VoucherRefusal::NotApplicable(_))
        ));
        v.movie_ids = vec![movie];
        assert!(check_scope(&v, show, movie).is_ok());
        v.movie_ids.clear();
        v.show_ids.push(show);
        assert!(check_scope(&v, show, movie).is_ok());
    }

    #[test]
    fn a_voucher_is_exhausted_when_every_redemption_is_live() {
        let mut v = voucher();
        v.redeemed = 1;
        assert!(check_left(&v).is_ok());
        v.redeemed = 2;
        assert!(matches!(check_left(&v), Err(VoucherRefusal::Exhausted(_))));
    }
}
