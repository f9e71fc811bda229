//! Paperboy: a self-hostable daily papers site, feed and newsletter.
//!
//! # Layout
//! - [`domain`]: pure types and rules (papers, periods, ranking, merging); no I/O.
//! - [`store`]: the system of record; the only module with SQL.
//! - [`ingest`]: readers for import formats, the arXiv harvest and lookups by id.
//! - [`jobs`]: durable background jobs (the daily harvest), claimed with leases.
//! - [`search`]: the tantivy index, the vector index and hybrid ranking; [`embed`]: the
//!   sentence-embedding model.
//! - [`web`]: the HTTP server: pages, the HF-compatible API, health and metrics.
//! - [`cli`]: one file per subcommand.
//! - [`config`]: the only reader of the environment.
//! - [`app`]: wires one of each service together.
//!
//! `ARCHITECTURE.md` at the repository root has the bird's-eye view and the invariants.

pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod email;
pub mod embed;
pub mod ingest;
pub mod jobs;
pub mod search;
pub mod store;
pub mod web;
