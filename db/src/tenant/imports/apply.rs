//! Applying an import: one batch of lines per transaction, in file order.

use std::collections::HashSet;

use domain::{ImportId, LimitKind};

use super::{ImportStatus, Outcome};
use crate::{Db, RepoError, TenantScope};

/// Lines written per transaction.
pub const BATCH_ROWS: i64 = 500;

/// Writes the next batch of a running import's lines and records how far it got, in one
/// transaction, and returns the import's status afterwards (`Done` after the last batch).
/// An import that is not running is left alone. Two callers applying the same import at
/// once (the worker, and a request taking over from it) take turns on its row and never
/// write a batch twice.
///
/// Lines whose product does not exist yet are added while the plan's product limit has
/// room, in file order; the rest are refused. A product whose values already match its
/// line is not touched.
pub async fn apply_batch(
    db: &Db,
    scope: &TenantScope,
    id: ImportId,
) -> Result<ImportStatus, RepoError> {
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    let import = sqlx::query!(
        "SELECT status, applied_through FROM product_imports WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        tenant,
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    let status = ImportStatus::parse(&import.status)?;
    if status != ImportStatus::Running {
        // Ended here, not on drop: a dropped transaction's ROLLBACK waits for the connection's
        // next use, and its row lock would keep the worker's claim (SKIP LOCKED) from the row.
        tx.rollback().await?;
        return Ok(status);
    }
    let lines = sqlx::query!(
        r#"SELECT line_no, sku, name, description, price_minor AS "price_minor!", stock AS "stock!"
             FROM product_import_rows
            WHERE tenant_id = $1 AND import_id = $2 AND line_no > $3 AND verdict <> 'error'
            ORDER BY line_no
            LIMIT $4"#,
        tenant,
        id.as_uuid(),
        import.applied_through,
        BATCH_ROWS
    )
    .fetch_all(&mut *tx)
    .await?;
    let Some(last_line) = lines.last().map(|l| l.line_no) else {
        sqlx::query!(
            "UPDATE product_imports SET status = 'done', finished_at = now(), heartbeat_at = now()
              WHERE tenant_id = $1 AND id = $2",
            tenant,
            id.as_uuid()
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Ok(ImportStatus::Done);
    };

    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    // The products this batch updates, locked in id order (as orders lock them) before the
    // limit, as restoring an archived product does: no two writers wait on each other.
    let existing: HashSet<String> = sqlx::query_scalar!(
        "SELECT sku FROM products WHERE tenant_id = $1 AND sku = ANY($2::text[]) ORDER BY id FOR UPDATE",
        tenant,
        &skus as &[&str]
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let new_lines = lines.iter().filter(|l| !existing.contains(&l.sku)).count() as i64;
    let room = crate::tenant::plan::reserve_up_to(
        &mut tx,
        scope.tenant_id(),
        LimitKind::Products,
        new_lines,
    )
    .await?;
    let mut granted = room.granted;
    let mut writes = Vec::with_capacity(lines.len());
    let mut refused = Vec::new();
    for line in &lines {
        if existing.contains(&line.sku) {
            writes.push(line);
        } else if granted > 0 {
            granted -= 1;
            writes.push(line);
        } else {
            refused.push(line.line_no);
        }
    }

    let written = sqlx::query!(
        r#"INSERT INTO products AS p (tenant_id, id, sku, name, description, price_minor, stock)
           SELECT $1, gen_random_uuid(), * FROM unnest($2::text[], $3::text[], $4::text[], $5::int8[], $6::int4[])
           ON CONFLICT ON CONSTRAINT products_tenant_sku_key DO UPDATE
              SET name = excluded.name, description = excluded.description,
                  price_minor = excluded.price_minor, stock = excluded.stock,
                  updated_at = clock_timestamp()
            WHERE (p.name, p.description, p.price_minor, p.stock)
                  IS DISTINCT FROM (excluded.name, excluded.description, excluded.price_minor, excluded.stock)
           RETURNING p.sku, (p.xmax = 0) AS "inserted!""#,
        tenant,
        &writes.iter().map(|l| l.sku.as_str()).collect::<Vec<_>>() as &[&str],
        &writes.iter().map(|l| l.name.as_str()).collect::<Vec<_>>() as &[&str],
        &writes.iter().map(|l| l.description.as_str()).collect::<Vec<_>>() as &[&str],
        &writes.iter().map(|l| l.price_minor).collect::<Vec<_>>(),
        &writes.iter().map(|l| l.stock).collect::<Vec<_>>()
    )
    .fetch_all(&mut *tx)
    .await?;
    let inserted: HashSet<&str> = written
        .iter()
        .filter(|w| w.inserted)
        .map(|w| w.sku.as_str())
        .collect();
    let changed: HashSet<&str> = written.iter().map(|w| w.sku.as_str()).collect();
    let refused: HashSet<i32> = refused.into_iter().collect();
    let outcomes: Vec<(i32, Outcome)> = lines
        .iter()
        .map(|l| {
            let outcome = if refused.contains(&l.line_no) {
                Outcome::Refused
            } else if inserted.contains(l.sku.as_str()) {
                Outcome::Created
            } else if changed.contains(l.sku.as_str()) {
                Outcome::Updated
            } else {
                Outcome::Unchanged
            };
            (l.line_no, outcome)
        })
        .collect();
    let tally = |o: Outcome| outcomes.iter().filter(|(_, x)| *x == o).count() as i32;
    sqlx::query!(
        "UPDATE product_import_rows r SET outcome = v.outcome
           FROM unnest($3::int4[], $4::text[]) AS v(line_no, outcome)
          WHERE r.tenant_id = $1 AND r.import_id = $2 AND r.line_no = v.line_no",
        tenant,
        id.as_uuid(),
        &outcomes.iter().map(|(line, _)| *line).collect::<Vec<_>>(),
        &outcomes.iter().map(|(_, o)| o.as_str()).collect::<Vec<_>>() as &[&str]
    )
    .execute(&mut *tx)
    .await?;
    let refused_count = tally(Outcome::Refused);
    sqlx::query!(
        "UPDATE product_imports
            SET applied_through = $3, created = created + $4, updated = updated + $5,
                unchanged = unchanged + $6, refused = refused + $7,
                refused_at_limit = CASE WHEN $7 > 0 THEN $8 ELSE refused_at_limit END,
                heartbeat_at = now()
          WHERE tenant_id = $1 AND id = $2",
        tenant,
        id.as_uuid(),
        last_line,
        tally(Outcome::Created),
        tally(Outcome::Updated),
        tally(Outcome::Unchanged),
        refused_count,
        room.cap
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ImportStatus::Running)
}
