//! How a move copies and compares a workspace's rows. Every statement runs on connections
//! pinned to the workspace (`app.tenant_id`), as the owner role, under the tables' forced
//! row-level security: a mistake here cannot read or write another workspace's row.

use domain::TenantId;
use futures_util::StreamExt;
use sqlx::PgConnection;

use crate::catalog::TenantTable;
use crate::platform::provision::copy::{copied_columns, place_registry_row};
use crate::scope::begin_in_control;
use crate::{Db, RepoError};

/// Deletes the workspace's rows from `tables` (children first, as the catalog lists them);
/// returns how many went.
pub(super) async fn empty(
    conn: &mut PgConnection,
    tenant: TenantId,
    tables: &[TenantTable],
) -> Result<u64, RepoError> {
    let mut removed = 0;
    for table in tables {
        removed += sqlx::query(&format!(
            "DELETE FROM {} WHERE tenant_id = $1",
            table.quoted()
        ))
        .bind(tenant.as_uuid())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    Ok(removed)
}

/// The registry row, in a destination database of its own, read from the control database.
pub(super) async fn registry_row(
    db: &Db,
    dest: &mut PgConnection,
    tenant: TenantId,
    cluster: &str,
) -> Result<(), RepoError> {
    let mut control = begin_in_control(db, tenant).await?;
    place_registry_row(&mut control, dest, tenant, cluster).await?;
    control.rollback().await?;
    Ok(())
}

/// Copies the workspace's rows of `tables` (listed children first; copied parents first)
/// from `source` into `dest`, streaming PostgreSQL's binary `COPY` format between them.
///
/// `COPY FROM` refuses a table with row-level security for any role the policies apply to,
/// and the owner role is one here on purpose (forced row-level security; the role that may
/// bypass it is the superuser, which the product never asks for). So the rows land in a
/// temporary table first, which has no policies, and reach the real table by an `INSERT …
/// SELECT`, which the policy's `WITH CHECK` holds to the pinned workspace row by row.
pub(super) async fn copy_tables(
    source: &mut PgConnection,
    dest: &mut PgConnection,
    tenant: TenantId,
    tables: &[TenantTable],
) -> Result<Vec<(String, u64)>, RepoError> {
    let mut copied = Vec::with_capacity(tables.len());
    for table in tables.iter().rev() {
        let columns = copied_columns(dest, table).await?;
        let t = table.quoted();
        sqlx::query(&format!(
            "CREATE TEMP TABLE move_stage AS SELECT {columns} FROM {t} WITH NO DATA"
        ))
        .execute(&mut *dest)
        .await?;
        // The id is a UUID's text (hex digits and hyphens): `COPY` takes no parameters.
        let mut rows_out = source
            .copy_out_raw(&format!(
                "COPY (SELECT {columns} FROM {t} WHERE tenant_id = '{tenant}') TO STDOUT (FORMAT binary)"
            ))
            .await?;
        let mut rows_in = dest
            .copy_in_raw("COPY move_stage FROM STDIN (FORMAT binary)")
            .await?;
        while let Some(chunk) = rows_out.next().await {
            rows_in.send(chunk?).await?;
        }
        drop(rows_out);
        let staged = rows_in.finish().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO {t} ({columns}) SELECT {columns} FROM move_stage"
        ))
        .execute(&mut *dest)
        .await?
        .rows_affected();
        sqlx::query("DROP TABLE move_stage")
            .execute(&mut *dest)
            .await?;
        if inserted != staged {
            return Err(RepoError::Delegated {
                what: "copying a workspace",
                detail: format!(
                    "{}: {staged} rows read, {inserted} written",
                    table.qualified()
                ),
            });
        }
        copied.push((table.qualified(), inserted));
    }
    Ok(copied)
}

/// A table's rows of the workspace, summed up: their number and the sum of a 64-bit hash of
/// each row's text (order-independent, and unlike XOR, two equal rows do not cancel out).
/// The text of a row depends on the session's settings, so they are fixed here, the same on
/// both ends; md5 gives the same answer on every PostgreSQL version, unlike the internal
/// hash functions.
pub(super) async fn checksum(
    conn: &mut PgConnection,
    tenant: TenantId,
    table: &TenantTable,
) -> Result<(i64, String), RepoError> {
    sqlx::query(
        "SELECT set_config('TimeZone', 'UTC', true), set_config('DateStyle', 'ISO, YMD', true),
                set_config('IntervalStyle', 'postgres', true),
                set_config('extra_float_digits', '3', true), set_config('bytea_output', 'hex', true)",
    )
    .execute(&mut *conn)
    .await?;
    let columns = copied_columns(conn, table).await?;
    let sum: (i64, String) = sqlx::query_as(&format!(
        "SELECT count(*), coalesce(sum(('x' || left(md5(r::text), 16))::bit(64)::bigint::numeric), 0)::text
           FROM (SELECT {columns} FROM {} WHERE tenant_id = $1) r",
        table.quoted()
    ))
    .bind(tenant.as_uuid())
    .fetch_one(conn)
    .await?;
    Ok(sum)
}
