//! Turning a queued notification into an email: the chain's notify-templates component
//! first, the built-in template when the component fails (mail still goes out).

use serde_json::Value;

use crate::db::outbox::Notification;
use crate::defaults::PlatformDefaults;
use crate::domain::hook_io::{EmailEvent, EventKind, RenderedEmail};
use crate::mail::builtin;
use crate::plugins::{Hook, PluginRuntime};

/// Which template produced the email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderedBy {
    /// The chain's (or the platform's default) component.
    Component,
    /// The built-in template, because no component is configured or it failed.
    Builtin,
}

/// The event a stored notification describes.
pub fn event_of(n: &Notification) -> Option<EmailEvent> {
    let kind: EventKind = serde_json::from_value(Value::String(n.kind.clone())).ok()?;
    let fields = match &n.fields {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), value)
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(EmailEvent {
        kind,
        locale: n.locale.clone(),
        fields,
    })
}

/// Renders `event` for `chain` (the platform default component until chains bind their own).
pub async fn render(
    plugins: &PluginRuntime,
    defaults: &PlatformDefaults,
    event: &EmailEvent,
) -> (RenderedEmail, RenderedBy) {
    let Some(component) = defaults.get(Hook::NotifyTemplates) else {
        return (
            builtin::render(event.kind, &event.fields),
            RenderedBy::Builtin,
        );
    };
    let reason = match plugins.render(component, event).await {
        Ok(called) => match called.output {
            Ok(email) => return (email, RenderedBy::Component),
            Err(refusal) => format!("the component refused: {refusal}"),
        },
        Err(e) => format!("{} ({})", e.kind.as_str(), e.message),
    };
    metrics::counter!("cineflow_mail_template_fallbacks_total", "kind" => event_kind_label(event.kind))
        .increment(1);
    tracing::warn!(component = %component.id, kind = ?event.kind, %reason,
        "notify-templates failed; sending the built-in template");
    (
        builtin::render(event.kind, &event.fields),
        RenderedBy::Builtin,
    )
}

fn event_kind_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::TheatreCreated => "theatre-created",
        EventKind::AccountApproved => "account-approved",
        EventKind::BookingConfirmed => "booking-confirmed",
        EventKind::BookingCancelled => "booking-cancelled",
        EventKind::BookingExpired => "booking-expired",
        EventKind::ShowCancelled => "show-cancelled",
        EventKind::Custom => "custom",
    }
}
