use domain::{Email, Slug};

use crate::{Db, RepoError};

/// A workspace an email address can sign in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceListing {
    pub slug: Slug,
    pub name: String,
}

/// The active workspaces with an account for `email`: the one read across tenants, through a
/// database function that returns only slugs and names. Callers must send the answer to that
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
