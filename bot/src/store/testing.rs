//! Throwaway databases for tests: a fresh database on the PostgreSQL
//! server `SHEPHERD_TEST_POSTGRES_URL` names (CI starts one; see README,
//! Testing). Without it, PostgreSQL tests skip — unless
//! `SHEPHERD_REQUIRE_POSTGRES` is set, as in CI, where they fail instead.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AnyConnection, Connection};

/// The server tests may create databases on (an administrator's URL).
pub const POSTGRES_URL_VAR: &str = "SHEPHERD_TEST_POSTGRES_URL";
/// Set: a missing server fails the tests rather than skipping them.
pub const REQUIRE_VAR: &str = "SHEPHERD_REQUIRE_POSTGRES";

/// The server's URL, or `None` (with a note) when the tests should skip.
///
/// # Panics
/// When no server is named but `SHEPHERD_REQUIRE_POSTGRES` is set.
pub fn postgres_server() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var_os(REQUIRE_VAR).is_none(),
                "{REQUIRE_VAR} is set but {POSTGRES_URL_VAR} names no PostgreSQL server"
            );
            eprintln!("PostgreSQL part skipped: set {POSTGRES_URL_VAR} (see README, Testing)");
            None
        }
    }
}

/// A new, empty database on the test server; its URL. `None`: skip.
///
/// # Panics
/// When the server is named but cannot create the database.
pub async fn fresh_postgres_database() -> Option<String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    sqlx::any::install_default_drivers();
    let admin = postgres_server()?;
    let name = format!(
        "shepherd_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..)
    );
    let mut last = None;
    // CREATE DATABASE copies a template, which refuses while another
    // CREATE DATABASE is copying it: tests starting together take turns.
    for _ in 0..20 {
        let created = async {
            let mut conn = AnyConnection::connect(&admin).await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        match created.await {
            Ok(()) => {
                let mut url = url::Url::parse(&admin).expect("SHEPHERD_TEST_POSTGRES_URL is a URL");
                url.set_path(&format!("/{name}"));
                return Some(url.to_string());
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("cannot create a test database on {admin}: {last:?}");
}
