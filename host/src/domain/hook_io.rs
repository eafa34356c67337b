//! The data that crosses a component boundary, as the host sees it.
//!
//! These mirror the WIT records of `cineflow:plugins` one to one, but belong to the host:
//! `plugins::hooks` converts them to and from the generated bindings, so WIT types never
//! leak past the plugin runtime. Their JSON form (used by `cineflow component run` and the
//! dry-run endpoint) follows API.md: snake_case fields, kebab-case enum cases, `null` for an
//! absent option and arrays for tuples.

use serde::{Deserialize, Serialize};

/// The class of a seat: one enum for the API, the database (`seats.class`), the prices of a
/// show and the WIT `seat-class` (every spelling is one word, so kebab and snake case agree).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    sqlx::Type,
)]
#[serde(rename_all = "kebab-case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum SeatClass {
    /// An ordinary seat.
    Standard,
    /// A better seat.
    Premium,
    /// A recliner or box seat.
    Vip,
    /// A seat for wheelchair users and their companions.
    Accessible,
}

// Every class, cheapest first by convention (`ALL`), with one spelling for the API, the
// database and price maps.
crate::domain::types::vocab::spelled!(SeatClass {
    Standard => "standard",
    Premium => "premium",
    Vip => "vip",
    Accessible => "accessible",
});

/// One seat of a screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seat {
    pub id: String,
    pub row: String,
    pub number: u32,
    pub class: SeatClass,
}

/// What a component knows about a show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowInfo {
    pub show_id: String,
    pub chain_id: String,
    pub theatre_id: String,
    pub theatre_name: String,
    pub movie_id: String,
    pub movie_title: String,
    pub screen_name: String,
    pub format: String,
    pub starts_at_ms: i64,
    pub timezone: String,
    pub currency: String,
    pub prices: Vec<(SeatClass, i64)>,
    pub capacity: u32,
    pub seats_sold: u32,
}

/// The customer a decision is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub user_id: String,
    pub email: String,
    pub confirmed_bookings: u32,
}

/// A seat of the screen and whether it is taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatState {
    pub seat: Seat,
    pub taken: bool,
}

/// Input of booking-rules `check-hold`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    pub show: ShowInfo,
    pub seats: Vec<Seat>,
    pub row_seats: Vec<SeatState>,
    pub customer: Customer,
    pub now_ms: i64,
    /// New in `cineflow:plugins@0.2.0`; zero when absent from a JSON input written before it
    /// (fixtures, dry runs, recorded runs), and never given to 0.1.0 components.
    #[serde(default)]
    pub customer_holds: CustomerHolds,
}

/// Seats a customer holds right now (held, unpaid, unexpired), not counting the request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerHolds {
    /// For this show.
    pub show_seats: u32,
    /// For every show of the chain, this one included.
    pub chain_seats: u32,
}

/// Output of booking-rules `check-hold` when the hold is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldPolicy {
    pub hold_seconds: u32,
}

/// Input of booking-rules `check-waitlist` (new in 0.3.0): may this customer join a sold-out
/// show's waiting list, and how long does an offer of seats last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistRequest {
    pub show: ShowInfo,
    pub seat_count: u32,
    #[serde(default)]
    pub seat_class: Option<SeatClass>,
    pub customer: Customer,
    /// Waiting-list entries (waiting or offered) the customer has for this chain's shows.
    pub customer_entries: u32,
    pub now_ms: i64,
}

/// Output of booking-rules `check-waitlist` when the customer may join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistPolicy {
    /// How long an offer of seats stays held for the customer, in seconds.
    pub offer_seconds: u32,
}

/// Input of booking-rules `cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub show: ShowInfo,
    pub seats: Vec<Seat>,
    pub paid_minor: i64,
    pub confirmed: bool,
    pub now_ms: i64,
    /// The seats the booking keeps (new in 0.3.0): empty for a whole cancellation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_seats: Vec<Seat>,
}

/// Input of pricing `quote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub show: ShowInfo,
    pub seats: Vec<Seat>,
    pub customer: Customer,
    #[serde(default)]
    pub promo_code: Option<String>,
    pub now_ms: i64,
    /// The chain's voucher the promo code matched, if it matched one (new in 0.3.0; pricing
    /// components of 0.1 and 0.2 are not told, and the host applies the discount for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher: Option<VoucherTerms>,
}

/// A voucher as pricing sees it: its code and the discount the chain's staff gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoucherTerms {
    pub code: String,
    pub discount: Discount,
}

/// A voucher's discount: a percentage of the price, or an amount in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Discount {
    /// 1 to 100 per cent off.
    Percent(u8),
    /// This much off, in minor units of the show's currency.
    AmountMinor(i64),
}

/// One line of a quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineItem {
    pub label: String,
    pub seat_id: Option<String>,
    pub amount_minor: i64,
}

/// Output of pricing `quote`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceQuote {
    pub items: Vec<LineItem>,
    pub total_minor: i64,
    /// What the voucher took off the price, for receipts and emails (new in 0.3.0; 0 without
    /// a voucher). The items already add up to `total_minor`, the discount included.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub discount_minor: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// A seat's state for the seat-picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Availability {
    Free,
    Taken,
    Blocked,
}

