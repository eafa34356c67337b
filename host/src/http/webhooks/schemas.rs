//! The bodies webhooks send, in the OpenAPI document: `WebhookEvent` and one schema per
//! event's `data` (docs/webhooks.md, "Event kinds"), so integrators can rely on them.

use crate::domain::webhooks::EventKind;

/// Publishes what a delivery's body is: `WebhookEvent`, one of an envelope per kind whose
/// `type` is the kind and whose `data` refers to that kind's schema.
pub(crate) struct EventSchemas;

impl utoipa::Modify for EventSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use crate::domain::webhooks::events as ev;
        use utoipa::openapi::schema::{
            KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
        };
        use utoipa::openapi::{Ref, RefOr, Schema};
        let components = openapi.components.get_or_insert_with(Default::default);
        let named = [
            (
                "BookingData",
                <ev::BookingData as utoipa::PartialSchema>::schema(),
            ),
            (
                "BookingCancelledData",
                <ev::BookingCancelledData as utoipa::PartialSchema>::schema(),
            ),
            (
                "PaymentData",
                <ev::PaymentData as utoipa::PartialSchema>::schema(),
            ),
            (
                "RefundData",
                <ev::RefundData as utoipa::PartialSchema>::schema(),
            ),
            (
                "ShowCancelledData",
                <ev::ShowCancelledData as utoipa::PartialSchema>::schema(),
            ),
            (
                "WaitlistData",
                <ev::WaitlistData as utoipa::PartialSchema>::schema(),
            ),
            (
                "CheckinAcceptedData",
                <ev::CheckinAcceptedData as utoipa::PartialSchema>::schema(),
            ),
            (
                "ComponentData",
                <ev::ComponentData as utoipa::PartialSchema>::schema(),
            ),
        ];
        for (name, schema) in named {
            components.schemas.insert(name.to_owned(), schema);
        }
        let data_of = |k: EventKind| match k {
            EventKind::BookingHeld | EventKind::BookingConfirmed | EventKind::BookingExpired => {
                "BookingData"
            }
            EventKind::BookingCancelled => "BookingCancelledData",
            EventKind::PaymentSucceeded => "PaymentData",
            EventKind::PaymentRefunded => "RefundData",
            EventKind::ShowCancelled => "ShowCancelledData",
            EventKind::WaitlistJoined
            | EventKind::WaitlistLeft
            | EventKind::WaitlistOffered
            | EventKind::WaitlistOfferExpired => "WaitlistData",
            EventKind::CheckinAccepted => "CheckinAcceptedData",
            _ => "ComponentData",
        };
        let mut one_of = OneOfBuilder::new().description(Some(
            "The JSON body of every webhook delivery (version 1); `type` tells which `data` it carries",
        ));
        for kind in EventKind::ALL {
            let uuid = || {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            };
            let envelope = ObjectBuilder::new()
                .schema_type(Type::Object)
                .property(
                    "id",
                    uuid().description(Some(
                        "The event id (also `Cineflow-Webhook-Id`), the same in every retry",
                    )),
                )
                .property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([kind.as_str()])),
                )
                .property(
                    "created_at",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
                )
                .property("chain_id", uuid())
                .property(
                    "version",
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .enum_values(Some([ev::VERSION])),
                )
                .property("data", Ref::from_schema_name(data_of(kind)))
                .required("id")
                .required("type")
                .required("created_at")
                .required("chain_id")
                .required("version")
                .required("data")
                .title(Some(kind.as_str()));
            one_of = one_of.item(envelope);
        }
        components.schemas.insert(
            "WebhookEvent".to_owned(),
            RefOr::T(Schema::OneOf(one_of.build())),
        );
    }
}
