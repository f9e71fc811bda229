//! The store-wide data version: a cheap "has anything changed?" for caches of rendered pages.

use super::{Result, Store};

/// A read connection of its own that tells whether the database changed since its last look.
///
/// Its [`ChangeProbe::version`] moves whenever any other connection commits a change — this
/// process's writer, or another process writing the same database file (a `paperboy import`
/// while the server runs) — and stays put otherwise. Values are only comparable between calls
/// on the same probe: a new probe starts its own count.
pub struct ChangeProbe {
    inner: ProbeInner,
}

enum ProbeInner {
    Sqlite(sqlx::SqliteConnection),
}

impl Store {
    /// Opens a [`ChangeProbe`] on this store's database (one more connection, outside the
    /// reader pool).
    pub async fn change_probe(&self) -> Result<ChangeProbe> {
        let inner = match self {
            Store::Sqlite(s) => ProbeInner::Sqlite(s.open_change_probe().await?),
        };
        Ok(ChangeProbe { inner })
    }
}

impl ChangeProbe {
    /// The database's data version as this probe sees it now: different from the last call's
    /// exactly when another connection has committed a change in between.
    pub async fn version(&mut self) -> Result<i64> {
        match &mut self.inner {
            ProbeInner::Sqlite(conn) => super::SqliteStore::data_version(conn).await,
        }
    }
}
