//! Field-level protection of personal data at rest.
//!
//! Resident ID numbers and phone numbers are sealed with AES-256-GCM (a fresh random nonce per
//! value, the key version in the first byte so keys can rotate), and ID numbers also get a blind
//! index — HMAC-SHA-256 under a second key — so the store can find a person by ID number and
//! enforce "one person, one record" with a unique index without ever holding the number in
//! plaintext. Masked forms for display are computed before sealing and stored beside.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{StoreError, StoreResult};

/// The version byte written in front of every sealed value.
const KEY_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// The two 32-byte keys: one for encryption, one for the blind index.
#[derive(Clone)]
pub struct PiiKey {
    enc: [u8; 32],
    mac: [u8; 32],
}

/// Keys are secrets: never print them.
impl std::fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiKey(..)")
    }
}

/// Why a configured key was refused.
#[derive(Debug, thiserror::Error)]
#[error("the PII key must be 128 hexadecimal characters (two 32-byte keys); {0}")]
pub struct KeyFormatError(String);

impl PiiKey {
    /// A new random key pair.
    pub fn generate() -> Self {
        let mut enc = [0u8; 32];
        let mut mac = [0u8; 32];
        rand::fill(&mut enc);
        rand::fill(&mut mac);
        Self { enc, mac }
    }

    /// Parses the hex form written by [`PiiKey::to_hex`] (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyFormatError> {
        let bytes = hex::decode(text.trim()).map_err(|e| KeyFormatError(e.to_string()))?;
        if bytes.len() != 64 {
            return Err(KeyFormatError(format!("found {} bytes", bytes.len())));
        }
        let mut enc = [0u8; 32];
        let mut mac = [0u8; 32];
        enc.copy_from_slice(&bytes[..32]);
        mac.copy_from_slice(&bytes[32..]);
        Ok(Self { enc, mac })
    }

    pub fn to_hex(&self) -> String {
        let mut all = Vec::with_capacity(64);
        all.extend_from_slice(&self.enc);
        all.extend_from_slice(&self.mac);
        hex::encode(all)
    }
}

/// Seals, opens and blind-indexes personal data with one [`PiiKey`], and signs the short tokens
/// (the personal QR code) that name a record without revealing anything about it.
#[derive(Clone)]
pub struct PiiCipher {
    aead: Aes256Gcm,
    mac: Hmac<Sha256>,
    signer: Hmac<Sha256>,
}

impl std::fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiCipher(..)")
    }
}

