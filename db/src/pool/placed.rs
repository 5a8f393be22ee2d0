//! The handle's way to the workspaces that keep their data in a database of their own.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use sqlx::{Postgres, Transaction};

use super::{DatabasePools, Db, Lease, PoolLimits};

impl Db {
    /// The same handle reaching workspaces' own databases on `clusters` (tests and tools).
    pub fn with_clusters(
        mut self,
        clusters: HashMap<String, PgConnectOptions>,
        limits: PoolLimits,
    ) -> Self {
        self.databases = Some(DatabasePools::new(clusters, limits));
        self
    }

    /// The pools to workspaces' own databases, if any cluster is registered.
    pub fn databases(&self) -> Option<&Arc<DatabasePools>> {
        self.databases.as_ref()
    }

    /// A transaction opened by `statement` where a workspace placed at `placement` keeps its
    /// data, with the claim on that database's pool when it is not the control database.
    pub(crate) async fn begin_at(
        &self,
        placement: &crate::platform::tenants::Placement,
        statement: String,
    ) -> Result<(Transaction<'static, Postgres>, Option<Lease>), crate::RepoError> {
        use crate::platform::tenants::Placement;
        let home = match placement {
            Placement::Shared => return Ok((self.begin_with(statement).await?, None)),
            Placement::Dedicated { ready: false, .. } => return Err(crate::RepoError::Moving),
            Placement::Dedicated { home, .. } => home.clone(),
        };
        let Some(pools) = self.databases.clone() else {
            return Err(unregistered(&home.cluster));
        };
        // In a task of its own for the reason given at `begin_with`. `Transaction::begin` (public
        // but undocumented in sqlx 0.8) is how a transaction takes ownership of a connection that
        // did not come from `Pool::begin`; its custom statement is sent as the `BEGIN`.
        let begin = tokio::spawn(async move {
            let mut lent = match pools.acquire(&home).await {
                Err(crate::RepoError::NotFound) => return Err(unregistered(&home.cluster)),
                other => other?,
            };
            pools.schemas.gate(&home, &mut lent).await?;
            let (conn, lease) = lent.into_parts();
            let tx = Transaction::begin(conn, Some(statement.into())).await?;
            Ok((tx, Some(lease)))
        });
        begin
            .await
            .map_err(|_| crate::RepoError::Unavailable(sqlx::Error::WorkerCrashed))?
    }
}

/// A workspace placed on a cluster this process was not told about: the deployer's settings
/// and the registry disagree.
fn unregistered(cluster: &str) -> crate::RepoError {
    crate::RepoError::Internal(sqlx::Error::Configuration(
        format!("cluster `{cluster}` holds a workspace but is not registered in [clusters]").into(),
    ))
}
