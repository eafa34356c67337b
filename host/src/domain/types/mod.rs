//! Values parsed once at the edge; past it, they are known to be valid.

pub mod account;
pub mod email;
pub mod ids;
pub mod money;
pub mod password;
pub mod seat;
pub mod seat_layout;
pub mod vocab;

pub use account::User;
pub use email::Email;
pub use ids::{BookingId, ChainId, PaymentId, ShowId};
pub use money::{Currency, Money};
pub use password::Password;
pub use seat::SeatId;
pub use vocab::{
    AccountStatus, BookingStatus, NotificationStatus, PaymentStatus, ReleaseStatus, Role,
    ShowStatus, TicketStatus,
};
