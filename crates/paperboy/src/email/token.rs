//! Signed links in mail: confirm, preferences and unsubscribe.
//!
//! A token is `<purpose>.<subscriber>.<version>.<expiry>.<mac>`, where the MAC is HMAC-SHA256
//! over the other fields with the site's secret key, truncated to 128 bits and base64url-encoded.
//! Tokens need no table: anything that verifies was issued by this site, and bumping a
//! subscriber's token version revokes every link sent so far. Unsubscribe and preference links
//! stay valid for a year (CAN-SPAM asks for at least 30 days; we promise 60).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a link is allowed to do; a token for one purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Confirm,
    Preferences,
    Unsubscribe,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Confirm => "c",
            Purpose::Preferences => "p",
            Purpose::Unsubscribe => "u",
        }
    }

    /// How long a link of this purpose stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            Purpose::Confirm => Duration::days(7),
            Purpose::Preferences | Purpose::Unsubscribe => Duration::days(365),
        }
    }
}

/// The subscriber a valid token names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenClaims {
    pub subscriber_id: i64,
    pub version: i64,
}

/// Why a token was refused. Pages show one neutral message for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is malformed or was not issued by this site")]
    Invalid,
    #[error("the link has expired")]
    Expired,
}

/// Signs and checks tokens with the site's secret key.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer { key: <redacted> }")
    }
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        Signer { key: key.to_vec() }
    }

    fn mac(&self, payload: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(payload.as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    pub fn sign(&self, purpose: Purpose, claims: TokenClaims, now: DateTime<Utc>) -> String {
        let expiry = (now + purpose.lifetime()).timestamp();
        let payload = format!(
            "{}.{}.{}.{expiry}",
            purpose.tag(),
            claims.subscriber_id,
            claims.version
        );
        format!("{payload}.{}", self.mac(&payload))
    }

    pub fn verify(
        &self,
        purpose: Purpose,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenClaims, TokenError> {
        if token.len() > 128 {
            return Err(TokenError::Invalid);
        }
        let (payload, mac) = token.rsplit_once('.').ok_or(TokenError::Invalid)?;
        let mut expected =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        expected.update(payload.as_bytes());
        let given = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenError::Invalid)?;
        // Constant-time comparison of the truncated tag.
        expected
            .verify_truncated_left(&given)
            .map_err(|_| TokenError::Invalid)?;
        let mut parts = payload.split('.');
        let (Some(tag), Some(id), Some(version), Some(expiry), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Invalid);
        };
        if tag != purpose.tag() {
            return Err(TokenError::Invalid);
        }
        let parse = |s: &str| s.parse::<i64>().map_err(|_| TokenError::Invalid);
        let (subscriber_id, version, expiry) = (parse(id)?, parse(version)?, parse(expiry)?);
        if now.timestamp() > expiry {
            return Err(TokenError::Expired);
        }
        Ok(TokenClaims {
            subscriber_id,
            version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap()
    }

    #[test]
    fn a_signed_token_verifies_for_its_purpose_only() {
        let s = Signer::new(b"secret");
        let claims = TokenClaims {
            subscriber_id: 42,
            version: 3,
        };
        let t = s.sign(Purpose::Unsubscribe, claims, now());
        assert_eq!(s.verify(Purpose::Unsubscribe, &t, now()), Ok(claims));
        assert_eq!(
            s.verify(Purpose::Confirm, &t, now()),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            Signer::new(b"other").verify(Purpose::Unsubscribe, &t, now()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn tampering_and_expiry_are_refused() {
        let s = Signer::new(b"secret");
        let t = s.sign(
            Purpose::Confirm,
            TokenClaims {
                subscriber_id: 1,
                version: 1,
            },
            now(),
        );
        let forged = t.replacen("c.1.", "c.2.", 1);
        assert_eq!(
            s.verify(Purpose::Confirm, &forged, now()),
            Err(TokenError::Invalid)
        );
        let later = now() + Duration::days(8);
        assert_eq!(
            s.verify(Purpose::Confirm, &t, later),
            Err(TokenError::Expired)
        );
        let unsubscribe = s.sign(
            Purpose::Unsubscribe,
            TokenClaims {
                subscriber_id: 1,
                version: 1,
            },
            now(),
        );
        assert!(
            s.verify(
                Purpose::Unsubscribe,
                &unsubscribe,
                now() + Duration::days(61)
            )
            .is_ok()
        );
        for junk in [
            "",
            ".",
            "a.b.c.d.e",
            "u.1.1.99999999999.!!!",
            &"x".repeat(500),
        ] {
            assert_eq!(
                s.verify(Purpose::Unsubscribe, junk, now()),
                Err(TokenError::Invalid),
                "{junk}"
            );
        }
    }
}
