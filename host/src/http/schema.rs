//! Schemas of request fields built from the constants their parsers check, so that the OpenAPI
//! document says what the host accepts and cannot drift from it. A wire struct's field points
//! here with `#[schema(schema_with = …)]` (bodies) or `#[param(schema_with = …)]` (queries);
//! each function below names the constant or the parser it mirrors. See "Request schemas" in
//! docs/ARCHITECTURE.md.

use utoipa::openapi::schema::{
    KnownFormat, Object, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
};

/// A string of `min` to `max` characters (JSON Schema counts code points, as the parsers'
/// `chars().count()` does).
pub(crate) fn text(min: usize, max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
}

/// Text that is trimmed and then must be 1 to `max` characters: not blank (the pattern asks
/// for one non-space character). The limit applies to the trimmed text.
pub(crate) fn trimmed_text(max: usize) -> ObjectBuilder {
    text(1, max).pattern(Some(r"\S"))
}

/// A UUID (`uuid::Uuid` parses the hyphenated form the API writes, and the simple, braced and
/// `urn:uuid:` forms).
pub(crate) fn uuid() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
}

/// A string that is one of `values`.
pub(crate) fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
}

/// An integer from `min` to `max`.
pub(crate) fn integer(min: i64, max: i64) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(min))
        .maximum(Some(max))
}

/// An email address as [`crate::domain::types::Email::parse`] accepts it.
pub(crate) fn email() -> Object {
    use crate::domain::types::email::{MAX_LEN, MAX_LOCAL_LEN, MIN_LEN};
    text(MIN_LEN, MAX_LEN)
        .format(Some(SchemaFormat::Custom("email".into())))
        .description(Some(format!(
            "An email address (at most {MAX_LEN} characters, {MAX_LOCAL_LEN} before the @), \
             compared case-insensitively"
        )))
        .build()
}

/// A new password as [`crate::domain::types::Password::parse`] accepts it.
pub(crate) fn new_password() -> Object {
    use crate::domain::types::password::{MAX_CHARS, MIN_CHARS};
    text(MIN_CHARS, MAX_CHARS)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .description(Some(format!(
            "{MIN_CHARS} to {MAX_CHARS} characters mixing at least two of: lowercase, \
             uppercase, digits, symbols"
        )))
        .build()
}

/// A password being checked (signin, the old password): any string; a wrong one is 401/403.
pub(crate) fn password() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password)))
        .build()
}

/// `?limit=`: the bounds [`super::page::PageRequest::parse`] checks.
pub(crate) fn page_limit() -> Object {
    use super::page::{DEFAULT_LIMIT, MAX_LIMIT};
    integer(1, i64::from(MAX_LIMIT))
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .default(Some(DEFAULT_LIMIT.into()))
        .description(Some(format!(
            "Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}); outside it 422"
        )))
        .build()
}

/// `?cursor=`: an opaque base64url value; only a previous page's `next_cursor` is accepted.
pub(crate) fn page_cursor() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[A-Za-z0-9_-]+$"))
        .description(Some(
            "The `next_cursor` of the previous page; any other value is 400",
        ))
        .build()
}

/// A hook's name, one of [`crate::plugins::Hook::ALL`] (what `http::components::parse_hook`
/// accepts).
pub(crate) fn hook() -> Object {
    one_of(crate::plugins::Hook::ALL.iter().map(|h| h.as_str())).build()
}

/// Declares a unit type whose schema is `$schema()`, for the places utoipa wants a type rather
/// than a function: a path parameter, or a required query parameter (`#[param(schema_with)]`
/// drops `required`; `#[param(inline, value_type = …)]` keeps it).
macro_rules! schema_type {
    ($(#[$doc:meta])* $ty:ident = $name:literal, $schema:path) => {
        $(#[$doc])*
        pub(crate) struct $ty;

        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $schema().into()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
        }
    };
}

schema_type!(
    /// A hook's name in a path or a query: [`hook`].
    HookName = "Hook", hook
);
schema_type!(
    /// The `Idempotency-Key` header: [`super::idempotency::key_schema`].
    IdempotencyKeyHeader = "IdempotencyKey", super::idempotency::key_schema
);
schema_type!(
    /// `?count=` of the seat suggestion: [`pick_count`].
    PickCount = "PickCount", pick_count
);

/// `?status=` of the booking list: a [`BookingStatus`](crate::domain::types::BookingStatus).
pub(crate) fn booking_status() -> Object {
    use crate::domain::types::BookingStatus;
    one_of(BookingStatus::ALL.iter().map(|s| s.as_str())).build()
}

/// `?status=` of the notification list: a
/// [`NotificationStatus`](crate::domain::types::NotificationStatus).
pub(crate) fn notification_status() -> Object {
    use crate::domain::types::NotificationStatus;
    one_of(NotificationStatus::ALL.iter().map(|s| s.as_str())).build()
}

/// A movie's release status: a [`ReleaseStatus`](crate::domain::types::ReleaseStatus).
pub(crate) fn release_status() -> Object {
    use crate::domain::types::ReleaseStatus;
    one_of(ReleaseStatus::ALL.iter().map(|s| s.as_str())).build()
}

/// `?outcome=` of the run log: `ok`, `refused` or a failure kind.
pub(crate) fn run_outcome() -> Object {
    one_of(crate::plugins::registry::RunOutcome::NAMES).build()
}

/// A binding's failure policy, as `OnFailure::parse` reads it.
pub(crate) fn on_failure() -> Object {
    use crate::plugins::OnFailure;
    one_of([OnFailure::Reject, OnFailure::Fallback].map(OnFailure::as_str)).build()
}

/// `?count=` of the seat suggestion: 1 to [`MAX_PICK`](crate::domain::bookings::MAX_PICK).
pub(crate) fn pick_count() -> Object {
    use crate::domain::bookings::MAX_PICK;
    integer(1, i64::from(MAX_PICK))
        .description(Some(format!("How many seats (1 to {MAX_PICK})")))
        .build()
}

/// `schema` or JSON `null`: an `Option` field, where null means the same as leaving it out.
pub(crate) fn nullable(
    schema: impl Into<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>,
) -> OneOfBuilder {
    OneOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

/// `?staff=` of the chain list: only `me`.
pub(crate) fn staff_me() -> Object {
    one_of(["me"]).build()
}
