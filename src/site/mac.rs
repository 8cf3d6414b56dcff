//! Ethernet MAC addresses, as the phone names its own files: 12 lowercase hex
//! digits, no separators.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mac([u8; 12]);

impl Mac {
    /// Accepts `0004f2000607`, `00:04:F2:00:06:07`, `00-04-f2-00-06-07`,
    /// `0004.f200.0607`: any mix of `:`, `-`, `.` separators around 12 hex digits.
    pub fn parse(text: &str) -> Result<Mac, MacError> {
        let mut digits = [0u8; 12];
        let mut n = 0;
        for c in text.trim().chars() {
            match c {
                ':' | '-' | '.' => {}
                c if c.is_ascii_hexdigit() => {
                    if n == 12 {
                        return Err(MacError::TooManyDigits);
                    }
                    digits[n] = c.to_ascii_lowercase() as u8;
                    n += 1;
                }
                _ => return Err(MacError::NotHex(c)),
            }
        }
        if n != 12 {
            return Err(MacError::Digits(n));
        }
        Ok(Mac(digits))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("a Mac holds only ASCII hex digits")
    }
}

/// Why a text is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    #[error("invalid MAC address: more than 12 hex digits")]
    TooManyDigits,
    #[error("invalid MAC address: {0:?} is not a hex digit or separator")]
    NotHex(char),
    #[error("invalid MAC address: expected 12 hex digits, found {0}")]
    Digits(usize),
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_normalises_to_lowercase_hex() {
        for s in [
            "0004f2000607",
            "00:04:F2:00:06:07",
            "00-04-f2-00-06-07",
            "0004.f200.0607",
            "0004F2000607",
        ] {
            assert_eq!(Mac::parse(s).expect(s).as_str(), "0004f2000607", "{s}");
        }
    }

    #[test]
    fn wrong_lengths_and_letters_are_rejected() {
        for s in [
            "",
            "0004f200060",
            "0004f20006077",
            "0004f2g00607",
            "00 04 f2 00 06 07",
        ] {
            assert!(Mac::parse(s).is_err(), "{s}");
        }
    }
}
