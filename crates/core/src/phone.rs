//! Mainland China mobile numbers (手机号), validated by libphonenumber's metadata (the
//! `phonenumber` crate) and kept as the 11 national digits.

use std::collections::HashMap;
use std::fmt;

/// Why a string is not a mainland mobile number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("is empty")]
    Empty,
    #[error("is not a phone number")]
    Unparseable,
    #[error("is not a mainland China mobile number")]
    NotMainlandMobile,
}

/// A mainland mobile number, e.g. `13800138000`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `13800138000`, `138 0013 8000`, `138-0013-8000`, `+86 138 0013 8000`, `8613800138000`.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        let digits = normalise(input)?;
        if is_mainland_mobile(&digits) {
            Ok(Phone(digits))
        } else {
            Err(PhoneError::NotMainlandMobile)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****8000`, the form every view shows.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

/// Never prints the number itself.
impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// Strips separators and a +86/86 country prefix; refuses anything that is not then digits.
fn normalise(input: &str) -> Result<String, PhoneError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut digits: String = trimmed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{3000}'))
        .collect();
    if let Some(rest) = digits.strip_prefix('+') {
        digits = rest.to_string();
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(PhoneError::Unparseable);
    }
    if digits.len() == 13 && digits.starts_with("86") {
        digits.drain(..2);
    }
    Ok(digits)
}

fn is_mainland_mobile(digits: &str) -> bool {
    if digits.len() != 11 || !digits.starts_with('1') {
        return false;
    }
    match phonenumber::parse(Some(phonenumber::country::Id::CN), digits) {
        Ok(n) => {
            phonenumber::is_valid(&n)
                && matches!(
                    n.number_type(&phonenumber::metadata::DATABASE),
                    phonenumber::Type::Mobile | phonenumber::Type::FixedLineOrMobile
                )
        }
        Err(_) => false,
    }
}

/// Validates many numbers quickly, for imports of 100,000 rows: libphonenumber decides whether an
/// 11-digit mainland number is a mobile from its first five digits (the longest mobile prefix in
/// its metadata, e.g. `17400`–`17405`, is five digits; the rest of the number is any six digits),
/// so each five-digit prefix is asked once and the answer reused. A test checks the memo against
/// the direct answer.
#[derive(Debug, Default)]
pub struct PhoneValidator {
    by_prefix: HashMap<[u8; 5], bool>,
}

impl PhoneValidator {
    pub fn parse(&mut self, input: &str) -> Result<Phone, PhoneError> {
        let digits = normalise(input)?;
        if digits.len() != 11 || !digits.starts_with('1') {
            return Err(PhoneError::NotMainlandMobile);
        }
        let mut key = [0u8; 5];
        key.copy_from_slice(&digits.as_bytes()[..5]);
        let valid = *self
            .by_prefix
            .entry(key)
            .or_insert_with(|| is_mainland_mobile(&digits));
        if valid {
            Ok(Phone(digits))
        } else {
            Err(PhoneError::NotMainlandMobile)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_ways_of_writing_a_mobile() {
        for s in [
            "13800138000",
            "138 0013 8000",
            "138-0013-8000",
            "+86 138 0013 8000",
            "8613800138000",
        ] {
            assert_eq!(
                Phone::parse(s).map(|p| p.as_str().to_string()),
                Ok("13800138000".to_string()),
                "{s}"
            );
        }
        assert_eq!(
            Phone::parse("13800138000").expect("valid").masked(),
            "138****8000"
        );
    }

    #[test]
    fn refuses_what_is_not_a_mainland_mobile() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert_eq!(Phone::parse("abc"), Err(PhoneError::Unparseable));
        assert_eq!(
            Phone::parse("021-64281234"),
            Err(PhoneError::NotMainlandMobile),
            "a Shanghai landline"
        );
        assert_eq!(
            Phone::parse("1380013800"),
            Err(PhoneError::NotMainlandMobile),
            "ten digits"
        );
        assert_eq!(
            Phone::parse("12800138000"),
            Err(PhoneError::NotMainlandMobile),
            "no 12x mobiles"
        );
        assert_eq!(
            format!("{:?}", Phone::parse("13800138000").expect("valid")),
            "Phone(138****8000)"
        );
    }

    proptest! {
        #[test]
        fn the_prefix_memo_agrees_with_libphonenumber(n in 10_000_000_000u64..20_000_000_000u64) {
            let s = n.to_string();
            let mut memo = PhoneValidator::default();
            // Warm the memo with another number of the same prefix first.
            let _ = memo.parse(&format!("{}{:06}", &s[..5], (n * 7919) % 1_000_000));
            prop_assert_eq!(memo.parse(&s).is_ok(), Phone::parse(&s).is_ok());
        }
    }
}
