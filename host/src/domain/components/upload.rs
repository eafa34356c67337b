//! Upload: the bytes are checked against the chain's storage quota, compiled for the hook,
//! run against every fixture of the hook within the sandbox's limits and then against the
//! chain's own test cases for the hook (if it has any), then stored
//! content-addressed with the chain's record, its audit entry and a notice that makes other
//! replicas compile it before a binding reaches them.

use serde_json::json;

use super::{ChainComponents, UPLOADS_CHANNEL, db, load_refusal};
use crate::domain::{ChainAccess, DomainError};
use crate::plugins::cases::{self, CasesError};
use crate::plugins::fixtures::{self, FixtureError};
use crate::plugins::{Hook, Tenant};

/// A stored upload.
#[derive(Debug)]
pub struct Uploaded {
    /// The chain's record of it.
    pub component: super::ChainComponent,
    /// False when the chain had these bytes already (nothing changed).
    pub created: bool,
    /// Bound to one of the chain's hooks.
    pub bound: bool,
    /// The chain's own test cases for the hook it passed (all of them; 0 without cases).
    pub cases_passed: usize,
}

impl ChainComponents {
    /// Uploads `bytes` as a `hook` component of `chain`. The same bytes again answer with
    /// the same record (`created: false`).
    pub async fn upload(
        &self,
        access: &ChainAccess,
        hook: Hook,
        bytes: &[u8],
    ) -> Result<Uploaded, DomainError> {
        let chain = access.chain();
        let cap = self.size_cap(hook);
        if bytes.len() as u64 > cap {
            return Err(DomainError::ComponentTooLarge { cap });
        }
        if bytes.is_empty() {
            return Err(DomainError::InvalidComponent("the body is empty".into()));
        }
        let quota = self.registry.settings().quota;
        let size = bytes.len() as u64;
        let sha = crate::plugins::sha256_hex(bytes);
        // Checked before compiling, so a chain at its quota costs the replica nothing;
        // checked again under a lock in the transaction below, where it is the guarantee.
        {
            let mut conn = self.pool.acquire().await?;
            let known = db::component(&mut conn, chain, &sha).await?.is_some();
            let (count, stored) = db::stored_usage(&mut conn, chain, false).await?;
            if !known && let Some(why) = quota.refuses(count, stored, size) {
                return Err(DomainError::QuotaExceeded(why));
            }
        }
        let component = self
            .plugins
            .load_for(Tenant::Chain(chain), hook, bytes)
            .await
            .map_err(load_refusal)?;
        let report = match fixtures::run(&self.plugins, Tenant::Chain(chain), &component).await {
            Ok(r) => r,
            Err(FixtureError::Failed(reason)) => {
                // Keep refused components out of this replica's memory.
                self.plugins.forget(&component.id, hook);
                return Err(DomainError::InvalidComponent(reason));
            }
            Err(FixtureError::Busy {
                message,
                retry_after,
            }) => {
                return Err(DomainError::PluginBusy {
                    message,
                    retry_after,
                });
            }
        };
        // The chain's own cases for the hook, after the platform's fixtures.
        let cases_passed = {
            let mut conn = self.pool.acquire().await?;
            match self.stored_cases(&mut conn, chain, hook).await? {
                None => 0,
                Some(stored) => {
                    drop(conn);
                    match cases::check_all(
                        &self.plugins,
                        Tenant::Chain(chain),
                        &component,
                        &stored.cases,
                    )
                    .await
                    {
                        Ok(passed) => passed,
                        Err(CasesError::Failed(reason)) => {
                            self.plugins.forget(&component.id, hook);
                            return Err(DomainError::InvalidComponent(reason));
                        }
                        Err(CasesError::Busy(busy)) => {
                            return Err(DomainError::PluginBusy {
                                message: busy.message,
                                retry_after: busy.retry_after,
                            });
                        }
                    }
                }
            }
        };
        let mut tx = self.pool.begin().await?;
        let (count, stored) = db::stored_usage(&mut tx, chain, true).await?;
        if db::component(&mut tx, chain, &component.id)
            .await?
            .is_none()
            && let Some(why) = quota.refuses(count, stored, size)
        {
            return Err(DomainError::QuotaExceeded(why));
        }
        crate::db::components::insert_if_absent(&mut tx, &component.id, bytes).await?;
        let created = db::add_component(
            &mut tx,
            &db::NewChainComponent {
                chain_id: chain,
                component_id: &component.id,
                hook: hook.as_str(),
                uploaded_by: access.actor().id(),
                fixtures_passed: i32::try_from(report.passed).unwrap_or(i32::MAX),
                fuel_max: i64::try_from(report.fuel_max).unwrap_or(i64::MAX),
            },
        )
        .await?;
        let record = db::component(&mut tx, chain, &component.id)
            .await?
            .ok_or_else(|| {
                DomainError::Internal("the component vanished while being stored".into())
            })?;
        if record.hook != hook.as_str() {
            return Err(DomainError::InvalidComponent(format!(
                "these bytes were uploaded as a {} component",
                record.hook
            )));
        }
        if created {
            // Other replicas compile it now, not when a binding reaches them.
            crate::db::notify(
                &mut tx,
                UPLOADS_CHANNEL,
                &format!("{hook}:{}", component.id),
            )
            .await?;
            db::audit(
                &mut tx,
                chain,
                "uploaded",
                hook.as_str(),
                Some(&component.id),
                Some(access.actor().id()),
                json!({ "size_bytes": bytes.len(), "fixtures_passed": report.passed, "fuel_max": report.fuel_max, "cases_passed": cases_passed }),
            )
            .await?;
        }
        tx.commit().await?;
        let mut conn = self.pool.acquire().await?;
        let bound = db::bindings(&mut conn, chain)
            .await?
            .iter()
            .any(|b| b.component_id == component.id);
        Ok(Uploaded {
            component: record,
            created,
            bound,
            cases_passed,
        })
    }
}
