use domain::{Email, Slug};

use crate::scope::TenantTx;
use crate::{Db, RepoError};

/// A workspace an email address can sign in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceListing {
    pub slug: Slug,
    pub name: String,
}

/// The active workspaces with an account for `email`: the one read across tenants, through a
/// database function that returns only slugs and names (members of shared workspaces from
/// `users`, of dedicated ones from the directory their changes keep in the control database). Callers must send the answer to that
/// mailbox, never show it to whoever asked.
pub async fn workspaces_for_email(
    db: &Db,
    email: &Email,
) -> Result<Vec<WorkspaceListing>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT slug AS "slug!", name AS "name!" FROM workspaces_for_email($1)"#,
        email.as_str()
    )
    .fetch_all(&mut *db.platform().await?)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(WorkspaceListing {
                slug: Slug::parse(&r.slug).map_err(|_| RepoError::corrupt("tenants.slug"))?,
                name: r.name,
            })
        })
        .collect()
}

/// For a workspace with a database of its own: lists `user` (an active member, by `email`) in
/// the control database's directory, in the control transaction beside the change, so "find
/// my workspace" finds them. Nothing for a shared workspace, whose `users` it reads.
pub(crate) async fn list_member(
    tx: &mut TenantTx,
    db: &Db,
    user: uuid::Uuid,
    email: &str,
) -> Result<(), RepoError> {
    if !tx.is_dedicated() {
        return Ok(());
    }
    let tenant = tx.tenant_id().as_uuid();
    sqlx::query!(
        "INSERT INTO member_directory (tenant_id, user_id, email) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET email = EXCLUDED.email",
        tenant,
        user,
        email
    )
    .execute(tx.control(db).await?)
    .await?;
    Ok(())
}

/// Takes a member who left a dedicated workspace out of the directory.
pub(crate) async fn unlist_member(
    tx: &mut TenantTx,
    db: &Db,
    user: uuid::Uuid,
) -> Result<(), RepoError> {
    if !tx.is_dedicated() {
        return Ok(());
    }
    let tenant = tx.tenant_id().as_uuid();
    sqlx::query!(
        "DELETE FROM member_directory WHERE tenant_id = $1 AND user_id = $2",
        tenant,
        user
    )
    .execute(tx.control(db).await?)
    .await?;
    Ok(())
}
