//! The catalogue: products listed newest first, read, created, edited and archived by the
//! workspace's managers; searched by the order form's picker (`search`).

mod search;

pub use search::{search, PickerMatch, PickerPage, PICKER_PAGE};

use domain::{Description, LimitKind, Money, ProductId, ProductName, Role, SearchText, Sku};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::end_read;
use crate::{Db, Refusal, RepoError, TenantScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: i32,
    pub archived: bool,
    pub created_at: OffsetDateTime,
    /// Changes on every write; an edit must name the version it started from.
    pub version: OffsetDateTime,
}

/// The columns every product read selects; `query_as!` checks them against this struct.
struct ProductRow {
    id: Uuid,
    sku: String,
    name: String,
    description: String,
    price_minor: i64,
    stock: i32,
    archived: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: ProductId::from_uuid(r.id),
            sku: r.sku,
            name: r.name,
            description: r.description,
            price: Money::from_minor(r.price_minor),
            stock: r.stock,
            archived: r.archived,
            created_at: r.created_at,
            version: r.updated_at,
        }
    }
}

/// A product as a form submits it, already parsed.
#[derive(Debug, Clone)]
pub struct ProductInput {
    pub sku: Sku,
    pub name: ProductName,
    pub description: Description,
    pub price: Money,
    pub stock: i32,
}

/// Where the previous page ended: the last row's (created_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

#[derive(Debug, Clone, Default)]
pub struct ProductQuery {
    /// Matches anywhere in the name or SKU, case-insensitively.
    pub search: Option<SearchText>,
    pub include_archived: bool,
    pub after: Option<ProductCursor>,
    pub limit: i64,
    /// Also report the plan's product limit and its usage (in the same transaction).
    pub with_usage: bool,
}

/// One page, newest first. `has_more` says whether another page follows.
pub struct ProductPage {
    pub products: Vec<Product>,
    pub has_more: bool,
    /// When asked for and the plan caps products: "8 of 10 used".
    pub usage: Option<super::plan::LimitUsage>,
}

