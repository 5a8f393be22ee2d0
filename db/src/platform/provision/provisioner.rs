//! Provisioning and moves started by a serving process rather than the operator's command.

use std::ops::ControlFlow;

use domain::TenantId;
use sqlx::postgres::PgConnectOptions;

use super::{provision, Destination, Provisioned};
use crate::platform::console::Actor;
use crate::{Db, RepoError};

/// Provisioning from a serving process: at registration when the deployer places new
/// workspaces by default (`[placements] new_workspaces`), and the console's action. Holds the
/// owner roles' URLs, which only a deployer who turns either on puts in a server's settings.
pub struct Provisioner {
    /// The control database as the owner role (a workspace's rows leave it).
    control_owner: Db,
    /// The clusters whose owner role this process may act as, by name.
    clusters: std::collections::BTreeMap<String, Destination>,
    /// How long a move started here keeps its source after the switch.
    move_hold: std::time::Duration,
}

impl Provisioner {
    /// The owner role's pool on the control database opens on first use.
    pub fn new(control_owner_url: &str, clusters: Vec<Destination>) -> Result<Self, String> {
        let options = control_owner_url
            .parse::<PgConnectOptions>()
            .map_err(|err| format!("database.owner_url is not a valid URL: {err}"))?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .connect_lazy_with(options);
        Ok(Self {
            control_owner: Db::from_pool(pool),
            clusters: clusters
                .into_iter()
                .map(|to| (to.cluster.clone(), to))
                .collect(),
            move_hold: std::time::Duration::ZERO,
        })
    }

    /// Moves started here keep their source for `hold` after the switch.
    pub fn with_move_hold(mut self, hold: std::time::Duration) -> Self {
        self.move_hold = hold;
        self
    }

    /// Starts moving `tenant`'s data to `target` in a task of its own, and returns once its
    /// writes are frozen (the move is recorded and goes on; `moves::latest_move` follows it),
    /// or with what refused or stopped it before that. A move from or to a cluster this
    /// process cannot act on is `Invalid { field: "cluster" }`.
    pub async fn start_move(
        self: &std::sync::Arc<Self>,
        tenant: TenantId,
        target: crate::platform::moves::Target,
        actor: OwnedActor,
    ) -> Result<(), RepoError> {
        use crate::platform::moves::{move_workspace, Phase};
        let (started, frozen) = tokio::sync::oneshot::channel();
        let this = self.clone();
        tokio::spawn(async move {
            let actor = match &actor {
                OwnedActor::Console(scope) => Actor::Console(scope),
                OwnedActor::System(name) => Actor::System(name),
            };
            let mut started = Some(started);
            let moved = move_workspace(
                &this.control_owner,
                tenant,
                &target,
                &this.clusters,
                this.move_hold,
                actor,
                |phase| {
                    if phase == Phase::Frozen {
                        if let Some(started) = started.take() {
                            let _ = started.send(Ok(()));
                        }
                    }
                    ControlFlow::Continue(())
                },
            )
            .await;
            match (moved, started.take()) {
                // Refused or stopped before the freeze; or a rerun with only the cleaning
                // left, which has no freeze.
                (outcome, Some(started)) => {
                    let _ = started.send(outcome.map(|_| ()));
                }
                (Err(err), None) => tracing::error!(
                    tenant = %tenant, error = %err,
                    "a move started in the console stopped; run it again to finish it"
                ),
                (Ok(_), None) => {}
            }
        });
        frozen
            .await
            .unwrap_or(Err(RepoError::Unavailable(sqlx::Error::WorkerCrashed)))
    }

    /// The clusters it can give a workspace a database on, by name.
    pub fn clusters(&self) -> Vec<String> {
        self.clusters.keys().cloned().collect()
    }

    /// Gives `tenant` its database on `cluster` (one of [`Self::clusters`], else
    /// `Invalid { field: "cluster" }`), in a task of its own: a caller given up on (a request
    /// whose client left) does not stop it half-way. A failure leaves the workspace
    /// `provisioning` (refused, "try again") for `server tenant provision` to finish.
    pub async fn place(
        self: &std::sync::Arc<Self>,
        tenant: TenantId,
        cluster: &str,
        actor: OwnedActor,
    ) -> Result<Provisioned, RepoError> {
        if !self.clusters.contains_key(cluster) {
            return Err(RepoError::Invalid { field: "cluster" });
        }
        let (this, cluster) = (self.clone(), cluster.to_owned());
        let run = tokio::spawn(async move {
            let to = &this.clusters[&cluster];
            let actor = match &actor {
                OwnedActor::Console(scope) => Actor::Console(scope),
                OwnedActor::System(name) => Actor::System(name),
            };
            provision(&this.control_owner, tenant, to, actor, |_| {
                ControlFlow::Continue(())
            })
            .await
        });
        run.await
            .map_err(|_| RepoError::Unavailable(sqlx::Error::WorkerCrashed))?
    }
}

/// Who asks a [`Provisioner`], owned (its run outlives the caller's borrow).
pub enum OwnedActor {
    Console(crate::platform::console::ConsoleScope),
    System(&'static str),
}
