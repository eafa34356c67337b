//! Turning a queued notification into an email: the chain's notify-templates component
//! first, the built-in template when the component fails (mail still goes out).

use serde_json::Value;

use crate::db::outbox::Notification;
use uuid::Uuid;

use crate::domain::hook_io::{EmailEvent, EventKind, RenderedEmail};
use crate::mail::builtin;
use crate::plugins::registry::DecideError;
use crate::plugins::{ComponentRegistry, Hook, LoadedComponent, PluginRuntime};

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

/// How long one render may take, whatever the component and the fair share do: past it, the
/// message goes out with the built-in template. The component's own hard timeout is shorter;
/// this also covers waiting for a slot of the chain's share, so that a slow chain can never
/// hold up a batch that carries other chains' mail.
pub const RENDER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

/// Renders `event` with `chain`'s notify-templates component (its binding, or the platform
/// default; platform mail without a chain uses the default), within [`RENDER_DEADLINE`].
pub async fn render(
    plugins: &PluginRuntime,
    registry: &ComponentRegistry,
    (chain, notification): (Option<Uuid>, Uuid),
    event: &EmailEvent,
) -> (RenderedEmail, RenderedBy) {
    if event.kind.is_new_in_0_3() {
        return (
            builtin::render(event.kind, &event.fields),
            RenderedBy::Builtin,
        );
    }
    let mut run = crate::domain::runs::context(Hook::NotifyTemplates, "render", event);
    run.notification = Some(notification);
    let render = |c: std::sync::Arc<LoadedComponent>, tenant| async move {
        plugins.render(tenant, &c, event).await
    };
    let call = async {
        match chain {
            Some(chain) => {
                registry
                    .decide(chain, Hook::NotifyTemplates, run, render)
                    .await
            }
            None => {
                registry
                    .decide_as_platform(Hook::NotifyTemplates, run, render)
                    .await
            }
        }
    };
    let Ok(result) = tokio::time::timeout(RENDER_DEADLINE, call).await else {
        return fallback(
            event,
            format!(
                "rendering took longer than {} ms",
                RENDER_DEADLINE.as_millis()
            ),
        );
    };
    let reason = match result {
        Ok(decision) => match decision.output {
            Ok(email) => return (email, RenderedBy::Component),
            Err(refusal) => format!("component {} refused: {refusal}", decision.component.id),
        },
        Err(DecideError::Busy(e) | DecideError::Failed(e)) => {
            format!("component {} failed: {}", e.component, e.report())
        }
        Err(DecideError::NoComponent(_)) => {
            "no notify-templates component is configured".to_owned()
        }
    };
    fallback(event, reason)
}

/// The built-in template, counted and logged with why the component did not answer.
fn fallback(event: &EmailEvent, reason: String) -> (RenderedEmail, RenderedBy) {
    metrics::counter!("cineflow_mail_template_fallbacks_total", "kind" => event_kind_label(event.kind))
        .increment(1);
    tracing::warn!(kind = ?event.kind, %reason, "notify-templates failed; sending the built-in template");
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
        EventKind::WaitlistOffer => "waitlist-offer",
        EventKind::WaitlistOfferExpired => "waitlist-offer-expired",
    }
}
