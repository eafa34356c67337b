//! The ticket code: what a QR code carries and a scanner verifies offline. Pure (no database,
//! no IO), so that it is the code a scanner app embeds (`cineflow ticket verify` runs it too).
//!
//! `CF1.` then base64url (no padding) of `payload || signature`, where the payload is
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version, `1` |
//! | 8 | key id: the first 8 bytes of sha256(public key) |
//! | 16 | ticket id (UUID) |
//! | 16 | booking id |
//! | 16 | show id |
//! | 1 | seat id length n (1 to 8) |
//! | n | seat id, UTF-8 |
//!
//! and the signature is Ed25519 (RFC 8032, strict verification) over the payload. At most
//! 130 bytes, 178 characters: a QR code of version 8 or so at medium error correction.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What every code starts with: readable, and the version a scanner can switch on.
pub const PREFIX: &str = "CF1.";
/// The payload's version byte.
pub const VERSION: u8 = 1;
/// Longest seat id a code carries (the seat ids of `SeatId`).
pub const MAX_SEAT_LEN: usize = 8;
// Every seat a layout makes fits a code (`SeatId`: a row of up to three letters, a dash, four
// digits); changing the format is a new version byte, not a longer seat.
const _: () = assert!(MAX_SEAT_LEN >= crate::domain::types::SeatId::MAX_LEN);
/// Longest code: anything longer is refused before it is decoded.
pub const MAX_CODE_LEN: usize = 256;
const FIXED: usize = 1 + 8 + 16 + 16 + 16 + 1;
const SIG: usize = 64;

/// A key's id: the first 8 bytes of sha256 of its 32-byte public key, shown as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&digest[..8]);
        Self(id)
    }

    /// From its 16 hex digits.
    pub fn parse(hex_id: &str) -> Option<Self> {
        let mut id = [0u8; 8];
        hex::decode_to_slice(hex_id, &mut id).ok()?;
        Some(Self(id))
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// What a code says about its ticket.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claims {
    /// Ticket.
    pub ticket_id: Uuid,
    /// Its booking.
    pub booking_id: Uuid,
    /// Its show.
    pub show_id: Uuid,
    /// Its seat.
    pub seat_id: String,
}

/// Why a code is not a valid ticket code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Not the shape of a code (prefix, base64url, length, version, seat).
    #[error("not a ticket code")]
    Malformed,
    /// Well formed, but not signed by the key given.
    #[error("the signature does not verify")]
    BadSignature,
    /// Signed by a key the verifier does not hold.
    #[error("signed by an unknown key")]
    UnknownKey,
}

/// A code whose shape is right, not yet verified: its claims mean nothing until
/// [`Parsed::verify`] says so.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The key it says signed it (look the public key up by this).
    pub key_id: KeyId,
    claims: Claims,
    payload: Vec<u8>,
    signature: Signature,
}

/// Base64url of a public key's 32 bytes, no padding (as `GET /chains/{id}/checkin-keys` shows it).
pub fn public_key_text(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// A public key from [`public_key_text`] (not a weak or malformed point).
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(text.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes)
        .ok()
        .filter(|k| !k.is_weak())
}

