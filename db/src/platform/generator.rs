//! Whole workspaces made in bulk, for benchmarks and demos: a tenant, its owner, its products
//! and its orders, written by a few set-based statements inside the new tenant's own
//! transaction (so row-level security checks every row, as for any request).

use domain::{Email, PlanCode, Slug, TenantId};
use uuid::Uuid;

use crate::scope::set_tenant;
use crate::{Db, RepoError};

/// What to put in one generated workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceSpec<'a> {
    pub slug: &'a Slug,
    pub owner_email: &'a Email,
    pub owner_password_hash: &'a str,
    pub plan: &'a PlanCode,
    pub products: i32,
    pub orders: i32,
    /// Units each product starts with.
    pub stock: i32,
}

/// Creates one workspace with its owner, `products` products and `orders` orders (one to
/// three lines each, prices copied from the products, spread over the last 60 days, with
/// their creation events), in one transaction. A slug already taken is
/// `Conflict { field: "slug" }` and writes nothing.
pub async fn generate_workspace(db: &Db, spec: &WorkspaceSpec<'_>) -> Result<TenantId, RepoError> {
    let tenant = Uuid::new_v4();
    let owner = Uuid::new_v4();
    let mut tx = db.pool().begin().await?;
    sqlx::query!(
        "INSERT INTO tenants (id, slug, name, plan_code, created_at)
         VALUES ($1, $2, $3, $4, now() - interval '90 days')",
        tenant,
        spec.slug.as_str(),
        format!("Workspace {}", spec.slug),
        spec.plan.as_str()
    )
    .execute(&mut *tx)
    .await?;
    set_tenant(&mut tx, TenantId::from_uuid(tenant)).await?;
    sqlx::query!(
        "INSERT INTO users (tenant_id, id, email, name, password_hash, role)
         VALUES ($1, $2, $3, 'Owner', $4, 'OWNER')",
        tenant,
        owner,
        spec.owner_email.as_str(),
        spec.owner_password_hash
    )
    .execute(&mut *tx)
    .await?;
    // Creation times are spread out and distinct, as real catalogues grow.
    sqlx::query!(
        "INSERT INTO products (tenant_id, id, sku, name, description, price_minor, stock, created_at, updated_at)
         SELECT $1, gen_random_uuid(), 'SKU-' || lpad(n::text, 6, '0'), 'Product ' || n,
                'Generated product number ' || n, 100 + (n * 7919) % 99900, $3,
                now() - make_interval(secs => ($2 - n) * 60.0), now()
           FROM generate_series(1, $2) AS n",
        tenant,
        spec.products,
        spec.stock
    )
    .execute(&mut *tx)
    .await?;
    if spec.orders > 0 && spec.products > 0 {
        sqlx::query!(
            "INSERT INTO orders (tenant_id, id, number, status, total_minor, created_by, created_at, updated_at)
             SELECT $1, gen_random_uuid(), n,
                    (ARRAY['PENDING','CONFIRMED','SHIPPED','DELIVERED','DELIVERED','CANCELLED'])[1 + n % 6],
                    0, $2, now() - make_interval(secs => (n::bigint * 51839) % 5184000), now()
               FROM generate_series(1, $3) AS n",
            tenant,
            owner,
            spec.orders
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "WITH numbered AS (
                 SELECT id, sku, name, price_minor, row_number() OVER (ORDER BY created_at, id) AS rn
                   FROM products WHERE tenant_id = $1)
             INSERT INTO order_lines (tenant_id, order_id, line_no, product_id, sku, product_name, unit_price_minor, quantity)
             SELECT $1, o.id, l.line_no, p.id, p.sku, p.name, p.price_minor, 1 + (o.number + l.line_no) % 3
               FROM orders o
               CROSS JOIN LATERAL generate_series(1, 1 + o.number % 3) AS l(line_no)
               JOIN numbered p ON p.rn = 1 + (o.number::bigint * 7919 + l.line_no * 104729) % $2
              WHERE o.tenant_id = $1",
            tenant,
            i64::from(spec.products)
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE orders o SET total_minor = t.total
               FROM (SELECT order_id, sum(unit_price_minor * quantity) AS total
                       FROM order_lines WHERE tenant_id = $1 GROUP BY order_id) t
              WHERE o.tenant_id = $1 AND o.id = t.order_id",
            tenant
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO order_events (tenant_id, order_id, id, from_status, to_status, changed_by, changed_at)
             SELECT $1, id, gen_random_uuid(), NULL, 'PENDING', created_by, created_at
               FROM orders WHERE tenant_id = $1",
            tenant
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO order_counters (tenant_id, last_number) VALUES ($1, $2)",
            tenant,
            i64::from(spec.orders)
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(TenantId::from_uuid(tenant))
}
