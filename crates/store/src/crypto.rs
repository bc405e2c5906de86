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

/// Seals, opens and blind-indexes personal data with one [`PiiKey`].
#[derive(Clone)]
pub struct PiiCipher {
    aead: Aes256Gcm,
    mac: Hmac<Sha256>,
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
        Self { aead, mac }
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
