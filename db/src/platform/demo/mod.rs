//! The demo workspace's data: a catalogue of a few dozen products in four departments with
//! stock from plenty to none, a few customers, and about a hundred orders over the last 60
//! days in every status with their history, so a newcomer sees the product working on the
//! first visit. Always the same data (fixed names, a fixed pseudo-random sequence); only
//! the dates follow the clock, so the dashboard's last 30 days are never empty.
//!
//! Orders are written with their dates in the past, which no repository function does, so
//! the writing is here, inside the demo tenant's own transaction (row-level security checks
//! every row, as for a request).

mod book;

use book::OrderBook;
use domain::{TenantId, UserId};
use uuid::Uuid;

use crate::scope::{begin_for_tenant, begin_for_tenant_id, set_tenant};
use crate::{Db, RepoError, Tenant};

/// (SKU, name, price in cents, stock): kitchen, desk, apparel and home goods.
const PRODUCTS: &[(&str, &str, i64, i32)] = &[
    ("KIT-MUG-BLU", "Stoneware mug, blue", 1250, 84),
    ("KIT-MUG-GRN", "Stoneware mug, green", 1250, 3),
    ("KIT-MUG-WHT", "Stoneware mug, white", 1250, 120),
    ("KIT-TEA-POT", "Cast iron teapot", 4800, 12),
    ("KIT-FRN-PRS", "French press, 1 litre", 3600, 0),
    ("KIT-KNF-CHF", "Chef's knife, 20 cm", 6900, 7),
    ("KIT-BRD-OAK", "Oak cutting board", 3900, 22),
    ("KIT-TWL-LIN", "Linen tea towel", 900, 140),
    ("KIT-JAR-SET", "Glass storage jars, set of 3", 2400, 2),
    ("DSK-NTB-A5L", "Notebook A5, lined", 850, 210),
    ("DSK-NTB-A5D", "Notebook A5, dotted", 850, 4),
    ("DSK-NTB-A4P", "Notebook A4, plain", 1100, 95),
    ("DSK-PEN-BLK", "Gel pen, black", 250, 480),
    ("DSK-PEN-SET", "Fountain pen set", 4500, 0),
    ("DSK-LMP-BRS", "Brass desk lamp", 8900, 6),
    ("DSK-ORG-WAL", "Walnut desk organiser", 5400, 15),
    ("DSK-CAL-26", "Wall calendar 2026", 1800, 1),
    ("DSK-CLP-100", "Binder clips, box of 100", 600, 160),
    ("APP-TEE-S", "Organic cotton tee, S", 2200, 40),
    ("APP-TEE-M", "Organic cotton tee, M", 2200, 55),
    ("APP-TEE-L", "Organic cotton tee, L", 2200, 5),
    ("APP-TEE-XL", "Organic cotton tee, XL", 2200, 0),
    ("APP-HOD-M", "Heavyweight hoodie, M", 5900, 18),
    ("APP-HOD-L", "Heavyweight hoodie, L", 5900, 9),
    ("APP-CAP-NVY", "Canvas cap, navy", 1900, 33),
    ("APP-SCK-3PK", "Merino socks, 3 pairs", 2800, 64),
    ("APP-APR-DNM", "Denim work apron", 3400, 2),
    ("HOM-CND-FIG", "Scented candle, fig", 2600, 48),
    ("HOM-CND-CDR", "Scented candle, cedar", 2600, 0),
    ("HOM-THR-WOL", "Wool throw blanket", 8500, 11),
    ("HOM-CSH-LIN", "Linen cushion cover", 2900, 26),
    ("HOM-VAS-CER", "Ceramic bud vase", 1900, 3),
    ("HOM-PLT-POT", "Terracotta plant pot", 1500, 72),
    ("HOM-BSK-SEA", "Seagrass basket", 3200, 14),
    ("HOM-DIF-OAK", "Oak reed diffuser", 2400, 8),
    ("HOM-MAT-JUT", "Jute door mat", 3800, 20),
];

