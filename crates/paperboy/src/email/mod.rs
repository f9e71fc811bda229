//! Email: rendering, signed links, the outbox sender and digest editions.
//!
//! **Invariant:** mail is only sent by [`outbox`], from outbox rows. Everything else (the
//! subscribe form, `digest send`, the schedule) only queues rows, so a crash, restart or SMTP
//! outage never sends a mail twice and never loses one; the exception is the RFC 1047 window,
//! whose rows end up `unknown` and are not retried.

pub mod edition;
pub mod message;
pub mod outbox;
pub mod render;
pub mod token;

use std::path::Path;

use anyhow::{Context as _, anyhow};
use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::config::Config;
use token::Signer;

/// The name sites show in mail when nothing else is configured.
pub const SITE_NAME: &str = "paperboy";

/// Everything needed to build and send mail.
pub struct Mailer {
    pub from: Mailbox,
    pub signer: Signer,
    /// None when no SMTP server is configured: mail waits in the outbox.
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    dkim: Option<lettre::message::dkim::DkimConfig>,
    /// Host part for Message-IDs and List-Id.
    pub host: String,
    /// Site base URL without a trailing slash.
    pub site_url: String,
    pub connections: u32,
    pub rate_per_second: f64,
    pub bounce_limit: i64,
    pub send_lease: chrono::Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("smtp", &self.transport.is_some())
            .field("dkim", &self.dkim.is_some())
            .finish()
    }
}

impl Mailer {
    pub fn new(config: &Config) -> anyhow::Result<Mailer> {
        let mail = &config.mail;
        let from: Mailbox = mail.from.parse().map_err(|e| {
            anyhow!(
                "mail_from: {:?} is not a mailbox such as `paperboy <papers@example.org>`: {e}",
                mail.from
            )
        })?;
        let key = match &mail.secret_key {
            Some(k) => k.as_bytes().to_vec(),
            None => load_or_create_key(&config.data_dir.join("secret.key"))?,
        };
        let transport = match &mail.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("smtp_url")?
                    .pool_config(PoolConfig::new().max_size(mail.connections))
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build(),
            ),
            None => None,
        };
        let dkim = match &mail.dkim {
            Some(d) => {
                let pem = std::fs::read_to_string(&d.key_file).with_context(|| {
                    format!("dkim_key_file: cannot read {}", d.key_file.display())
                })?;
                Some(message::dkim_config(d, &pem)?)
            }
            None => None,
        };
        Ok(Mailer {
            from,
            signer: Signer::new(&key),
            transport,
            dkim,
            host: config.base_url.host_str().unwrap_or("localhost").to_owned(),
            site_url: config.absolute_url(""),
            connections: mail.connections,
            rate_per_second: mail.rate_per_second,
            bounce_limit: mail.bounce_limit,
            send_lease: chrono::Duration::seconds(i64::from(mail.send_lease_seconds)),
        })
    }

    pub fn can_send(&self) -> bool {
        self.transport.is_some()
    }

    pub fn site(&self) -> render::Site<'_> {
        render::Site {
            name: SITE_NAME,
            url: &self.site_url,
        }
    }
}

/// Reads the link-signing key, creating a random one (mode 0600) on first use.
fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read(path)
        && existing.len() >= 32
    {
        return Ok(existing);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut key = vec![0u8; 32];
    getrandom::getrandom(&mut key)
        .map_err(|e| anyhow!("reading random bytes for the secret key: {e}"))?;
    let tmp = path.with_extension("key.tmp");
    {
        use std::io::Write as _;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(&key)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(key)
}
