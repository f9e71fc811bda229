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
    pub timezone: chrono_tz::Tz,
}

/// The config file's shape: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    base_url: Option<String>,
    timezone: Option<String>,
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
        Config::load_with(overrides, |name| std::env::var(name).ok())
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
        let base_url = match source(None, "PAPERBOY_BASE_URL", file.base_url) {
            Some((v, from)) => parse_base_url(&v).with_context(|| format!("{from}: base_url"))?,
            None => Url::parse(&format!("http://{listen}")).expect("an address makes a URL"),
        };
        let timezone = match source(None, "PAPERBOY_TIMEZONE", file.timezone) {
            Some((v, from)) => v.parse::<chrono_tz::Tz>().map_err(|_| {
                anyhow!("{from}: timezone: {v:?} is not an IANA time zone such as America/New_York")
            })?,
            None => chrono_tz::America::New_York,
        };
        Ok(Config {
            data_dir,
            listen,
            base_url,
            timezone,
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

fn parse_base_url(v: &str) -> anyhow::Result<Url> {
    let url = Url::parse(v).map_err(|e| anyhow!("{v:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("{v:?} must be an http(s) URL with a host");
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
