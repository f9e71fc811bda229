//! arXiv building blocks that know nothing about paperboy: identifiers, the OAI-PMH and API (Atom)
//! formats and clients, the bulk metadata snapshot, and a polite HTTP client.
//!
//! # Layout
//! - [`ArxivId`], [`VersionedId`]: identifiers of both schemes, from ids or pasted URLs.
//! - [`oai`]: `ListRecords` pages (`arXiv` and `arXivRaw` formats) and [`oai::OaiClient`].
//! - [`api`]: the API's Atom feeds and [`api::ApiClient`].
//! - [`snapshot`]: lines of Kaggle's `arxiv-metadata-oai-snapshot.json`.
//! - [`Client`]: one connection, a pause between requests, `Retry-After`, caps and timeouts.
//!
//! The parsers take a whole response in memory (the clients cap its size) and make one pass of
//! quick-xml events over it without building a tree. They never panic on bad input: a malformed
//! document is a [`ParseError`] with its position, and a malformed record inside a good document
//! is skipped and reported.

pub mod api;
mod authors;
mod http;
mod id;
mod metadata;
pub mod oai;
pub mod snapshot;
mod xml;

pub use authors::split_authors;
pub use http::{Client, ClientConfig, FetchError};
pub use id::{ArxivId, IdError, VersionedId};
pub use metadata::{Metadata, Version};
pub use xml::ParseError;
