//! Write transactions that never leave a broken connection in the pool.
//!
//! When SQLite cannot write (SQLITE_FULL on a full disk, SQLITE_IOERR), it
//! may roll a transaction back by itself. sqlx then still believes the
//! transaction is open: its ROLLBACK fails, and every later `begin()` on
//! that pooled connection becomes a SAVEPOINT inside a transaction that
//! never commits — "committed" writes that vanish, and a write lock held
//! for good ("database is locked"). So a transaction here is plain SQL on a
//! connection of its own, and a connection whose transaction did not
//! commit is closed rather than returned: closing rolls back whatever is
//! left, and the pool opens a fresh connection when it needs one. The same
//! holds on PostgreSQL, where a connection cut mid-transaction (a server
//! restart) must not go back to the pool either.
//!
//! SQLite writers take turns in this process before asking for its one
//! write lock (see `turns`); PostgreSQL writers lock rows, not the
//! database, and go at once.

use std::ops::{Deref, DerefMut};

use super::turns::Turn;
use super::{Backend, Store, StoreError};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection};

pub(crate) struct WriteTx {
    conn: PoolConnection<Any>,
    committed: bool,
    // Declared last: released after the connection is handled.
    _turn: Option<Turn>,
}

impl Store {
    /// Starts a write transaction. On SQLite, `BEGIN IMMEDIATE` takes the
    /// write lock up front (waiting out `busy_timeout`), so a transaction
    /// that reads before it writes cannot fail to upgrade its lock halfway.
    pub(crate) async fn write(&self) -> Result<WriteTx, StoreError> {
        self.write_in_turn(false).await
    }

    /// A write someone outside is waiting on (a webhook's 2xx): it goes
    /// before background writes (see `turns`).
    pub(crate) async fn write_urgent(&self) -> Result<WriteTx, StoreError> {
        self.write_in_turn(true).await
    }

    /// An urgent write of one statement, in autocommit: the statement is
    /// its own transaction (and its own sync), without the BEGIN and
    /// COMMIT that would each be one more hand-over to SQLite's
    /// connection thread. End it with [`WriteTx::done`].
    pub(crate) async fn write_one_urgent(&self) -> Result<WriteTx, StoreError> {
        self.in_turn(true, None).await
    }

    async fn write_in_turn(&self, urgent: bool) -> Result<WriteTx, StoreError> {
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        self.in_turn(urgent, Some(begin)).await
    }

    async fn in_turn(&self, urgent: bool, begin: Option<&str>) -> Result<WriteTx, StoreError> {
        let turn = match self.backend {
            Backend::Sqlite => Some(self.turns.take(urgent).await),
            Backend::Postgres => None,
        };
        let pool = match (&self.urgent, urgent) {
            (Some(own), true) => own,
            _ => &self.pool,
        };
        let conn = pool.acquire().await?;
        // The guard exists before BEGIN runs: if this future is dropped (or
        // BEGIN fails) midway, the connection is closed, not pooled in an
        // unknown transaction state.
        let mut tx = WriteTx {
            conn,
            committed: false,
            _turn: turn,
        };
        if let Some(begin) = begin {
            sqlx::query(begin).execute(&mut *tx.conn).await?;
        }
        Ok(tx)
    }
}

impl WriteTx {
    /// Ends a write begun without a transaction: its statements have
    /// committed themselves, so the connection goes back to the pool.
    pub(crate) fn done(mut self) {
        self.committed = true;
    }

    /// Commits; on failure the connection is discarded (see the module doc).
    pub(crate) async fn commit(mut self) -> Result<(), StoreError> {
        sqlx::query("COMMIT").execute(&mut *self.conn).await?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.committed {
            // Error or early return: never reuse a connection in an unknown
            // transaction state. Closing it rolls back what is left.
            self.conn.close_on_drop();
        }
    }
}

impl Deref for WriteTx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}
