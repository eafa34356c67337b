//! A chain's ticket-signing keys: made lazily the first time a chain needs one, the private
//! half sealed with XChaCha20-Poly1305 under a key derived from the token secret (which every
//! replica shares), opened once per replica and kept in memory by key id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::{Aead, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::{SigningKey, VerifyingKey};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sqlx::PgConnection;
use uuid::Uuid;

use super::code::{self, KeyId};
use crate::db::ticket_keys::{self as db, KeyRow, NewKey};
use crate::domain::DomainError;

const NONCE: usize = 24;

/// The sealing key and the opened signing keys of this replica.
pub struct KeyRing {
    seal: [u8; 32],
    opened: Mutex<HashMap<KeyId, Arc<SigningKey>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

/// A key as `GET /chains/{id}/checkin-keys` shows it.
#[derive(Debug, Clone)]
pub struct PublicKey {
    /// Its id.
    pub key_id: KeyId,
    /// The key.
    pub key: VerifyingKey,
    /// Retired: verifies codes until then.
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl PublicKey {
    pub(super) fn from_row(row: &KeyRow) -> Result<Self, DomainError> {
        let broken = || DomainError::Internal(format!("ticket key {} is malformed", row.key_id));
        let bytes: [u8; 32] = row.public_key.as_slice().try_into().map_err(|_| broken())?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| broken())?;
        Ok(Self {
            key_id: KeyId::parse(&row.key_id).ok_or_else(broken)?,
            key,
            valid_until: row.valid_until,
        })
    }
}

fn random<const N: usize>() -> Result<[u8; N], DomainError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| DomainError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

impl KeyRing {
    /// Sealing under HMAC-SHA256(secret, "cineflow ticket keys v1"): the token secret itself
    /// is never the key, and a new label would make a new, unrelated key.
    pub fn new(secret: &[u8]) -> Self {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(b"cineflow ticket keys v1");
        let mut seal = [0u8; 32];
        seal.copy_from_slice(&mac.finalize().into_bytes());
        Self {
            seal,
            opened: Mutex::default(),
        }
    }

    /// The chain and key id are the associated data: a sealed key copied to another row (or
    /// chain) does not open.
    fn aad(chain: Uuid, key_id: KeyId) -> Vec<u8> {
        let mut aad = chain.as_bytes().to_vec();
        aad.extend_from_slice(&key_id.0);
        aad
    }

    fn seal(&self, chain: Uuid, key_id: KeyId, seed: &[u8; 32]) -> Result<Vec<u8>, DomainError> {
        let nonce = random::<NONCE>()?;
        let aad = Self::aad(chain, key_id);
        let sealed = XChaCha20Poly1305::new((&self.seal).into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: seed,
                    aad: &aad,
                },
            )
            .map_err(|_| DomainError::Internal("sealing a ticket key failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    fn open(&self, chain: Uuid, key_id: KeyId, sealed: &[u8]) -> Result<SigningKey, DomainError> {
        // A different token secret than the one that sealed it, or a damaged row.
        let broken = || {
            DomainError::Internal(format!(
                "ticket key {key_id} does not open (was CINEFLOW_JWT_SECRET changed?)"
            ))
        };
        if sealed.len() <= NONCE {
            return Err(broken());
        }
        let (nonce, body) = sealed.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| broken())?;
        let aad = Self::aad(chain, key_id);
        let seed = XChaCha20Poly1305::new((&self.seal).into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map_err(|_| broken())?;
        let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| broken())?;
        let key = SigningKey::from_bytes(&seed);
        if KeyId::of(&key.verifying_key()) != key_id {
            return Err(broken());
        }
        Ok(key)
    }

    /// A fresh key for `chain`, stored as its active key unless it has one already.
    async fn create(&self, conn: &mut PgConnection, chain: Uuid) -> Result<(), DomainError> {
        let seed = random::<32>()?;
        let key = SigningKey::from_bytes(&seed);
        let public = key.verifying_key();
        let key_id = KeyId::of(&public);
        let sealed = self.seal(chain, key_id, &seed)?;
        db::insert_key(
            conn,
            &NewKey {
                chain,
                key_id: &key_id.to_string(),
                public_key: public.as_bytes(),
                sealed: &sealed,
            },
        )
        .await?;
        Ok(())
    }

    /// The chain's active key (made now if it has none), share-locked until the transaction
    /// ends so that a rotation sees every ticket it signs.
    pub async fn active(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
    ) -> Result<KeyRow, DomainError> {
        if let Some(row) = db::active_key(conn, chain).await? {
            return Ok(row);
        }
        // Two first tickets at once: both insert, one wins (`on conflict do nothing`), both
        // read the winner back.
        self.create(conn, chain).await?;
        db::active_key(conn, chain)
            .await?
            .ok_or_else(|| DomainError::Internal("the chain's ticket key vanished".into()))
    }

    /// The signing half of one of the chain's keys, opened once per replica.
    pub async fn signing(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
        key_id: &str,
    ) -> Result<Arc<SigningKey>, DomainError> {
        let id = KeyId::parse(key_id)
            .ok_or_else(|| DomainError::Internal(format!("bad ticket key id {key_id}")))?;
        if let Some(key) = self.cached(id) {
            return Ok(key);
        }
        let sealed = db::sealed_key(conn, chain, key_id)
            .await?
            .ok_or_else(|| DomainError::Internal(format!("no ticket key {key_id}")))?;
        let key = Arc::new(self.open(chain, id, &sealed)?);
        if let Ok(mut opened) = self.opened.lock() {
            opened.insert(id, key.clone());
        }
        Ok(key)
    }

    fn cached(&self, id: KeyId) -> Option<Arc<SigningKey>> {
        self.opened.lock().ok()?.get(&id).cloned()
    }

    /// Retires the chain's active key (valid until its last show with valid tickets ends) and
    /// makes a new one; the caller's transaction holds the old key's row lock until commit.
    pub async fn rotate(
        &self,
        conn: &mut PgConnection,
        chain: Uuid,
    ) -> Result<PublicKey, DomainError> {
        if let Some(old) = db::lock_active_key(conn, chain).await? {
            db::retire_key(conn, chain, &old).await?;
        }
        self.create(conn, chain).await?;
        let row = db::active_key(conn, chain)
            .await?
            .ok_or_else(|| DomainError::Internal("the new ticket key vanished".into()))?;
        PublicKey::from_row(&row)
    }
}

/// Base64url text of a public key (re-exported for the edge).
pub fn key_text(key: &PublicKey) -> String {
    code::public_key_text(&key.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_for_its_chain_id_and_secret() {
        let ring = KeyRing::new(b"secret-0123456789abcdef0123456789");
        let seed = [7u8; 32];
        let id = KeyId::of(&SigningKey::from_bytes(&seed).verifying_key());
        let chain = Uuid::now_v7();
        let sealed = ring.seal(chain, id, &seed).expect("seals");
        assert_eq!(
            ring.open(chain, id, &sealed).expect("opens").to_bytes(),
            seed
        );
        assert!(ring.open(Uuid::now_v7(), id, &sealed).is_err());
        assert!(ring.open(chain, KeyId([0; 8]), &sealed).is_err());
        let other = KeyRing::new(b"another-secret-0123456789abcdef0123");
        assert!(other.open(chain, id, &sealed).is_err());
        assert!(ring.open(chain, id, &sealed[..10]).is_err());
    }
}
