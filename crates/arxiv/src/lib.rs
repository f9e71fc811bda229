//! arXiv building blocks that know nothing about paperboy: identifiers today, the API and OAI-PMH
//! clients as they arrive.

mod id;

pub use id::{ArxivId, IdError, VersionedId};
