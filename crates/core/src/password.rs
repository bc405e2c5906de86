//! Password and PIN hashing: Argon2id with PHC strings, so each hash carries its own parameters
//! and they can be raised later without invalidating stored hashes.
//!
//! The parameters are OWASP's minimum for Argon2id (19 MiB, t = 2, p = 1): the servers have two
//! cores, and a login should cost tens of milliseconds, not seconds. Callers on an async runtime
//! run these on a blocking thread.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a secret into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(secret: &str) -> String {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    // Encoding 16 bytes as B64 cannot fail; hashing with valid parameters cannot fail either.
    let salt = SaltString::encode_b64(&salt).expect("16-byte salt encodes");
    argon2()
        .hash_password(secret.as_bytes(), &salt)
        .expect("argon2 with fixed valid parameters")
        .to_string()
}

/// True when `secret` matches the stored PHC string; a malformed stored hash never matches.
pub fn verify(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| argon2().verify_password(secret.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// A hash that no secret matches, verified against when a login names nobody, so that an unknown
/// account costs the same time as a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy — never a real password"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_verify_and_are_salted() {
        let a = super::hash("s3cret");
        let b = super::hash("s3cret");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(a, b);
        assert!(super::verify("s3cret", &a));
        assert!(!super::verify("S3cret", &a));
        assert!(!super::verify("s3cret", "not a phc string"));
    }
}
