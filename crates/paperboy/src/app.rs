//! The wired object graph: one of each service, built once and shared by the server and CLI.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::store::Store;
use crate::web::metrics::Metrics;

/// Everything a request or a job needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    clock: Clock,
}

/// Where "now" comes from; tests pin it.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    System,
    Fixed(DateTime<Utc>),
}

impl App {
    /// Opens the store under `config.data_dir` and builds the services.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let store = Store::open_sqlite(&config.database_path()).await?;
        Ok(App {
            config: Arc::new(config),
            store,
            metrics: Arc::new(Metrics::new()),
            clock: Clock::System,
        })
    }

    pub fn with_clock(mut self, clock: Clock) -> App {
        self.clock = clock;
        self
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }

    /// Today's date in the site's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().with_timezone(&self.config.timezone).date_naive()
    }
}
