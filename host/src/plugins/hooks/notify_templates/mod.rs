//! Hook `notify-templates`: `render`. Its bindings (current and 0.1.0), linking,
//! conversions, the typed call, the output check, the fixtures and the dry-run mapping.

pub(crate) mod bindings;

use futures_util::future::BoxFuture;
use serde_json::Value;
use wasmtime::component::InstancePre;

use crate::domain::hook_io as io;
use crate::plugins::invoke::{Invocation, done, parse};
use crate::plugins::limits::OutputBounds;
use crate::plugins::registry::OnFailure;
use crate::plugins::store::CallState;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant};
use bindings::current::exports::cineflow::plugins::templates as wit;
use bindings::v0_1::exports::cineflow::plugins::templates as wit_v0_1;
use bindings::v0_2::exports::cineflow::plugins::templates as wit_v0_2;

use super::{HookSpec, newest_of_three};

/// The notify-templates hook.
pub(crate) struct NotifyTemplates;

super::linked_versions!(
    /// The current world.
    Current(bindings::current::NotifyTemplatesPre<CallState>),
    /// 0.2.x.
    V0_2(bindings::v0_2::NotifyTemplatesPre<CallState>),
    /// 0.1.0.
    V0_1(bindings::v0_1::NotifyTemplatesPre<CallState>),
);

impl HookSpec for NotifyTemplates {
    const HOOK: Hook = Hook::NotifyTemplates;
    /// The email still goes out, with the default's text.
    const ON_FAILURE: OnFailure = OnFailure::Fallback;
    const FIXTURES: &'static str = include_str!("fixtures.json");
    type Input = io::EmailEvent;
    type Pre = Pre;

    fn link(pre: InstancePre<CallState>) -> wasmtime::Result<Pre> {
        newest_of_three(
            bindings::current::NotifyTemplatesPre::new(pre.clone()).map(Pre::Current),
            || bindings::v0_2::NotifyTemplatesPre::new(pre.clone()).map(Pre::V0_2),
            || bindings::v0_1::NotifyTemplatesPre::new(pre.clone()).map(Pre::V0_1),
        )
    }

    fn invoke<'a>(
        runtime: &'a PluginRuntime,
        tenant: Tenant,
        component: &'a LoadedComponent,
        input: Value,
    ) -> BoxFuture<'a, Result<Invocation, String>> {
        Box::pin(async move {
            let event = parse::<io::EmailEvent>(input)?;
            Ok(done(runtime.render(tenant, component, &event).await))
        })
    }
}

// Every version renders the same records; 0.3.0 added event kinds, which older worlds are
// never asked about (see `render`).
/// A kind new in 0.3.0, in a world that has it (`current`) or not (`older`, never asked: see
/// `render`).
macro_rules! kind_of_0_3 {
    (current, $kind:ident) => {
        Self::$kind
    };
    (older, $kind:ident) => {
        Self::Custom
    };
}

macro_rules! conversions {
    ($wit:ident, $age:ident) => {
        impl From<io::EventKind> for $wit::EventKind {
            fn from(k: io::EventKind) -> Self {
                match k {
                    io::EventKind::TheatreCreated => Self::TheatreCreated,
                    io::EventKind::AccountApproved => Self::AccountApproved,
                    io::EventKind::BookingConfirmed => Self::BookingConfirmed,
                    io::EventKind::BookingCancelled => Self::BookingCancelled,
                    io::EventKind::BookingExpired => Self::BookingExpired,
                    io::EventKind::ShowCancelled => Self::ShowCancelled,
                    io::EventKind::Custom => Self::Custom,
                    io::EventKind::WaitlistOffer => kind_of_0_3!($age, WaitlistOffer),
                    io::EventKind::WaitlistOfferExpired => {
                        kind_of_0_3!($age, WaitlistOfferExpired)
                    }
                }
            }
        }

        impl From<&io::EmailEvent> for $wit::Event {
            fn from(e: &io::EmailEvent) -> Self {
                Self {
                    kind: e.kind.into(),
                    locale: e.locale.clone(),
                    fields: e.fields.clone(),
                }
            }
        }
    };
}
conversions!(wit, current);
conversions!(wit_v0_2, older);
conversions!(wit_v0_1, older);

impl PluginRuntime {
    /// Asks a notify-templates component to render an email.
    pub async fn render(
        &self,
        tenant: Tenant,
        component: &LoadedComponent,
        event: &io::EmailEvent,
    ) -> Result<Called<io::RenderedEmail>, CallError> {
        let bounds = &self.config.bounds;
        self.call(
            tenant,
            component,
            event,
            async |pre, store| {
                let linked = pre.get::<Pre>(NotifyTemplates::HOOK)?;
                if event.kind.is_new_in_0_3() && !matches!(linked, Pre::Current(_)) {
                    // A component built before the kind existed cannot be asked about it: the
                    // built-in template answers for it.
                    return Ok(Ok(crate::mail::builtin::render(event.kind, &event.fields)));
                }
                super::at_its_version!(linked, store, [Current => wit, V0_2 => wit_v0_2, V0_1 => wit_v0_1], |instance, w| {
                    let out = instance
                        .cineflow_plugins_templates()
                        .call_render(&mut *store, &w::Event::from(event))
                        .await?;
                    Ok(out.map(|e| io::RenderedEmail {
                        subject: e.subject,
                        text: e.text,
                        html: e.html,
                    }))
                })
            },
            |email| check_email(email, bounds),
        )
        .await
    }
}

/// A subject is one non-empty line within the cap; bodies are non-empty.
pub(crate) fn check_email(email: &io::RenderedEmail, bounds: &OutputBounds) -> Result<(), String> {
    let subject = &email.subject;
    if subject.trim().is_empty() {
        return Err("the subject is empty".into());
    }
    if subject.chars().any(char::is_control) {
        return Err("the subject contains control characters (line breaks are not allowed)".into());
    }
    let chars = subject.chars().count();
    if chars > bounds.max_subject_chars {
        return Err(format!(
            "the subject has {chars} characters; the maximum is {}",
            bounds.max_subject_chars
        ));
    }
    if email.text.trim().is_empty() {
        return Err("the text body is empty".into());
    }
    if email.html.as_deref().is_some_and(|h| h.trim().is_empty()) {
        return Err("the HTML body is present but empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::hook_io::RenderedEmail;

    #[test]
    fn subject_is_one_line_within_the_cap() {
        let b = OutputBounds::default();
        let mut e = RenderedEmail {
            subject: "Hi".into(),
            text: "Body".into(),
            html: None,
        };
        assert!(check_email(&e, &b).is_ok());
        e.subject = "Hi\r\nBcc: victim@example.com".into();
        assert!(
            check_email(&e, &b)
                .expect_err("refused")
                .contains("control")
        );
        e.subject = "x".repeat(201);
        assert!(check_email(&e, &b).is_err());
        e.subject = "Hi".into();
        e.text = " ".into();
        assert!(check_email(&e, &b).is_err());
    }
}
