mod tx;

use domain::{ApiTokenId, ApiTokenRole, Email, Role, TenantId, UserId};

use crate::platform::tenants::Placement;
use crate::tenant::shares::Shares;
use crate::{Db, RepoError, Tenant};

use tx::begin_with_tenant;
pub(crate) use tx::{
    begin_for_tenant, begin_for_tenant_id, begin_in_control, end_read, set_tenant, TenantTx,
};

/// Proof that a request acts for one tenant on behalf of one of its members.
///
/// Its fields are private and the only constructor checks the member against the database
/// inside that tenant's transaction, so holding a scope means both checks passed. Every
/// tenant repository function takes one first.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant_id: TenantId,
    member: Member,
    /// Read with the member, so the scope's transactions need nothing more to keep to them.
    shares: Shares,
    /// Every transaction of a read-only scope (a read API token's) is `READ ONLY`, so a write
    /// fails in PostgreSQL even where the code above forgot to refuse it.
    read_only: bool,
    /// Where the workspace's data lives: the scope's transactions open there.
    placement: Placement,
}

/// The signed-in person, as the tenant knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
}

impl TenantScope {
    /// Builds the scope for `user_id` in `tenant`, or `None` when that user is not (or no
    /// longer) a member: a session naming a deleted or foreign user gets nothing.
    pub async fn for_member(
        db: &Db,
        tenant: &Tenant,
        user_id: UserId,
    ) -> Result<Option<Self>, RepoError> {
        let mut tx = begin_for_tenant(db, tenant).await?;
        let row = sqlx::query!(
            r#"SELECT id, email, name, role FROM users WHERE tenant_id = $1 AND id = $2 AND removed_at IS NULL"#,
            tenant.id().as_uuid(),
            user_id.as_uuid()
        )
        .fetch_optional(&mut *tx)
        .await?;
        let caps = crate::tenant::plan::caps(db, &mut tx, tenant.id()).await?;
        end_read(tx);
        let Some(row) = row else { return Ok(None) };
        let member = Member {
            user_id: UserId::from_uuid(row.id),
            email: Email::parse(&row.email).map_err(|_| RepoError::corrupt("users.email"))?,
            name: row.name,
            role: row
                .role
                .parse()
                .map_err(|_| RepoError::corrupt("users.role"))?,
        };
        Ok(Some(Self {
            tenant_id: tenant.id(),
            member,
            shares: Shares::from_caps(&caps),
            read_only: false,
            placement: tenant.placement().clone(),
        }))
    }