impl PiiCipher {
    pub fn new(key: &PiiKey) -> Self {
        let aead = Aes256Gcm::new((&key.enc).into());
        // HMAC accepts keys of any length, so this cannot fail for 32 bytes.
        let mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&key.mac).expect("HMAC takes any key length");
        // Tokens get their own key, derived from the index key, so neither use can stand in for
        // the other.
        let mut derive = mac.clone();
        derive.update(b"vaxloop token key v1");
        let signer = <Hmac<Sha256> as Mac>::new_from_slice(&derive.finalize().into_bytes())
            .expect("HMAC takes any key length");
        Self { aead, mac, signer }
    }

    /// Encrypts `plain` as `version ‖ nonce ‖ ciphertext+tag`.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        self.seal_bytes(plain.as_bytes())
    }

    /// As [`PiiCipher::seal`], for bytes (a whole report, a document).
    pub fn seal_bytes(&self, plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce);
        let sealed = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), plain)
            .expect("AES-GCM encryption of an in-memory buffer does not fail");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(KEY_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts a value written by [`PiiCipher::seal`].
    pub fn open(&self, sealed: &[u8]) -> StoreResult<String> {
        String::from_utf8(self.open_bytes(sealed)?).map_err(|_| StoreError::Crypto)
    }

    /// Decrypts bytes written by [`PiiCipher::seal_bytes`].
    pub fn open_bytes(&self, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != KEY_VERSION {
            return Err(StoreError::Crypto);
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        self.aead
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| StoreError::Crypto)
    }

    /// The keyed blind index of a normalised value: equal inputs give equal outputs, and without
    /// the key the output says nothing about the input.
    pub fn blind(&self, normalised: &str) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// Bytes of HMAC kept in a token: 128 bits resist forgery for the life of a campaign.
const TAG_LEN: usize = 16;

impl PiiCipher {
    fn keyed(&self, purpose: &str, id: i64) -> Hmac<Sha256> {
        let mut mac = self.signer.clone();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(&id.to_be_bytes());
        mac
    }

    fn tag(&self, purpose: &str, id: i64) -> [u8; TAG_LEN] {
        let full = self.keyed(purpose, id).finalize().into_bytes();
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&full[..TAG_LEN]);
        tag
    }

    /// A URL-safe token naming record `id` for `purpose` (e.g. `"person"`): the id and a MAC, so
    /// it can be checked without a lookup and forged by no one without the key.
    pub fn sign(&self, purpose: &str, id: i64) -> String {
        use base64::Engine;
        let mut bytes = id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.tag(purpose, id));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The 4-digit presence code of an appointment: shown on the person's own page and on their
    /// line of the team's printed form, stated at the vaccination desk so that nobody is recorded
    /// as vaccinated without being there. Keyed, so it cannot be worked out from the appointment.
    pub fn presence_code(&self, appointment_id: i64) -> String {
        let full = self
            .keyed("presence", appointment_id)
            .finalize()
            .into_bytes();
        let n = u32::from_be_bytes([full[0], full[1], full[2], full[3]]) % 10_000;
        format!("{n:04}")
    }

    /// The id a token names, if it was signed for `purpose` with this key.
    pub fn verify(&self, purpose: &str, token: &str) -> Option<i64> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()?;
        if bytes.len() != 8 + TAG_LEN {
            return None;
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&bytes[..8]);
        let id = i64::from_be_bytes(id);
        // Constant-time comparison of the truncated tag.
        self.keyed(purpose, id)
            .verify_truncated_left(&bytes[8..])
            .is_ok()
            .then_some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_nonces_differ() {
        let cipher = PiiCipher::new(&PiiKey::generate());
        let a = cipher.seal("310112199001011234");
        let b = cipher.seal("310112199001011234");
        assert_ne!(a, b, "a fresh nonce per value");
        assert_eq!(cipher.open(&a).expect("opens"), "310112199001011234");
        assert_eq!(cipher.blind("x"), cipher.blind("x"));
        assert_ne!(cipher.blind("x"), cipher.blind("y"));
    }

    #[test]
    fn tokens_name_a_record_and_cannot_be_forged_or_reused_for_another_purpose() {
        let cipher = PiiCipher::new(&PiiKey::generate());
        let token = cipher.sign("person", 42);
        assert_eq!(token.len(), 32);
        assert_eq!(cipher.verify("person", &token), Some(42));
        assert_eq!(cipher.verify("team", &token), None);
        assert_eq!(
            PiiCipher::new(&PiiKey::generate()).verify("person", &token),
            None
        );
        let mut forged = token.clone().into_bytes();
        forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            cipher.verify("person", &String::from_utf8(forged).expect("ascii")),
            None
        );
        assert_eq!(cipher.verify("person", "not a token"), None);
    }

    #[test]
    fn presence_codes_are_four_digits_stable_per_appointment_and_keyed() {
        let cipher = PiiCipher::new(&PiiKey::generate());
        let code = cipher.presence_code(7);
        assert_eq!(code.len(), 4);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_eq!(cipher.presence_code(7), code);
        // Across many appointments and keys, codes spread over the 10,000 values.
        let distinct: std::collections::HashSet<String> =
            (0..2000).map(|a| cipher.presence_code(a)).collect();
        assert!(distinct.len() > 1700, "{}", distinct.len());
        let other = PiiCipher::new(&PiiKey::generate());
        let differ = (0..100)
            .filter(|&a| other.presence_code(a) != cipher.presence_code(a))
            .count();
        assert!(differ > 90, "{differ}");
    }

    #[test]
    fn wrong_key_or_tampering_is_refused() {
        let key = PiiKey::generate();
        let cipher = PiiCipher::new(&key);
        let mut sealed = cipher.seal("13800138000");
        let other = PiiCipher::new(&PiiKey::generate());
        assert!(matches!(other.open(&sealed), Err(StoreError::Crypto)));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(matches!(cipher.open(&sealed), Err(StoreError::Crypto)));
        let again = PiiKey::from_hex(&key.to_hex()).expect("hex round trip");
        assert_eq!(PiiCipher::new(&again).blind("a"), cipher.blind("a"));
        assert!(PiiKey::from_hex("abcd").is_err());
    }
}
