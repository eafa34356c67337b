//! Hook `notify-templates`: `render`.

use crate::domain::hook_io as io;
use crate::plugins::bindings::notify_templates::exports::cineflow::plugins::templates as wit;
use crate::plugins::bindings::v0_1::notify_templates::exports::cineflow::plugins::templates as wit_v0_1;
use crate::plugins::{CallError, Called, Hook, LoadedComponent, PluginRuntime, Tenant, checks};

use super::{HookPre, instantiation_failed, wrong_hook};

// 0.1.0 and 0.2.0 render the same records; only the generated types differ.
macro_rules! conversions {
    ($wit:ident) => {
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
conversions!(wit);
conversions!(wit_v0_1);

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
            async |pre, store| match pre {
                HookPre::NotifyTemplates(pre) => {
                    let instance = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(instantiation_failed)?;
                    let out = instance
                        .cineflow_plugins_templates()
                        .call_render(&mut *store, &wit::Event::from(event))
                        .await?;
                    Ok(out.map(|e| io::RenderedEmail {
                        subject: e.subject,
                        text: e.text,
                        html: e.html,
                    }))
                }
                HookPre::NotifyTemplatesV0_1(pre) => {
                    let instance = pre
                        .instantiate_async(&mut *store)
                        .await
                        .map_err(instantiation_failed)?;
                    let out = instance
                        .cineflow_plugins_templates()
                        .call_render(&mut *store, &wit_v0_1::Event::from(event))
                        .await?;
                    Ok(out.map(|e| io::RenderedEmail {
                        subject: e.subject,
                        text: e.text,
                        html: e.html,
                    }))
                }
                _ => Err(wrong_hook(Hook::NotifyTemplates)),
            },
            |email| checks::email(email, bounds),
        )
        .await
    }
}
