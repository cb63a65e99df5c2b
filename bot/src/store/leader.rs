//! Work only one replica may do at a time — fire the schedules, hold the
//! chat gateway connection — goes to whichever replica holds a PostgreSQL
//! advisory lock. The lock belongs to a connection of the leader's own:
//! when the leader dies, its connection closes and PostgreSQL releases the
//! lock at once, so the next replica to ask takes over. On SQLite the one
//! process always leads.

use sqlx::{AnyConnection, Connection};
use tokio::sync::Mutex;

use super::{Backend, Store};

/// A job for one replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Schedules,
    ChatGateway,
}

impl Role {
    /// The advisory lock's key: fixed, and unlikely to meet another
    /// application's keys in a shared database ("shep" + a number).
    fn lock_key(self) -> i64 {
        let base = 0x7368_6570_0000_0000_i64;
        match self {
            Role::Schedules => base + 1,
            Role::ChatGateway => base + 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Role::Schedules => "schedules",
            Role::ChatGateway => "chat gateway",
        }
    }
}

/// Whether this replica leads for one [`Role`]; ask before each turn of work.
pub struct Leadership {
    store: Store,
    role: Role,
    /// The connection that holds (or asks for) the lock, and whether it holds it.
    held: Mutex<Option<(AnyConnection, bool)>>,
}

impl Leadership {
    pub fn new(store: &Store, role: Role) -> Self {
        Self {
            store: store.clone(),
            role,
            held: Mutex::new(None),
        }
    }

    /// Whether this replica leads now, taking the lead if it is free. A
    /// lead whose connection broke (a database restart) is lost: the lock
    /// went with it, and is asked for again.
    pub async fn check(&self) -> bool {
        let Some(url) = self.store.url.as_deref() else {
            return self.store.backend == Backend::Sqlite;
        };
        let mut held = self.held.lock().await;
        if let Some((conn, true)) = held.as_mut() {
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                return true;
            }
            tracing::warn!(
                role = self.role.name(),
                "lost the lead: its database connection broke"
            );
            *held = None;
        }
        if held.is_none() {
            match AnyConnection::connect(url).await {
                Ok(conn) => *held = Some((conn, false)),
                Err(e) => {
                    tracing::debug!(error = %e, role = self.role.name(), "cannot ask for the lead yet");
                    return false;
                }
            }
        }
        let Some((conn, leading)) = held.as_mut() else {
            return false;
        };
        let taken: Result<(bool,), _> = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
            .bind(self.role.lock_key())
            .fetch_one(&mut *conn)
            .await;
        match taken {
            Ok((true,)) => {
                tracing::info!(
                    role = self.role.name(),
                    replica = self.store.replica(),
                    "took the lead"
                );
                *leading = true;
                true
            }
            Ok((false,)) => false,
            Err(e) => {
                tracing::debug!(error = %e, role = self.role.name(), "cannot ask for the lead yet");
                *held = None;
                false
            }
        }
    }

    /// Gives the lead up (an orderly stop): the next replica need not
    /// wait for this connection to be noticed gone.
    pub async fn release(&self) {
        if let Some((mut conn, leading)) = self.held.lock().await.take() {
            // Unlocked before closing: the server ends a closed session's
            // locks a moment later, not before `close` returns.
            if leading {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(self.role.lock_key())
                    .execute(&mut conn)
                    .await;
            }
            let _ = conn.close().await;
        }
    }
}
