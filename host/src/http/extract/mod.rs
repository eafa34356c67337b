//! Extractors that turn every bad input into a problem+json `ApiError`, and the ones that
//! say who is calling and what they may do. Handlers take these instead of axum's own.

mod body;
mod caller;
mod params;

pub use body::{ApiJson, OptionalJson, Problems, parse_json, validation};
pub use caller::{
    AdminUser, AuthUser, CSRF_HEADER, MaybeAuthUser, SESSION_COOKIE, StaffUser, refuse_other_sites,
    session_cookie,
};
pub use params::{ApiPath, ApiQuery, header_text};