/// `%` and `_` typed by a person are literal characters, not wildcards.
pub(crate) fn like_pattern(search: &SearchText) -> String {
    let escaped = search
        .as_str()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn list(
    db: &Db,
    scope: &TenantScope,
    query: &ProductQuery,
) -> Result<ProductPage, RepoError> {
    let limit = query.limit.clamp(1, 200);
    let pattern = query.search.as_ref().map(like_pattern);
    let mut tx = scope.begin(db).await?;
    // The first page of the usual size without a search, the one every visit to the list
    // asks for, has a statement of its own. For the general one PostgreSQL plans every
    // execution afresh, to fold away the filters left NULL (a custom plan); this one has no
    // such filter and a constant LIMIT (with a parameter there, the generic plan's guess of
    // the row count makes it lose to custom plans for ever), so one generic plan is kept and
    // reused. Measured with pgbench: planning was about 40% of the database's time per list.
    let rows = if pattern.is_none() && query.after.is_none() && limit == crate::tenant::DEFAULT_PAGE
    {
        sqlx::query_as!(
            ProductRow,
            r#"SELECT id, sku, name, description, price_minor, stock, archived_at IS NOT NULL AS "archived!", created_at, updated_at
                 FROM products
                WHERE tenant_id = $1 AND ($2 OR archived_at IS NULL)
                ORDER BY created_at DESC, id DESC
                LIMIT 26"#,
            scope.tenant_id().as_uuid(),
            query.include_archived,
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        sqlx::query_as!(
            ProductRow,
            r#"SELECT id, sku, name, description, price_minor, stock, archived_at IS NOT NULL AS "archived!", created_at, updated_at
                 FROM products
                WHERE tenant_id = $1
                  AND ($2 OR archived_at IS NULL)
                  AND ($3::text IS NULL OR name ILIKE $3 OR sku ILIKE $3)
                  AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT $6"#,
            scope.tenant_id().as_uuid(),
            query.include_archived,
            pattern,
            query.after.map(|c| c.created_at),
            query.after.map(|c| c.id),
            limit + 1
        )
        .fetch_all(&mut *tx)
        .await?
    };
    let usage = if query.with_usage {
        super::plan::usage_in(db, &mut tx, scope.tenant_id(), LimitKind::Products).await?
    } else {
        None
    };
    end_read(tx);
    let has_more = rows.len() as i64 > limit;
    let products = rows
        .into_iter()
        .take(limit as usize)
        .map(Product::from)
        .collect();
    Ok(ProductPage {
        products,
        has_more,
        usage,
    })
}

pub async fn get(db: &Db, scope: &TenantScope, id: ProductId) -> Result<Product, RepoError> {
    let mut tx = scope.begin(db).await?;
    let row = sqlx::query_as!(
        ProductRow,
        r#"SELECT id, sku, name, description, price_minor, stock, archived_at IS NOT NULL AS "archived!", created_at, updated_at
             FROM products WHERE tenant_id = $1 AND id = $2"#,
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    end_read(tx);
    Ok(row.into())
}

/// The products of this workspace among `ids` (others are left out), in no set order.
pub async fn by_ids(
    db: &Db,
    scope: &TenantScope,
    ids: &[ProductId],
) -> Result<Vec<Product>, RepoError> {
    let ids: Vec<Uuid> = ids.iter().map(ProductId::as_uuid).collect();
    let mut tx = scope.begin(db).await?;
    let rows = sqlx::query_as!(
        ProductRow,
        r#"SELECT id, sku, name, description, price_minor, stock, archived_at IS NOT NULL AS "archived!", created_at, updated_at
             FROM products WHERE tenant_id = $1 AND id = ANY($2)"#,
        scope.tenant_id().as_uuid(),
        &ids
    )
    .fetch_all(&mut *tx)
    .await?;
    end_read(tx);
    Ok(rows.into_iter().map(Product::from).collect())
}

/// ADMIN and OWNER only. A SKU already used in this workspace is `Conflict { field: "sku" }`.
pub async fn create(
    db: &Db,
    scope: &TenantScope,
    input: &ProductInput,
) -> Result<ProductId, RepoError> {
    scope.require(Role::Admin)?;
    let id = Uuid::new_v4();
    let mut tx = scope.begin(db).await?;
    super::plan::reserve(&mut tx, scope.tenant_id(), LimitKind::Products, 1).await?;
    sqlx::query!(
        "INSERT INTO products (tenant_id, id, sku, name, description, price_minor, stock)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        scope.tenant_id().as_uuid(),
        id,
        input.sku.as_str(),
        input.name.as_str(),
        input.description.as_str(),
        input.price.minor(),
        input.stock
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ProductId::from_uuid(id))
}

/// ADMIN and OWNER only. Orders already placed keep their own copy of name and price.
///
/// `version` is the product's version when the form was opened. If anything wrote the
/// product since (an order took stock, a colleague edited it), the edit is refused with
/// `Refused(Stale)` rather than overwriting the newer stock figure.
pub async fn update(
    db: &Db,
    scope: &TenantScope,
    id: ProductId,
    version: OffsetDateTime,
    input: &ProductInput,
) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    let updated = sqlx::query!(
        "UPDATE products SET sku = $3, name = $4, description = $5, price_minor = $6, stock = $7, updated_at = clock_timestamp()
          WHERE tenant_id = $1 AND id = $2 AND updated_at = $8",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        input.sku.as_str(),
        input.name.as_str(),
        input.description.as_str(),
        input.price.minor(),
        input.stock,
        version
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        let exists = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM products WHERE tenant_id = $1 AND id = $2) AS "exists!""#,
            scope.tenant_id().as_uuid(),
            id.as_uuid()
        )
        .fetch_one(&mut *tx)
        .await?;
        return Err(if exists {
            RepoError::Refused(Refusal::Stale)
        } else {
            RepoError::NotFound
        });
    }
    tx.commit().await?;
    Ok(())
}

/// ADMIN and OWNER only. An archived product cannot be ordered; old orders still show it.
pub async fn set_archived(
    db: &Db,
    scope: &TenantScope,
    id: ProductId,
    archived: bool,
) -> Result<(), RepoError> {
    scope.require(Role::Admin)?;
    let mut tx = scope.begin(db).await?;
    if !archived {
        // A restored product counts against the plan's product limit again.
        let was_archived = sqlx::query_scalar!(
            r#"SELECT archived_at IS NOT NULL AS "archived!" FROM products WHERE tenant_id = $1 AND id = $2
                  FOR UPDATE"#,
            scope.tenant_id().as_uuid(),
            id.as_uuid()
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(RepoError::NotFound)?;
        if was_archived {
            super::plan::reserve(&mut tx, scope.tenant_id(), LimitKind::Products, 1).await?;
        }
    }
    let updated = sqlx::query!(
        "UPDATE products
            SET archived_at = CASE WHEN $3 THEN coalesce(archived_at, now()) ELSE NULL END, updated_at = clock_timestamp()
          WHERE tenant_id = $1 AND id = $2",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        archived
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(RepoError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_wildcards_are_literal() {
        let typed = domain::SearchText::parse("50%_off\\").unwrap().unwrap();
        assert_eq!(super::like_pattern(&typed), "%50\\%\\_off\\\\%");
    }
}