/// (name, email, phone, shipping address)
const CUSTOMERS: &[(&str, &str, Option<&str>, Option<&str>)] = &[
    (
        "Harbour Street Café",
        "orders@harbourcafe.example",
        Some("+44 131 496 0201"),
        Some("12 Harbour Street\nLeith\nEdinburgh EH6 6QN"),
    ),
    (
        "Greenleaf Interiors",
        "buying@greenleaf.example",
        Some("+1 503 555 0148"),
        Some("880 NW Flanders St\nPortland, OR 97209\nUnited States"),
    ),
    (
        "Amira Haddad",
        "amira.haddad@mail.example",
        None,
        Some("Flat 3, 41 Canal Road\nManchester M1 2AB"),
    ),
    (
        "The Paper Loft",
        "hello@paperloft.example",
        Some("+61 2 5550 1734"),
        Some("Shop 7, 120 King Street\nNewtown NSW 2042\nAustralia"),
    ),
    (
        "Jonas Becker",
        "jonas.becker@post.example",
        Some("+49 30 5550 7712"),
        None,
    ),
    (
        "Northside Co-working",
        "office@northside.example",
        Some("+353 1 555 0190"),
        Some("2 Dock Mill\nBarrow Street\nDublin D04 W2K0"),
    ),
    ("Priya Raman", "priya.raman@mail.example", None, None),
    (
        "Maple & Thread Boutique",
        "shop@maplethread.example",
        Some("+1 416 555 0177"),
        Some("318 Queen St W\nToronto ON M5V 2A2\nCanada"),
    ),
];

const ORDERS: u32 = 100;
const DAYS: u64 = 60;

/// Whether the demo still needs its data: a workspace that has products or orders (seeded
/// before, or used since) is left alone.
pub async fn needs_seeding(db: &Db, tenant: &Tenant) -> Result<bool, RepoError> {
    let mut tx = begin_for_tenant(db, tenant).await?;
    let used = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM products WHERE tenant_id = $1)
               OR EXISTS (SELECT 1 FROM orders WHERE tenant_id = $1) AS "used!""#,
        tenant.id().as_uuid()
    )
    .fetch_one(&mut *tx)
    .await?;
    crate::scope::end_read(tx);
    Ok(!used)
}

