//! Conditional GET for generated documents: a strong ETag from the body, Last-Modified from the
//! data, and 304 when the client's copy is current (RFC 9110 §13).

use axum::http::{HeaderMap, HeaderValue, header};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The validators of one response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// A quoted strong entity tag.
    etag: String,
    last_modified: Option<DateTime<Utc>>,
}

impl Validators {
    pub fn new(body: &[u8], last_modified: Option<DateTime<Utc>>) -> Validators {
        let digest = Sha256::digest(body);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Validators {
            etag: format!("\"{hex}\""),
            last_modified,
        }
    }

    /// `ETag` and, when known, `Last-Modified`.
    pub fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, v);
        }
        if let Some(t) = self.last_modified
            && let Ok(v) = HeaderValue::from_str(&http_date(t))
        {
            headers.insert(header::LAST_MODIFIED, v);
        }
        headers
    }

    /// True when `request` shows the client already holds this representation.
    ///
    /// `If-None-Match` decides when present (weak comparison); otherwise `If-Modified-Since`
    /// is compared with Last-Modified at one-second precision. Unparsable headers are ignored,
    /// and so is a date later than now (RFC 9110, 13.1.3: it cannot be a date the client got
    /// from this server).
    pub fn not_modified(&self, request: &HeaderMap) -> bool {
        if let Some(value) = request.get(header::IF_NONE_MATCH) {
            return value.to_str().is_ok_and(|tags| {
                tags.split(',')
                    .map(str::trim)
                    .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag)
            });
        }
        let since = request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .filter(|since| since.timestamp() <= Utc::now().timestamp());
        match (since, self.last_modified) {
            (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
            _ => false,
        }
    }
}

/// An IMF-fixdate, e.g. `Fri, 21 Aug 2026 09:00:00 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), HeaderValue::from_str(v).unwrap()))
            .collect()
    }

    fn validators() -> Validators {
        let t = Utc.with_ymd_and_hms(2026, 8, 21, 9, 0, 0).unwrap();
        Validators::new(b"body", Some(t))
    }

    #[test]
    fn matching_etag_strong_weak_or_in_a_list_is_not_modified() {
        let v = validators();
        let etag = v.etag.clone();
        for value in [
            etag.clone(),
            format!("W/{etag}"),
            format!("\"other\", {etag}"),
            "*".to_owned(),
        ] {
            assert!(
                v.not_modified(&request(&[(header::IF_NONE_MATCH, &value)])),
                "{value}"
            );
        }
        assert!(!v.not_modified(&request(&[(header::IF_NONE_MATCH, "\"other\"")])));
        assert!(!v.not_modified(&HeaderMap::new()));
    }

    #[test]
    fn if_modified_since_compares_seconds_and_yields_to_if_none_match() {
        let v = validators();
        let at = |s: &str| request(&[(header::IF_MODIFIED_SINCE, s)]);
        assert!(v.not_modified(&at("Fri, 21 Aug 2026 09:00:00 GMT")));
        assert!(v.not_modified(&at("Sat, 22 Aug 2026 00:00:00 GMT")));
        assert!(!v.not_modified(&at("Fri, 21 Aug 2026 08:59:59 GMT")));
        assert!(!v.not_modified(&at("yesterday")));
        assert!(
            !v.not_modified(&at("Fri, 31 Dec 9999 23:59:59 GMT")),
            "a future date"
        );
        let both = request(&[
            (header::IF_NONE_MATCH, "\"stale\""),
            (header::IF_MODIFIED_SINCE, "Sat, 22 Aug 2026 00:00:00 GMT"),
        ]);
        assert!(!v.not_modified(&both));
    }

    #[test]
    fn headers_carry_the_etag_and_an_imf_fixdate() {
        let h = validators().headers();
        assert_eq!(h[header::LAST_MODIFIED], "Fri, 21 Aug 2026 09:00:00 GMT");
        assert!(h[header::ETAG].to_str().unwrap().starts_with('"'));
        assert!(
            Validators::new(b"x", None)
                .headers()
                .get(header::LAST_MODIFIED)
                .is_none()
        );
    }
}
