//! People and teams (`~name`): who owns a PPA or a snap. Launchpad's
//! person entry is read as-is; nothing Shepherd does needs it typed.

use serde_json::Value;

use super::{LaunchpadClient, LpError};

impl LaunchpadClient {
    /// A person or team (`~name`).
    pub async fn person(&self, name: &str) -> Result<Value, LpError> {
        self.get(&format!("/~{}", name.trim_start_matches('~')))
            .await
    }
}
