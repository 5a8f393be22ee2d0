//! Console accounts: made from the server's command line, signed in on the console's host.

use domain::{AdminId, Email, PersonName};
use uuid::Uuid;

use crate::platform::auth::Rehash;
use crate::{Db, RepoError};

/// Creates a console account (from the server's command line). An email already used is
/// `Conflict { field: "email" }`.
pub async fn create_admin(
    db: &Db,
    email: &Email,
    name: &PersonName,
    password_hash: &str,
) -> Result<AdminId, RepoError> {
    let id = Uuid::new_v4();
    let mut conn = db.platform().await?;
    sqlx::query!(
        "INSERT INTO platform_admins (id, email, name, password_hash) VALUES ($1, $2, $3, $4)",
        id,
        email.as_str(),
        name.as_str(),
        password_hash
    )
    .execute(&mut *conn)
    .await?;
    conn.done().await?;
    Ok(AdminId::from_uuid(id))
}

#[derive(Debug)]
pub struct AdminCredentials {
    pub admin_id: AdminId,
    pub password_hash: String,
}

pub async fn find_admin_credentials(
    db: &Db,
    email: &Email,
) -> Result<Option<AdminCredentials>, RepoError> {
    let row = sqlx::query!(
        "SELECT id, password_hash FROM platform_admins WHERE email = $1",
        email.as_str()
    )
    .fetch_optional(&mut *db.platform().await?)
    .await?;
    Ok(row.map(|r| AdminCredentials {
        admin_id: AdminId::from_uuid(r.id),
        password_hash: r.password_hash,
    }))
}

/// Notes the sign-in time, and stores `rehash`'s new hash when there is one (see
/// [`Rehash`]).
pub async fn record_admin_sign_in(
    db: &Db,
    admin_id: AdminId,
    rehash: Option<Rehash<'_>>,
) -> Result<(), RepoError> {
    let mut conn = db.platform().await?;
    sqlx::query!(
        "UPDATE platform_admins SET last_sign_in_at = now(),
                password_hash = CASE WHEN password_hash = $2 THEN $3 ELSE password_hash END
          WHERE id = $1",
        admin_id.as_uuid(),
        rehash.map(|r| r.checked),
        rehash.map(|r| r.replacement)
    )
    .execute(&mut *conn)
    .await?;
    conn.done().await?;
    Ok(())
}