/// The signed code of `claims` under `key`. `None` if the seat id does not fit a code.
pub fn encode(claims: &Claims, key: &SigningKey) -> Option<String> {
    let seat = claims.seat_id.as_bytes();
    if seat.is_empty() || seat.len() > MAX_SEAT_LEN {
        return None;
    }
    let mut bytes = Vec::with_capacity(FIXED + seat.len() + SIG);
    bytes.push(VERSION);
    bytes.extend_from_slice(&KeyId::of(&key.verifying_key()).0);
    bytes.extend_from_slice(claims.ticket_id.as_bytes());
    bytes.extend_from_slice(claims.booking_id.as_bytes());
    bytes.extend_from_slice(claims.show_id.as_bytes());
    bytes.push(u8::try_from(seat.len()).ok()?);
    bytes.extend_from_slice(seat);
    let signature = key.sign(&bytes);
    bytes.extend_from_slice(&signature.to_bytes());
    Some(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The shape of `code`: prefix, base64url, version, lengths. Says nothing about the signature.
pub fn parse(code: &str) -> Result<Parsed, CodeError> {
    if code.len() > MAX_CODE_LEN {
        return Err(CodeError::Malformed);
    }
    let body = code.strip_prefix(PREFIX).ok_or(CodeError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| CodeError::Malformed)?;
    if bytes.len() < FIXED + 1 + SIG || bytes[0] != VERSION {
        return Err(CodeError::Malformed);
    }
    let seat_len = usize::from(bytes[FIXED - 1]);
    if seat_len == 0 || seat_len > MAX_SEAT_LEN || bytes.len() != FIXED + seat_len + SIG {
        return Err(CodeError::Malformed);
    }
    let (payload, sig) = bytes.split_at(FIXED + seat_len);
    let uuid = |at: usize| {
        let mut b = [0u8; 16];
        b.copy_from_slice(&payload[at..at + 16]);
        Uuid::from_bytes(b)
    };
    let mut key_id = [0u8; 8];
    key_id.copy_from_slice(&payload[1..9]);
    let seat_id = std::str::from_utf8(&payload[FIXED..])
        .map_err(|_| CodeError::Malformed)?
        .to_owned();
    let signature = Signature::from_slice(sig).map_err(|_| CodeError::Malformed)?;
    Ok(Parsed {
        key_id: KeyId(key_id),
        claims: Claims {
            ticket_id: uuid(9),
            booking_id: uuid(25),
            show_id: uuid(41),
            seat_id,
        },
        payload: payload.to_vec(),
        signature,
    })
}

impl Parsed {
    /// The claims, if `key` (the key [`Parsed::key_id`] names) signed them.
    pub fn verify(&self, key: &VerifyingKey) -> Result<Claims, CodeError> {
        if KeyId::of(key) != self.key_id {
            return Err(CodeError::UnknownKey);
        }
        key.verify_strict(&self.payload, &self.signature)
            .map_err(|_| CodeError::BadSignature)?;
        Ok(self.claims.clone())
    }
}

/// Verifies `code` against a set of public keys (a scanner's, fetched from
/// `GET /chains/{id}/checkin-keys`): the one its key id names.
pub fn verify(code: &str, keys: &[VerifyingKey]) -> Result<Claims, CodeError> {
    let parsed = parse(code)?;
    let key = keys
        .iter()
        .find(|k| KeyId::of(k) == parsed.key_id)
        .ok_or(CodeError::UnknownKey)?;
    parsed.verify(key)
}

/// The DER prefix of an Ed25519 `SubjectPublicKeyInfo` (RFC 8410): what a PEM
/// `PUBLIC KEY` block holds before the key's 32 bytes.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// One public key written the ways a door team will have it: base64url as the API gives it
/// (with or without padding), standard base64, 64 hex digits, or a PEM `PUBLIC KEY` block.
fn parse_key_text(text: &str) -> Option<VerifyingKey> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let text = text.trim();
    if let Some(body) = text.strip_prefix("-----BEGIN PUBLIC KEY-----") {
        let body = body.split("-----END PUBLIC KEY-----").next()?;
        let der: String = body.split_whitespace().collect();
        let der = STANDARD.decode(der).ok()?;
        return key_of(der.strip_prefix(&SPKI_PREFIX[..])?);
    }
    if text.len() == 64
        && let Ok(bytes) = hex::decode(text)
    {
        return key_of(&bytes);
    }
    [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
        .and_then(|bytes| key_of(&bytes))
}

fn key_of(bytes: &[u8]) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes)
        .ok()
        .filter(|k| !k.is_weak())
}

