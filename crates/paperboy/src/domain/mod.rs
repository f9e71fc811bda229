//! Pure types and rules: papers, periods, ranking, merging imported records, exports.
//!
//! **Invariant:** nothing here does I/O or imports a framework crate (sqlx, axum, tantivy);
//! everything is unit-testable with plain values.

pub mod export;
pub mod member;
pub mod merge;
pub mod paper;
pub mod period;
pub mod quote;
pub mod ranking;
pub mod subscription;

pub use arxiv::ArxivId;
pub use paper::{FeedEntry, Paper, PaperVersion, Submitter};
pub use period::Period;
pub use quote::quoted;
pub use ranking::FeedSort;
