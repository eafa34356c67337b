//! Payments go through a `PaymentGateway`; a real provider is one more implementation.

use std::future::Future;
use std::pin::Pin;

/// What to charge.
#[derive(Debug, Clone)]
pub struct ChargeRequest<'a> {
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: &'a str,
    /// The card token from the client.
    pub card_token: &'a str,
    /// Our reference (the booking id), so a provider can drop a retried charge.
    pub reference: String,
}

/// A successful charge.
#[derive(Debug, Clone)]
pub struct ChargeReceipt {
    /// The provider's id of the charge.
    pub provider_ref: String,
}

/// Why a charge did not happen.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The card was declined; the customer may try another.
    #[error("the card was declined")]
    Declined,
    /// The provider could not be reached or failed.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
}

/// A boxed future, so the trait can be used as `dyn`.
pub type ChargeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<ChargeReceipt, GatewayError>> + Send + 'a>>;

/// A payment provider.
pub trait PaymentGateway: Send + Sync {
    /// Charges the card.
    fn charge<'a>(&'a self, req: ChargeRequest<'a>) -> ChargeFuture<'a>;
}

/// The built-in test gateway: accepts any `tok_*` token except `tok_declined`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TestGateway;

impl PaymentGateway for TestGateway {
    fn charge<'a>(&'a self, req: ChargeRequest<'a>) -> ChargeFuture<'a> {
        Box::pin(async move {
            if req.card_token == "tok_declined" || !req.card_token.starts_with("tok_") {
                return Err(GatewayError::Declined);
            }
            Ok(ChargeReceipt {
                provider_ref: format!("test_{}", req.reference),
            })
        })
    }
}
