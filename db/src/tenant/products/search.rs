//! The order form's product picker: active products whose name or SKU matches what is
//! typed, a page at a time, fast in a catalogue of 100,000.
//!
//! Matches come in three groups: first the names that start with the text (a range of the
//! index on `name_key`, lower(name) stored: under 1 ms however many there are), then, from
//! three characters on, the SKUs that start with it (a range of the index on the SKU in "C"
//! order, as fast), in SKU order, then the other products whose name or SKU contains it, in
//! name order. People type the start of a name or of a SKU, so the first two groups usually
//! fill the page by themselves.
//! The third group runs in the database function `products_containing`, because under the
//! tenant policy no index serves "contains" (the migration picker_under_rls has the
//! measurements): the next [`WINDOW`] products in name order are filtered, which finds a page
//! at once when the term is common; if that window holds less than a page, the term is rare,
//! and its matches are found through the trigram index and sorted. The choice is made there
//! rather than by the planner, which, for a term no product contains, walked the whole
//! catalogue in name order (100 ms at 100,000 products). A term that only SKUs start with
//! used to take the trigram path with every one of them (26 ms for "SKU-04" in 100,000): the
//! SKU group is what keeps it to an index range (migration picker_sku_prefix). On the
//! trigram path, the index is asked only for the text's words that are not common in the
//! window, and the whole text is checked on what it finds (migration picker_uncommon_words).

use domain::{Money, ProductId, SearchText};
use uuid::Uuid;

use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

/// Matches per page.
pub const PICKER_PAGE: i64 = 10;
/// Products in name order filtered before the trigram index is asked.
const WINDOW: i32 = 1000;
/// Below this many characters, only names that start with the text match.
const SUBSTRING_FROM: usize = 3;

/// The picker's groups, in the order a page lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    NameStart,
    SkuStart,
    Contains,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickerMatch {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub price: Money,
    pub stock: i32,
}

pub struct PickerPage {
    pub matches: Vec<PickerMatch>,
    pub has_more: bool,
}

struct MatchRow {
    id: Uuid,
    sku: String,
    name: String,
    price_minor: i64,
    stock: i32,
}

/// Active products matching `text` after the product `after` (the last match of the previous
/// page): names that start with it, then (from three characters) names or SKUs that contain
/// it. An `after` that names no product of this workspace finds nothing.
pub async fn search(
    db: &Db,
    scope: &TenantScope,
    text: &SearchText,
    after: Option<ProductId>,
) -> Result<PickerPage, RepoError> {
    let tenant = scope.tenant_id().as_uuid();
    let wanted = PICKER_PAGE + 1;
    let long_enough = text.as_str().chars().count() >= SUBSTRING_FROM;
    let mut tx = scope.begin(db).await?;
    // Where the page starts: just after the previous page's last product, in its group.
    let (mut start_key, mut start_id, start_group) = match after {
        None => (None, None, Group::NameStart),
        Some(id) => {
            let found = sqlx::query!(
                r#"SELECT name_key AS "name_key!", sku,
                          starts_with(name_key, lower($3)) AS "name_start!",
                          starts_with(sku, upper($3)) AS "sku_start!"
                     FROM products WHERE tenant_id = $1 AND id = $2"#,
                tenant,
                id.as_uuid(),
                text.as_str()
            )
            .fetch_optional(&mut *tx)
            .await?;
            match found {
                Some(row) if row.name_start => {
                    (Some(row.name_key), Some(id.as_uuid()), Group::NameStart)
                }
                Some(row) if row.sku_start && long_enough => {
                    (Some(row.sku), Some(id.as_uuid()), Group::SkuStart)
                }
                Some(row) => (Some(row.name_key), Some(id.as_uuid()), Group::Contains),
                None => return Ok(empty()),
            }
        }
    };
    let mut rows = Vec::new();
    if start_group == Group::NameStart {
        // The range finds the index's entries; starts_with is the group's exact rule, the
        // same one the other groups exclude. `name_key` is lower(name) stored: under the
        // tenant policy only leakproof comparisons of plain columns can use the index (see
        // the migration picker_under_rls).
        rows = sqlx::query_as!(
            MatchRow,
            r#"SELECT id, sku, name, price_minor, stock
                 FROM products
                WHERE tenant_id = $1 AND archived_at IS NULL
                  AND (name_key, id) > (coalesce($3::text, lower($2)), coalesce($4::uuid, '00000000-0000-0000-0000-000000000000'::uuid))
                  AND name_key < lower($2) || chr(1114111)
                  AND starts_with(name_key, lower($2))
                ORDER BY name_key, id
                LIMIT $5"#,
            tenant,
            text.as_str(),
            start_key.take(),
            start_id.take(),
            wanted
        )
        .fetch_all(&mut *tx)
        .await?;
    }
    if (rows.len() as i64) < wanted && long_enough && start_group <= Group::SkuStart {
        // The same shape on the SKU, stored upper-case, in "C" order (the index's
        // expression; see the migration picker_sku_prefix).
        let more = sqlx::query_as!(
            MatchRow,
            r#"SELECT id, sku, name, price_minor, stock
                 FROM products
                WHERE tenant_id = $1 AND archived_at IS NULL
                  AND (sku COLLATE "C", id) > (coalesce($3::text, upper($2)), coalesce($4::uuid, '00000000-0000-0000-0000-000000000000'::uuid))
                  AND sku COLLATE "C" < upper($2) || chr(1114111)
                  AND starts_with(sku, upper($2))
                  AND NOT starts_with(name_key, lower($2))
                ORDER BY sku COLLATE "C", id
                LIMIT $5"#,
            tenant,
            text.as_str(),
            start_key.take(),
            start_id.take(),
            wanted - rows.len() as i64
        )
        .fetch_all(&mut *tx)
        .await?;
        rows.extend(more);
    }
    if (rows.len() as i64) < wanted && long_enough {
        let more = containing(
            &mut tx,
            text,
            start_key,
            start_id,
            wanted - rows.len() as i64,
        )
        .await?;
        rows.extend(more);
    }
    end_read(tx);
    let has_more = rows.len() as i64 > PICKER_PAGE;
    Ok(PickerPage {
        matches: rows
            .into_iter()
            .take(PICKER_PAGE as usize)
            .map(|r| PickerMatch {
                id: ProductId::from_uuid(r.id),
                sku: r.sku,
                name: r.name,
                price: Money::from_minor(r.price_minor),
                stock: r.stock,
            })
            .collect(),
        has_more,
    })
}

/// The third group: products whose name or SKU contains `text` but whose name and SKU do not
/// start with it, in name order after (`start_key`, `start_id`). Runs in the database function
/// `products_containing`: "contains" cannot use an index under the tenant policy (see the
/// migration picker_under_rls), so the function keeps to the scope's tenant itself.
async fn containing(
    tx: &mut sqlx::PgConnection,
    text: &SearchText,
    start_key: Option<String>,
    start_id: Option<Uuid>,
    wanted: i64,
) -> Result<Vec<MatchRow>, RepoError> {
    Ok(sqlx::query_as!(
        MatchRow,
        r#"SELECT id AS "id!", sku AS "sku!", name AS "name!", price_minor AS "price_minor!", stock AS "stock!"
             FROM products_containing($1, $2, $3, $4, $5, $6)"#,
        super::like_pattern(text),
        text.as_str(),
        start_key,
        start_id,
        WINDOW,
        wanted as i32
    )
    .fetch_all(&mut *tx)
    .await?)
}

fn empty() -> PickerPage {
    PickerPage {
        matches: Vec::new(),
        has_more: false,
    }
}
