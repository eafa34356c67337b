//! A chain's vouchers (API.md, "Box office"): its staff create, list, read and change them;
//! customers redeem them with `promo_code` on `POST /bookings`.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, ApiQuery, Problems, StaffUser};
use super::page::{Page, PageRequest};
use super::{ApiError, Problem};
use crate::domain::hook_io::Discount;
use crate::domain::types::BookingStatus;
use crate::domain::vouchers::{
    self, MAX_REDEMPTIONS, MAX_SCOPE, NewVoucherCommand, Redemption, Voucher, VoucherChanges,
    VoucherCode, VoucherDetail,
};
use crate::domain::{Actor, ChainAccess};
use crate::state::AppState;

/// The routes of this module, each declared once: its path and method come from the
/// handler's `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_vouchers, create_voucher))
        .routes(routes!(get_voucher, update_voucher))
}

/// A voucher.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct VoucherView {
    id: Uuid,
    chain_id: Uuid,
    /// As created; matched case-insensitively.
    code: String,
    max_redemptions: i32,
    /// Live redemptions: bookings with this voucher that are held (and not expired) or
    /// confirmed. At most `max_redemptions`.
    redeemed: i64,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    /// With `movie_ids` empty: every show of the chain.
    show_ids: Vec<Uuid>,
    movie_ids: Vec<Uuid>,
    /// `{"percent": 1..100}` or `{"amount_minor": n}` (the chain's currency), interpreted by
    /// the chain's pricing component.
    discount: Discount,
    /// A switched-off voucher is refused with `voucher_expired`.
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Voucher> for VoucherView {
    fn from(v: Voucher) -> Self {
        Self {
            id: v.id,
            chain_id: v.chain_id,
            code: v.code,
            max_redemptions: v.max_redemptions,
            redeemed: v.redeemed,
            valid_from: v.valid_from,
            valid_until: v.valid_until,
            show_ids: v.show_ids,
            movie_ids: v.movie_ids,
            discount: v.discount,
            active: v.active,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A redemption: a booking that claimed the voucher, live or not.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct RedemptionView {
    booking_id: Uuid,
    user_id: Uuid,
    /// The booking's status as its customer sees it: `held` and `confirmed` redemptions
    /// count, `expired` and `cancelled` ones were released.
    status: BookingStatus,
    discount_minor: i64,
    created_at: DateTime<Utc>,
}

impl From<Redemption> for RedemptionView {
    fn from(r: Redemption) -> Self {
        Self {
            booking_id: r.booking_id,
            user_id: r.user_id,
            status: r.status.as_seen(r.expires_at, Utc::now()),
            discount_minor: r.discount_minor,
            created_at: r.created_at,
        }
    }
}

/// A voucher and its newest redemptions.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct VoucherDetailView {
    #[serde(flatten)]
    voucher: VoucherView,
    /// The 100 newest redemptions, newest first.
    redemptions: Vec<RedemptionView>,
}

impl From<VoucherDetail> for VoucherDetailView {
    fn from(d: VoucherDetail) -> Self {
        Self {
            voucher: d.voucher.into(),
            redemptions: d.redemptions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A discount: exactly one of `percent` and `amount_minor`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DiscountBody {
    percent: Option<i64>,
    amount_minor: Option<i64>,
}

/// New voucher.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateVoucher {
    /// 3 to 32 of `A-Z a-z 0-9 _ -`, unique in the chain whatever the case.
    #[schema(schema_with = field::code)]
    code: String,
    /// How many bookings may hold or keep it at once.
    #[schema(schema_with = field::max_redemptions)]
    max_redemptions: i64,
    /// RFC 3339 with an offset; absent: valid at once.
    #[schema(schema_with = field::time_or_null)]
    valid_from: Option<String>,
    /// RFC 3339 with an offset, after `valid_from`; absent: no end.
    #[schema(schema_with = field::time_or_null)]
    valid_until: Option<String>,
    /// Shows of the chain it applies to.
    #[schema(schema_with = field::ids)]
    show_ids: Option<Vec<Uuid>>,
    /// Movies whose shows (of the chain) it applies to. With neither, every show of the chain.
    #[schema(schema_with = field::ids)]
    movie_ids: Option<Vec<Uuid>>,
    #[schema(schema_with = field::discount)]
    discount: DiscountBody,
}

/// Voucher changes; code, scope and discount are fixed. `{}` changes nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateVoucher {
    /// `false` switches it off (holds with it are refused; claimed redemptions stay).
    active: Option<bool>,
    /// Not below `redeemed` (409 `invalid_state`): nothing already claimed is revoked.
    #[schema(schema_with = field::max_redemptions_or_null)]
    max_redemptions: Option<i64>,
    /// RFC 3339 with an offset, after `valid_from`; `null` removes the end.
    #[serde(default, deserialize_with = "present")]
    #[schema(schema_with = field::time_or_null)]
    valid_until: Option<Option<String>>,
}

/// A field that is present (its value may be `null`), told apart from an absent one.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// The voucher fields' schemas, from the limits the parsers check
/// ([`crate::domain::vouchers`]).
mod field {
    use crate::domain::vouchers::{MAX_AMOUNT_MINOR, MAX_REDEMPTIONS, MAX_SCOPE, VoucherCode};
    use crate::http::schema::{integer, nullable, text, uuid};
    use utoipa::openapi::schema::{
        AdditionalProperties, ArrayBuilder, KnownFormat, Object, ObjectBuilder, OneOfBuilder,
        SchemaFormat, Type,
    };

    pub(super) fn code() -> Object {
        text(VoucherCode::MIN_LEN, VoucherCode::MAX_LEN)
            .pattern(Some(VoucherCode::PATTERN))
            .build()
    }
    pub(super) fn max_redemptions() -> Object {
        integer(1, MAX_REDEMPTIONS).build()
    }
    pub(super) fn max_redemptions_or_null() -> OneOfBuilder {
        nullable(max_redemptions())
    }
    pub(super) fn time_or_null() -> OneOfBuilder {
        nullable(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
        )
    }
    pub(super) fn ids() -> OneOfBuilder {
        nullable(
            ArrayBuilder::new()
                .items(uuid())
                .max_items(Some(MAX_SCOPE))
                .unique_items(true),
        )
    }
    /// `{"percent": 1..100}` or `{"amount_minor": 1..}`, nothing else.
    pub(super) fn discount() -> OneOfBuilder {
        let one = |name: &str, schema: Object| {
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(name, schema)
                .required(name)
                .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        };
        OneOfBuilder::new()
            .item(one("percent", integer(1, 100).build()))
            .item(one("amount_minor", integer(1, MAX_AMOUNT_MINOR).build()))
            .description(Some(
                "A percentage off the price, or an amount off in the chain's minor units",
            ))
    }
}

/// An RFC 3339 time of the body, or the problem with it.
fn parse_time(p: &mut Problems, field: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
    let raw = raw?;
    match DateTime::parse_from_rfc3339(raw) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => {
            p.add(field, "must be an RFC 3339 time with offset");
            None
        }
    }
}

/// A scope list: at most [`MAX_SCOPE`] ids, none twice.
fn parse_ids(p: &mut Problems, field: &str, raw: Option<Vec<Uuid>>) -> Vec<Uuid> {
    let ids = raw.unwrap_or_default();
    if ids.len() > MAX_SCOPE {
        p.add(field, format!("at most {MAX_SCOPE} ids"));
    } else if ids.iter().collect::<BTreeSet<_>>().len() != ids.len() {
        p.add(field, "lists an id twice");
    }
    ids
}

fn parse_max(p: &mut Problems, raw: i64) -> Option<i32> {
    match i32::try_from(raw) {
        Ok(max) if (1..=MAX_REDEMPTIONS).contains(&raw) => Some(max),
        _ => {
            p.add(
                "max_redemptions",
                format!("must be between 1 and {MAX_REDEMPTIONS}"),
            );
            None
        }
    }
}

impl CreateVoucher {
    fn into_command(self) -> Result<NewVoucherCommand, ApiError> {
        let mut p = Problems::default();
        let code = p.check("code", VoucherCode::parse(&self.code));
        let max = parse_max(&mut p, self.max_redemptions);
        let valid_from = parse_time(&mut p, "valid_from", self.valid_from.as_deref());
        let valid_until = parse_time(&mut p, "valid_until", self.valid_until.as_deref());
        if let (Some(from), Some(until)) = (valid_from, valid_until)
            && until <= from
        {
            p.add("valid_until", "must be after valid_from");
        }
        let show_ids = parse_ids(&mut p, "show_ids", self.show_ids);
        let movie_ids = parse_ids(&mut p, "movie_ids", self.movie_ids);
        let discount = p.check(
            "discount",
            vouchers::parse_discount(self.discount.percent, self.discount.amount_minor),
        );
        p.finish()?;
        match (code, max, discount) {
            (Some(code), Some(max_redemptions), Some(discount)) => Ok(NewVoucherCommand {
                code,
                max_redemptions,
                valid_from,
                valid_until,
                show_ids,
                movie_ids,
                discount,
            }),
            _ => Err(ApiError::internal("validated voucher fields missing")),
        }
    }
}

impl UpdateVoucher {
    fn into_changes(self) -> Result<VoucherChanges, ApiError> {
        let mut p = Problems::default();
        let max_redemptions = self.max_redemptions.and_then(|m| parse_max(&mut p, m));
        let valid_until = self
            .valid_until
            .map(|until| parse_time(&mut p, "valid_until", until.as_deref()));
        p.finish()?;
        Ok(VoucherChanges {
            active: self.active,
            max_redemptions,
            valid_until,
        })
    }
}

/// The actor's access to the chain, asked first: another chain's vouchers are "not found"
/// whatever else is wrong with the request.
async fn access(
    state: &AppState,
    user: crate::domain::types::User,
    chain: Uuid,
) -> Result<ChainAccess, ApiError> {
    Ok(state.accounts.member_of(&Actor::new(user), chain).await?)
}

/// Creates a voucher for the chain.
#[utoipa::path(post, path = "/api/v1/chains/{id}/vouchers", tag = "chains", request_body = CreateVoucher,
    params(("id" = Uuid, Path, description = "Chain id")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = VoucherView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`voucher_code_taken`: the chain has a voucher with this code, in any case", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed` (also for shows not of the chain, unknown movies)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn create_voucher(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CreateVoucher>,
) -> Result<(StatusCode, Json<VoucherView>), ApiError> {
    let access = access(&state, user, chain).await?;
    let cmd = body.into_command()?;
    let voucher = state.vouchers.create(&access, cmd).await?;
    Ok((StatusCode::CREATED, Json(voucher.into())))
}

/// Paging parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(super) struct VoucherQuery {
    #[param(schema_with = crate::http::schema::page_limit)]
    limit: Option<u32>,
    #[param(schema_with = crate::http::schema::page_cursor)]
    cursor: Option<String>,
}

/// Lists the chain's vouchers, each with its live redemptions counted.
#[utoipa::path(get, path = "/api/v1/chains/{id}/vouchers", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), VoucherQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of vouchers", body = Page<VoucherView>),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such chain (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn list_vouchers(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath(chain): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<VoucherQuery>,
) -> Result<Json<Page<VoucherView>>, ApiError> {
    let access = access(&state, user, chain).await?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let rows = state
        .vouchers
        .list(&access, page.after, page.fetch())
        .await?;
    Ok(Json(
        Page::from_rows(rows, page, |v| v.id).map(VoucherView::from),
    ))
}