/// A seat of the screen and its state, for the seat-picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapSeat {
    pub seat: Seat,
    pub state: Availability,
}

/// Input of seat-picker `pick` (new in `cineflow:plugins@0.2.1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PickRequest {
    pub show: ShowInfo,
    /// Every seat of the screen in display order.
    pub seats: Vec<MapSeat>,
    pub count: u32,
    #[serde(default)]
    pub seat_class: Option<SeatClass>,
    #[serde(default)]
    pub accessible: bool,
    pub now_ms: i64,
}

/// What happened, for an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    TheatreCreated,
    AccountApproved,
    BookingConfirmed,
    BookingCancelled,
    BookingExpired,
    ShowCancelled,
    Custom,
    /// Seats freed up and are held for a waiting-list customer (new in 0.3.0).
    WaitlistOffer,
    /// A waiting-list offer ran out unpaid (new in 0.3.0).
    WaitlistOfferExpired,
}

impl EventKind {
    /// True for kinds that worlds before 0.3.0 do not know: their components are not asked,
    /// the built-in template renders them.
    pub fn is_new_in_0_3(self) -> bool {
        matches!(
            self,
            EventKind::WaitlistOffer | EventKind::WaitlistOfferExpired
        )
    }
}

/// Input of notify-templates `render`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailEvent {
    pub kind: EventKind,
    pub locale: String,
    pub fields: Vec<(String, String)>,
}

/// Output of notify-templates `render`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

/// Approximate size in bytes of a value once lowered into a component's memory: string bytes
/// plus the fixed-size scalars. Used to enforce the input and output caps without serialising.
pub trait WireSize {
    fn wire_size(&self) -> usize;
}

impl WireSize for String {
    fn wire_size(&self) -> usize {
        self.len() + 8
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> usize {
        4 + self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> usize {
        8 + self.iter().map(WireSize::wire_size).sum::<usize>()
    }
}

impl WireSize for Seat {
    fn wire_size(&self) -> usize {
        self.id.wire_size() + self.row.wire_size() + 8
    }
}

impl WireSize for SeatState {
    fn wire_size(&self) -> usize {
        self.seat.wire_size() + 4
    }
}

impl WireSize for ShowInfo {
    fn wire_size(&self) -> usize {
        [
            &self.show_id,
            &self.chain_id,
            &self.theatre_id,
            &self.theatre_name,
            &self.movie_id,
            &self.movie_title,
            &self.screen_name,
            &self.format,
            &self.timezone,
            &self.currency,
        ]
        .iter()
        .map(|s| s.wire_size())
        .sum::<usize>()
            + 8
            + self.prices.len() * 16
            + 16
    }
}

impl WireSize for Customer {
    fn wire_size(&self) -> usize {
        self.user_id.wire_size() + self.email.wire_size() + 4
    }
}

impl WireSize for HoldRequest {
    fn wire_size(&self) -> usize {
        self.show.wire_size()
            + self.seats.wire_size()
            + self.row_seats.wire_size()
            + self.customer.wire_size()
            + 8
            + 8
    }
}

impl WireSize for CancelRequest {
    fn wire_size(&self) -> usize {
        self.show.wire_size() + self.seats.wire_size() + 24
    }
}

impl WireSize for QuoteRequest {
    fn wire_size(&self) -> usize {
        self.show.wire_size()
            + self.seats.wire_size()
            + self.customer.wire_size()
            + self.promo_code.wire_size()
            + 8
            + self
                .voucher
                .as_ref()
                .map_or(1, |v| 1 + v.code.wire_size() + 9)
    }
}

impl WireSize for LineItem {
    fn wire_size(&self) -> usize {
        self.label.wire_size() + self.seat_id.wire_size() + 8
    }
}

impl WireSize for PriceQuote {
    fn wire_size(&self) -> usize {
        self.items.wire_size() + 16
    }
}

impl WireSize for WaitlistRequest {
    fn wire_size(&self) -> usize {
        self.show.wire_size() + 4 + 2 + self.customer.wire_size() + 4 + 8
    }
}

impl WireSize for WaitlistPolicy {
    fn wire_size(&self) -> usize {
        4
    }
}

impl WireSize for EmailEvent {
    fn wire_size(&self) -> usize {
        4 + self.locale.wire_size()
            + 8
            + self
                .fields
                .iter()
                .map(|(k, v)| k.wire_size() + v.wire_size())
                .sum::<usize>()
    }
}

impl WireSize for RenderedEmail {
    fn wire_size(&self) -> usize {
        self.subject.wire_size() + self.text.wire_size() + self.html.wire_size()
    }
}

impl WireSize for HoldPolicy {
    fn wire_size(&self) -> usize {
        4
    }
}

impl WireSize for i64 {
    fn wire_size(&self) -> usize {
        8
    }
}

impl WireSize for MapSeat {
    fn wire_size(&self) -> usize {
        self.seat.wire_size() + 4
    }
}

impl WireSize for PickRequest {
    fn wire_size(&self) -> usize {
        self.show.wire_size() + self.seats.wire_size() + 4 + 8 + 8
    }
}