    /// What the bearer token whose secret digests to `digest` may do in `tenant`: looked up
    /// inside the tenant's own transaction (another workspace's token is simply not there),
    /// with its creator's current membership and role. A valid answer is kept in memory like
    /// a session's member (`caches`): a revocation, and a change to its creator's role or
    /// membership, are announced and forgotten by every process, so they count from the very
    /// next request; its expiry is checked at every use. Refusals are never kept.
    pub async fn for_api_token(
        db: &Db,
        tenant: &Tenant,
        digest: &str,
    ) -> Result<TokenCheck, RepoError> {
        if let Some(access) = db.caches.api_token(digest, tenant.id()) {
            return Ok(TokenCheck::Valid(access));
        }
        let epoch = db.caches.epoch();
        let mut tx = begin_for_tenant(db, tenant).await?;
        // Usage is recorded at most once a minute (when the token is read rather than
        // remembered), so most reads write nothing.
        let row = sqlx::query!(
            r#"SELECT t.id, t.prefix, t.role AS token_role, t.revoked_at IS NOT NULL AS "revoked!",
                      t.expires_at,
                      coalesce(t.expires_at <= now(), false) AS "expired!",
                      u.id AS user_id, u.email, u.name, u.role AS member_role,
                      u.removed_at IS NOT NULL AS "removed!",
                      (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS "touch_due!"
                 FROM api_tokens t JOIN users u ON u.tenant_id = t.tenant_id AND u.id = t.created_by
                WHERE t.tenant_id = $1 AND t.secret_digest = $2"#,
            tenant.id().as_uuid(),
            digest
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            end_read(tx);
            return Ok(TokenCheck::Unknown);
        };
        let refusal = if row.revoked {
            Some("revoked")
        } else if row.expired {
            Some("expired")
        } else if row.removed {
            Some("creator removed")
        } else {
            None
        };
        if let Some(reason) = refusal {
            end_read(tx);
            return Ok(TokenCheck::Refused {
                prefix: row.prefix,
                reason,
            });
        }
        // A token's calls keep to the workspace's fair shares like its members' do; a token
        // that is refused needs none.
        let caps = crate::tenant::plan::caps(db, &mut tx, tenant.id()).await?;
        if row.touch_due {
            let touched = sqlx::query!(
                "UPDATE api_tokens SET last_used_at = now() WHERE tenant_id = $1 AND id = $2",
                tenant.id().as_uuid(),
                row.id
            )
            .execute(&mut *tx)
            .await
            .map_err(RepoError::from);
            match touched {
                Ok(_) => tx.commit().await?,
                // A workspace frozen for a move still reads: its usage is recorded later.
                Err(RepoError::WritesFrozen) => end_read(tx),
                Err(err) => return Err(err),
            }
        } else {
            end_read(tx);
        }
        let token_role: ApiTokenRole = row
            .token_role
            .parse()
            .map_err(|_| RepoError::corrupt("api_tokens.role"))?;
        let creator_role: Role = row
            .member_role
            .parse()
            .map_err(|_| RepoError::corrupt("users.role"))?;
        let member = Member {
            user_id: UserId::from_uuid(row.user_id),
            email: Email::parse(&row.email).map_err(|_| RepoError::corrupt("users.email"))?,
            name: row.name,
            role: token_role.effective_role(creator_role),
        };
        let access = ApiAccess {
            scope: Self {
                tenant_id: tenant.id(),
                member,
                shares: Shares::from_caps(&caps),
                read_only: token_role == ApiTokenRole::Read,
                placement: tenant.placement().clone(),
            },
            token_id: ApiTokenId::from_uuid(row.id),
            prefix: row.prefix,
            role: token_role,
        };
        db.caches
            .keep_api_token(epoch, digest.to_owned(), &access, row.expires_at);
        Ok(TokenCheck::Valid(access))
    }

    /// [`Self::for_member`] for the member a session signs in, remembered for that session
    /// for as long as this process hears of every change that could concern it (`caches`):
    /// every change to a membership ends or renews the sessions it concerns.
    pub async fn for_session(
        db: &Db,
        tenant: &Tenant,
        user_id: UserId,
        session: &tower_sessions::session::Id,
    ) -> Result<Option<Self>, RepoError> {
        let key = crate::platform::sessions::key(session);
        let remembered = db
            .caches
            .member(&key)
            .filter(|scope| scope.tenant_id == tenant.id() && scope.member.user_id == user_id);
        if let Some(scope) = remembered {
            return Ok(Some(scope));
        }
        let epoch = db.caches.epoch();
        let found = Self::for_member(db, tenant, user_id).await?;
        if let Some(scope) = &found {
            db.caches.keep_member(epoch, key, scope);
        }
        Ok(found)
    }

    pub fn tenant_id(&self) -> TenantId {
        self.tenant_id
    }

    pub fn member(&self) -> &Member {
        &self.member
    }

    pub fn shares(&self) -> Shares {
        self.shares
    }

    /// True for a read API token's scope: it may read, never write.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Refuses unless the member's role is at least `role`. Checked here, under the server
    /// functions, so a hidden button is never the only thing standing in the way.
    pub fn require(&self, role: Role) -> Result<(), RepoError> {
        if self.member.role.at_least(role) {
            Ok(())
        } else {
            Err(RepoError::Forbidden)
        }
    }

    /// Opens this scope's transaction. Repository functions run every statement inside it.
    pub(crate) async fn begin(&self, db: &Db) -> Result<TenantTx, RepoError> {
        let begin = if self.read_only {
            "SET TRANSACTION READ ONLY; "
        } else {
            ""
        };
        self.begin_shared(db, begin).await
    }

    /// A read-only transaction whose statements all see one snapshot, for reads made of
    /// several queries that must agree with each other.
    pub(crate) async fn begin_snapshot(&self, db: &Db) -> Result<TenantTx, RepoError> {
        self.begin_shared(
            db,
            "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; ",
        )
        .await
    }

    /// A transaction for the platform's own bookkeeping in the workspace (a job's progress),
    /// outside the member's share of connections.
    pub(crate) async fn begin_outside_share(&self, db: &Db) -> Result<TenantTx, RepoError> {
        begin_with_tenant(db, "", self.tenant_id, &self.placement, &Shares::default()).await
    }

    /// A member's transactions keep to the workspace's shares: a place in its part of the
    /// pool is taken before a connection is asked for, and its statement timeout travels in
    /// the first message with the tenant.
    async fn begin_shared(&self, db: &Db, mode: &'static str) -> Result<TenantTx, RepoError> {
        let place = match self.shares.connections_percent {
            Some(percent) => db.share_place(self.tenant_id, percent).await?,
            None => None,
        };
        let mut tx =
            begin_with_tenant(db, mode, self.tenant_id, &self.placement, &self.shares).await?;
        tx.place = place;
        Ok(tx)
    }
}

/// What a bearer token comes to on one workspace's host.
#[derive(Debug)]
pub enum TokenCheck {
    Valid(ApiAccess),
    /// No token with this secret in this workspace: mistyped, forged, or another workspace's.
    Unknown,
    /// The token exists but no longer works; `prefix` names it in the log.
    Refused {
        prefix: String,
        reason: &'static str,
    },
}

/// A checked token: the scope it acts in (its creator, with the token's effective role).
#[derive(Debug, Clone)]
pub struct ApiAccess {
    pub scope: TenantScope,
    pub token_id: ApiTokenId,
    pub prefix: String,
    pub role: ApiTokenRole,
}
