//! `paperboy serve [--listen ADDR] [--demo]`

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use tokio::net::TcpListener;
use url::{Host, Url};

use crate::app::App;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [env: PAPERBOY_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Load the bundled demo data (60 days of real daily papers) into an empty store.
    #[arg(long)]
    pub demo: bool,
}

pub async fn run(config: Config, args: Args) -> anyhow::Result<ExitCode> {
    let listen = config.listen;
    check_cookie_transport(listen, &config.base_url)?;
    let data_dir = config.data_dir.clone();
    if config.search.embedder == crate::config::EmbedderChoice::MiniLm && config.search.fetch_model
    {
        let files = crate::embed::weights::ModelFiles::in_dir(&config.search.model_dir);
        if !files.present() {
            let (dir, python) = (
                config.search.model_dir.clone(),
                config.search.python.clone(),
            );
            let fetched =
                tokio::task::spawn_blocking(move || crate::embed::weights::fetch(&dir, &python))
                    .await?;
            if let Err(err) = fetched {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "could not fetch the embedding model: search is lexical only"
                );
            }
        }
    }
    let app = App::build(config).await?;
    if args.demo {
        super::demo::load_if_empty(&app.store, &data_dir).await?;
    }
    // The demo is a fixed snapshot: it never reaches out to arXiv.
    match app.config.harvest.at {
        Some(at) if !args.demo => {
            tokio::spawn(crate::jobs::harvest::run_schedule(app.clone(), at));
        }
        _ => tracing::info!("the daily arXiv harvest is off"),
    }
    // Repairs the search index at start-up (missing or behind), then follows the store.
    tokio::spawn(crate::search::follow(app.search.clone(), app.store.clone()));
    tokio::spawn(crate::email::outbox::run_worker(
        app.store.clone(),
        app.mailer.clone(),
        app.sender_wakeup.clone(),
    ));
    if app.config.mail.schedule_digests {
        tokio::spawn(crate::email::edition::run_schedule(
            app.store.clone(),
            app.mailer.clone(),
            app.config.timezone,
        ));
    }
    if !app.mailer.can_send() {
        tracing::warn!("no smtp_url configured: mail is queued but not sent");
    }
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "serving paperboy");
    report!(
        "paperboy is serving http://{addr}/ (data in {})",
        data_dir.display()
    );
    crate::web::serve(listener, app, shutdown_signal())
        .await
        .context("the server stopped")?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Refuses to serve where session cookies would cross a network in clear text: a non-loopback
/// listen address with a plain-http base URL whose host is not loopback either (reliability
/// SEC-2). Cookies are `Secure` exactly when the base URL is https, so a public node needs the
/// https URL its TLS proxy serves. A container that listens on 0.0.0.0 but is browsed at
/// `http://localhost:…` is allowed: there the browser never leaves the machine.
fn check_cookie_transport(listen: SocketAddr, base_url: &Url) -> anyhow::Result<()> {
    let loopback_host = match base_url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if base_url.scheme() == "http" && !listen.ip().is_loopback() && !loopback_host {
        bail!(
            "refusing to listen on {listen} with the plain-http base URL {base_url}: session \
             cookies would travel unencrypted. Serve through a TLS proxy and set PAPERBOY_BASE_URL \
             to its https URL, or listen on 127.0.0.1"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(listen: &str, base: &str) -> bool {
        check_cookie_transport(listen.parse().unwrap(), &Url::parse(base).unwrap()).is_ok()
    }

    #[test]
    fn plain_http_is_refused_only_off_loopback() {
        assert!(check("127.0.0.1:8080", "http://127.0.0.1:8080"));
        assert!(check("[::1]:8080", "http://example.org"));
        assert!(check("0.0.0.0:8080", "https://papers.example.org"));
        assert!(check("0.0.0.0:8080", "http://localhost:8080"));
        assert!(!check("0.0.0.0:8080", "http://0.0.0.0:8080"));
        assert!(!check("192.0.2.4:80", "http://papers.example.org"));
    }
}
