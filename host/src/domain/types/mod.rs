//! Values parsed once at the edge; past it, they are known to be valid.

pub mod email;
pub mod password;
pub mod seat_layout;

pub use email::Email;
pub use password::Password;