/// Public keys from a key file: the JSON of `GET /chains/{id}/checkin-keys`
/// (`{"keys": [{"public_key": ..}, ..]}`) or one of its entries, a PEM `PUBLIC KEY` block,
/// the 32 raw bytes, or keys one per line (base64url, base64 or hex).
pub fn parse_key_file(bytes: &[u8]) -> Result<Vec<VerifyingKey>, String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return key_of(bytes)
            .map(|k| vec![k])
            .ok_or_else(|| "neither text nor the 32 raw bytes of an Ed25519 public key".into());
    };
    let text = text.trim();
    if text.starts_with('-') {
        return parse_key_text(text)
            .map(|k| vec![k])
            .ok_or_else(|| "not a PEM Ed25519 public key".to_owned());
    }
    if !text.starts_with('{') {
        let keys: Option<Vec<VerifyingKey>> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(parse_key_text)
            .collect();
        return match keys {
            Some(keys) if !keys.is_empty() => Ok(keys),
            // 32 bytes that happen to be valid UTF-8.
            _ => key_of(bytes).map(|k| vec![k]).ok_or_else(|| {
                "not an Ed25519 public key (base64url, base64, hex, PEM or 32 raw bytes)".to_owned()
            }),
        };
    }
    #[derive(serde::Deserialize)]
    struct Entry {
        public_key: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum File {
        List { keys: Vec<Entry> },
        One(Entry),
    }
    let file: File = serde_json::from_str(text).map_err(|e| format!("not a key list: {e}"))?;
    let entries = match file {
        File::List { keys } => keys,
        File::One(entry) => vec![entry],
    };
    entries
        .iter()
        .map(|e| {
            parse_key_text(&e.public_key)
                .ok_or_else(|| format!("{:?} is not an Ed25519 public key", e.public_key))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn claims() -> Claims {
        Claims {
            ticket_id: Uuid::now_v7(),
            booking_id: Uuid::now_v7(),
            show_id: Uuid::now_v7(),
            seat_id: "AA-12".into(),
        }
    }

    fn raw(code: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(code.strip_prefix(PREFIX).expect("prefix"))
            .expect("base64url")
    }

    fn wrap(bytes: &[u8]) -> String {
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    #[test]
    fn a_code_roundtrips_and_fits_a_small_qr_code() {
        let k = key(1);
        let c = Claims {
            seat_id: "ABCDEFGH".into(),
            ..claims()
        };
        let code = encode(&c, &k).expect("encodes");
        assert!(code.len() <= 180, "{} chars", code.len());
        assert_eq!(
            verify(&code, &[key(2).verifying_key(), k.verifying_key()]),
            Ok(c)
        );
        assert_eq!(
            parse(&code).expect("parses").key_id,
            KeyId::of(&k.verifying_key())
        );
    }

    #[test]
    fn every_byte_tampered_is_refused() {
        let k = key(3);
        let code = encode(&claims(), &k).expect("encodes");
        let bytes = raw(&code);
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80] {
                let mut t = bytes.clone();
                t[i] ^= flip;
                assert!(
                    verify(&wrap(&t), &[k.verifying_key()]).is_err(),
                    "byte {i} flipped by {flip:#x} still verifies"
                );
            }
        }
    }

    #[test]
    fn another_key_is_refused() {
        let code = encode(&claims(), &key(4)).expect("encodes");
        assert_eq!(
            verify(&code, &[key(5).verifying_key()]),
            Err(CodeError::UnknownKey)
        );
        // A key that claims the right id but is not the signer's.
        let parsed = parse(&code).expect("parses");
        assert_eq!(
            parsed.verify(&key(5).verifying_key()),
            Err(CodeError::UnknownKey)
        );
        // The right id on a payload signed by someone else.
        let mut forged = raw(&encode(&claims(), &key(5)).expect("encodes"));
        forged[1..9].copy_from_slice(&KeyId::of(&key(4).verifying_key()).0);
        assert_eq!(
            verify(&wrap(&forged), &[key(4).verifying_key()]),
            Err(CodeError::BadSignature)
        );
        assert_eq!(verify(&code, &[]), Err(CodeError::UnknownKey));
    }

    #[test]
    fn truncated_garbage_and_huge_inputs_are_malformed() {
        let k = key(6);
        let code = encode(&claims(), &k).expect("encodes");
        for end in 0..code.len() {
            assert!(
                verify(&code[..end], &[k.verifying_key()]).is_err(),
                "prefix {end}"
            );
        }
        let extended = format!("{code}AA");
        assert!(verify(&extended, &[k.verifying_key()]).is_err());
        for junk in [
            "",
            "CF1.",
            "CF1.!!!!",
            "cf1.AAAA",
            "CF2.AAAA",
            "\0",
            "🎟️🎟️",
            "CF1.====",
        ] {
            assert_eq!(parse(junk).err(), Some(CodeError::Malformed), "{junk:?}");
        }
        let huge = format!("{PREFIX}{}", "A".repeat(1 << 20));
        assert_eq!(parse(&huge).err(), Some(CodeError::Malformed));
        // A zero seat length or one past the maximum.
        let mut bytes = raw(&code);
        bytes[FIXED - 1] = 0;
        assert_eq!(parse(&wrap(&bytes)).err(), Some(CodeError::Malformed));
        bytes[FIXED - 1] = 9;
        assert_eq!(parse(&wrap(&bytes)).err(), Some(CodeError::Malformed));
    }

    #[test]
    fn seats_a_code_cannot_carry_are_not_encoded() {
        let k = key(7);
        for seat in ["", "ABCDEFGHI"] {
            let c = Claims {
                seat_id: seat.into(),
                ..claims()
            };
            assert_eq!(encode(&c, &k), None, "{seat:?}");
        }
    }

    #[test]
    fn key_files_hold_one_key_or_the_key_list() {
        use base64::engine::general_purpose::STANDARD;
        let (a, b) = (key(8).verifying_key(), key(9).verifying_key());
        let file = |text: &str| parse_key_file(text.as_bytes());
        assert_eq!(file(&format!(" {}\n", public_key_text(&a))), Ok(vec![a]));
        let list = serde_json::json!({"keys": [
            {"key_id": KeyId::of(&a).to_string(), "algorithm": "ed25519", "public_key": public_key_text(&a)},
            {"key_id": KeyId::of(&b).to_string(), "algorithm": "ed25519", "public_key": public_key_text(&b), "valid_until": "2030-01-01T00:00:00Z"},
        ]});
        assert_eq!(file(&list.to_string()), Ok(vec![a, b]));
        assert_eq!(file(&list["keys"][1].to_string()), Ok(vec![b]));
        // The other ways a door team may have written it down.
        assert_eq!(file(&STANDARD.encode(a.as_bytes())), Ok(vec![a]));
        assert_eq!(file(&hex::encode(a.as_bytes())), Ok(vec![a]));
        let lines = format!("{}\n\n{}\n", public_key_text(&a), public_key_text(&b));
        assert_eq!(file(&lines), Ok(vec![a, b]));
        let der = [&SPKI_PREFIX[..], a.as_bytes()].concat();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        );
        assert_eq!(file(&pem), Ok(vec![a]));
        let raw = a.to_bytes();
        assert_eq!(parse_key_file(&raw), Ok(vec![a]));
        assert!(file("nope").is_err());
        assert!(file("").is_err());
        assert!(file("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
        assert!(file("{\"keys\": [{\"public_key\": \"AAAA\"}]}").is_err());
        assert!(parse_key_file(&[0xff; 31]).is_err());
        assert_eq!(
            KeyId::parse(&KeyId::of(&a).to_string()),
            Some(KeyId::of(&a))
        );
    }
}