/// Writes the demo data into `tenant`, its orders placed by `owner` and `member` in turn, in
/// one transaction.
pub async fn seed(
    db: &Db,
    tenant: &Tenant,
    owner: UserId,
    member: UserId,
) -> Result<(), RepoError> {
    let t = tenant.id().as_uuid();
    let mut tx = db.begin().await?;
    set_tenant(&mut tx, tenant.id()).await?;
    let product_ids: Vec<Uuid> = PRODUCTS.iter().map(|_| Uuid::new_v4()).collect();
    // Added over the last 90 days, in the order listed (the products page is newest first).
    let added_days: Vec<i32> = (0..PRODUCTS.len() as i32).map(|i| 90 - 2 * i).collect();
    sqlx::query!(
        "INSERT INTO products (tenant_id, id, sku, name, description, price_minor, stock, created_at, updated_at)
         SELECT $1, p.id, p.sku, p.name, '', p.price, p.stock,
                now() - make_interval(days => p.days), now() - make_interval(days => p.days)
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int8[], $6::int4[], $7::int4[])
                AS p(id, sku, name, price, stock, days)",
        t,
        &product_ids,
        &PRODUCTS.iter().map(|p| p.0).collect::<Vec<_>>() as &[&str],
        &PRODUCTS.iter().map(|p| p.1).collect::<Vec<_>>() as &[&str],
        &PRODUCTS.iter().map(|p| p.2).collect::<Vec<_>>(),
        &PRODUCTS.iter().map(|p| p.3).collect::<Vec<_>>(),
        &added_days
    )
    .execute(&mut *tx)
    .await?;
    let customer_ids: Vec<Uuid> = CUSTOMERS.iter().map(|_| Uuid::new_v4()).collect();
    sqlx::query!(
        "INSERT INTO customers (tenant_id, id, name, email, phone, address, created_at, updated_at)
         SELECT $1, c.id, c.name, c.email, c.phone, c.address, now() - interval '75 days', now() - interval '75 days'
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[]) AS c(id, name, email, phone, address)",
        t,
        &customer_ids,
        &CUSTOMERS.iter().map(|c| c.0).collect::<Vec<_>>() as &[&str],
        &CUSTOMERS.iter().map(|c| c.1).collect::<Vec<_>>() as &[&str],
        &CUSTOMERS.iter().map(|c| c.2).collect::<Vec<_>>() as &[Option<&str>],
        &CUSTOMERS.iter().map(|c| c.3).collect::<Vec<_>>() as &[Option<&str>]
    )
    .execute(&mut *tx)
    .await?;

    let book = OrderBook::write(
        &product_ids,
        &customer_ids,
        [owner.as_uuid(), member.as_uuid()],
    );
    sqlx::query!(
        "INSERT INTO orders (tenant_id, id, number, status, total_minor, created_by, customer_id, created_at, updated_at)
         SELECT $1, o.id, o.number, o.status, o.total, o.created_by, o.customer_id,
                now() - make_interval(secs => o.age), now() - make_interval(secs => o.age)
           FROM unnest($2::uuid[], $3::int8[], $4::text[], $5::int8[], $6::uuid[], $7::uuid[], $8::float8[])
                AS o(id, number, status, total, created_by, customer_id, age)",
        t,
        &book.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        &book.orders.iter().map(|o| o.number).collect::<Vec<_>>(),
        &book.orders.iter().map(|o| o.status).collect::<Vec<_>>() as &[&str],
        &book.orders.iter().map(|o| o.total).collect::<Vec<_>>(),
        &book.orders.iter().map(|o| o.created_by).collect::<Vec<_>>(),
        &book.orders.iter().map(|o| o.customer_id).collect::<Vec<_>>(),
        &book.orders.iter().map(|o| o.age_secs).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO order_lines (tenant_id, order_id, line_no, product_id, sku, product_name, unit_price_minor, quantity)
         SELECT $1, l.order_id, l.line_no, l.product_id, p.sku, p.name, p.price_minor, l.quantity
           FROM unnest($2::uuid[], $3::int4[], $4::uuid[], $5::int4[]) AS l(order_id, line_no, product_id, quantity)
           JOIN products p ON p.tenant_id = $1 AND p.id = l.product_id",
        t,
        &book.lines.iter().map(|l| l.order_id).collect::<Vec<_>>(),
        &book.lines.iter().map(|l| l.line_no).collect::<Vec<_>>(),
        &book.lines.iter().map(|l| l.product_id).collect::<Vec<_>>(),
        &book.lines.iter().map(|l| l.quantity).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO order_events (tenant_id, order_id, id, from_status, to_status, changed_by, changed_at)
         SELECT $1, e.order_id, gen_random_uuid(), e.from_status, e.to_status, e.changed_by,
                now() - make_interval(secs => e.age)
           FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::float8[])
                AS e(order_id, from_status, to_status, changed_by, age)",
        t,
        &book.events.iter().map(|e| e.order_id).collect::<Vec<_>>(),
        &book.events.iter().map(|e| e.from).collect::<Vec<_>>() as &[Option<&str>],
        &book.events.iter().map(|e| e.to).collect::<Vec<_>>() as &[&str],
        &book.events.iter().map(|e| e.by).collect::<Vec<_>>(),
        &book.events.iter().map(|e| e.age_secs).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO order_counters (tenant_id, last_number) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET last_number = greatest(order_counters.last_number, $2)",
        t,
        i64::from(ORDERS)
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the demo workspace's catalogue, customers, orders, imports and exports, so it can
/// be seeded afresh; its members stay. The application role may not delete orders or
/// products (nothing in the product does), so `db` must be a handle on the owner role, as
/// for migrations; row-level security still holds it to this one tenant.
pub async fn reset(db: &Db, tenant: TenantId) -> Result<(), RepoError> {
    let t = tenant.as_uuid();
    let mut tx = begin_for_tenant_id(db, tenant).await?;
    sqlx::query!("DELETE FROM order_events WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM order_lines WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM orders WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM order_counters WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM customers WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM product_imports WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM export_jobs WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    sqlx::query!("DELETE FROM products WHERE tenant_id = $1", t)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
