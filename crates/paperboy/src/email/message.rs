//! Building the RFC 5322 message: addresses, list headers (RFC 2369, 2919, 8058), DKIM.

use std::time::SystemTime;

use anyhow::{Context as _, anyhow};
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::render::Rendered;
use crate::domain::subscription::EmailAddress;

/// Headers that make a mail part of a list, with one-click unsubscribe.
pub struct ListHeaders<'a> {
    /// `paperboy daily digest <daily.papers.example.org>`.
    pub list_id: String,
    /// The one https (or, locally, http) URL that both the GET confirm page and the RFC 8058
    /// one-click POST use.
    pub unsubscribe_url: &'a str,
}

/// The headers the DKIM signature covers. RFC 8058 asks for both list headers to be signed.
const SIGNED_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

pub fn dkim_config(config: &crate::config::DkimConfig, pem: &str) -> anyhow::Result<DkimConfig> {
    let key = DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa).map_err(|e| {
        anyhow!(
            "dkim_key_file {}: not an RSA key in PKCS#1 PEM (`openssl genrsa -traditional 2048`): {e:?}",
            config.key_file.display()
        )
    })?;
    Ok(DkimConfig::new(
        config.selector.clone(),
        config.domain.clone(),
        key,
        SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect(),
        DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        },
    ))
}

/// Builds the message. `message_id` includes its angle brackets.
pub fn build(
    from: &Mailbox,
    to: &EmailAddress,
    rendered: &Rendered,
    message_id: &str,
    list: Option<&ListHeaders<'_>>,
    dkim: Option<&DkimConfig>,
) -> anyhow::Result<Message> {
    let to: Mailbox = to
        .as_str()
        .parse()
        .with_context(|| format!("recipient {to} is not a mailbox"))?;
    let mut message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject.clone())
        .message_id(Some(message_id.to_owned()))
        .date(SystemTime::now())
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))
        .context("building a message")?;
    if let Some(list) = list {
        let headers = message.headers_mut();
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Id"),
            list.list_id.clone(),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", list.unsubscribe_url),
        ));
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ));
    }
    if let Some(dkim) = dkim {
        message.sign(dkim);
    }
    Ok(message)
}
