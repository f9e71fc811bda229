//! The wired object graph: one of each service, built once and shared by the server and CLI.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::email::Mailer;
use crate::ingest::arxiv::ArxivClients;
use crate::search::Search;
use crate::store::Store;
use crate::web::metrics::Metrics;
use crate::web::page_cache::PageCache;
use crate::web::rate_limit::RateLimits;

/// Everything a request or a job needs: the [`Services`] behind one shared pointer, so a clone
/// (every middleware and handler that takes `State<App>` makes one per request) is one reference
/// count, not one per service.
#[derive(Clone)]
pub struct App(Arc<Services>);

/// The services an [`App`] holds; its fields read as `app.store`, `app.config`, … through
/// `Deref`.
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub mailer: Arc<Mailer>,
    pub limits: Arc<RateLimits>,
    /// Wakes the outbox sender when a mail is queued, so confirmations go out at once.
    pub sender_wakeup: Arc<tokio::sync::Notify>,
    /// The arXiv OAI-PMH and API clients, sharing one polite connection.
    pub arxiv: ArxivClients,
    /// The search indexes (lexical and vectors) and the embedding model.
    pub search: Arc<Search>,
    /// Rendered list pages for anonymous readers (`web::page_cache`).
    pub page_cache: Arc<PageCache>,
    clock: Clock,
}

impl std::ops::Deref for App {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
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
        let mailer = Arc::new(Mailer::new(&config)?);
        let search = Arc::new(Search::open(
            &config.data_dir.join("search"),
            crate::embed::load(&config),
        )?);
        let arxiv = ArxivClients::new(&config.arxiv, config.base_url.as_str())?;
        Ok(App(Arc::new(Services {
            search,
            arxiv,
            mailer,
            limits: Arc::new(RateLimits::default()),
            page_cache: Arc::new(PageCache::new(store.clone())),
            sender_wakeup: Arc::new(tokio::sync::Notify::new()),
            config: Arc::new(config),
            store,
            metrics: Arc::new(Metrics::new()),
            clock: Clock::System,
        })))
    }

    pub fn with_clock(self, clock: Clock) -> App {
        let mut services = Arc::unwrap_or_clone(self.0);
        services.clock = clock;
        App(Arc::new(services))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Clock::System => Utc::now(),
            Clock::Fixed(t) => t,
        }
    }

    /// Tells the outbox sender that new mail is queued.
    pub fn wake_sender(&self) {
        self.sender_wakeup.notify_one();
    }

    /// Today's date in the site's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.now().with_timezone(&self.config.timezone).date_naive()
    }
}
