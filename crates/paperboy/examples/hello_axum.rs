//! A plain axum hello-world, the baseline of `cargo xtask bench http`: `hello_axum [PORT]`.
//!
//! Serves `GET /` with `Hello, World!` on `127.0.0.1:PORT` (default 3000) from a multi-threaded
//! tokio runtime (one worker per core), as a minimal axum 0.8 app does.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(arg) => arg
            .parse()
            .map_err(|_| anyhow::anyhow!("usage: hello_axum [PORT] ({arg:?} is not a port)"))?,
        None => 3000,
    };
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("hello_axum is serving http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