/// One voucher of the chain with its 100 newest redemptions.
#[utoipa::path(get, path = "/api/v1/chains/{id}/vouchers/{voucher_id}", tag = "chains",
    params(("id" = Uuid, Path, description = "Chain id"), ("voucher_id" = Uuid, Path, description = "Voucher id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The voucher", body = VoucherDetailView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such voucher (or not your chain's)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn get_voucher(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<VoucherDetailView>, ApiError> {
    let access = access(&state, user, chain).await?;
    Ok(Json(state.vouchers.get(&access, id).await?.into()))
}

/// Switches a voucher on or off, or changes its maximum or its end.
#[utoipa::path(patch, path = "/api/v1/chains/{id}/vouchers/{voucher_id}", tag = "chains", request_body = UpdateVoucher,
    params(("id" = Uuid, Path, description = "Chain id"), ("voucher_id" = Uuid, Path, description = "Voucher id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = VoucherView),
        (status = 403, description = "`forbidden`: not chain staff (a customer, or an owner not approved)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such voucher (or not your chain's)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: `max_redemptions` below the live redemptions", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`", body = Problem, content_type = "application/problem+json"),
    ))]
pub(super) async fn update_voucher(
    State(state): State<AppState>,
    StaffUser(user): StaffUser,
    ApiPath((chain, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<UpdateVoucher>,
) -> Result<Json<VoucherView>, ApiError> {
    let access = access(&state, user, chain).await?;
    let changes = body.into_changes()?;
    Ok(Json(
        state.vouchers.update(&access, id, changes).await?.into(),
    ))
}
