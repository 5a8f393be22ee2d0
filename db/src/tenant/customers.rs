//! Customers: who orders are for. Every member may add and edit them (the people who take
//! orders are the ones who meet new customers); the list is by name, searchable, keyset-paged.

use domain::{Address, CustomerId, CustomerName, Email, Phone, SearchText};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::scope::end_read;
use crate::{Db, RepoError, TenantScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub created_at: OffsetDateTime,
}

/// A customer as a form submits it, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerInput {
    pub name: CustomerName,
    pub email: Email,
    pub phone: Option<Phone>,
    pub address: Option<Address>,
}

/// One page of customers by name. `has_more` says whether another page follows.
pub struct CustomerPage {
    pub customers: Vec<Customer>,
    pub has_more: bool,
}

/// Customers whose name or email contains `search` (all when `None`), by name, after the
/// customer `after` (the last of the previous page). An `after` that names no customer of
/// this workspace finds nothing.
pub async fn list(
    db: &Db,
    scope: &TenantScope,
    search: Option<&SearchText>,
    after: Option<CustomerId>,
    limit: i64,
) -> Result<CustomerPage, RepoError> {
    let limit = limit.clamp(1, 100);
    let pattern = search.map(super::products::like_pattern);
    let mut tx = scope.begin(db).await?;
    // As the product list's (see `products::list`): the usual first page, unsearched, has a
    // statement PostgreSQL plans once; the general one's NULL filters are planned afresh.
    let rows = if pattern.is_none() && after.is_none() && limit == crate::tenant::DEFAULT_PAGE {
        sqlx::query_as!(
            CustomerRow,
            r#"SELECT id, name, email, phone, address, created_at
                 FROM customers c
                WHERE tenant_id = $1
                ORDER BY lower(name) COLLATE "C", id
                LIMIT 26"#,
            scope.tenant_id().as_uuid(),
        )
        .fetch_all(&mut *tx)
        .await?
    } else {
        sqlx::query_as!(
            CustomerRow,
            r#"SELECT id, name, email, phone, address, created_at
             FROM customers c
            WHERE tenant_id = $1
              AND ($2::text IS NULL OR name ILIKE $2 OR email ILIKE $2)
              AND ($3::uuid IS NULL OR (lower(name) COLLATE "C", id) >
                  (SELECT lower(a.name) COLLATE "C", a.id FROM customers a WHERE a.tenant_id = $1 AND a.id = $3))
            ORDER BY lower(name) COLLATE "C", id
            LIMIT $4"#,
            scope.tenant_id().as_uuid(),
            pattern,
            after.map(|id| id.as_uuid()),
            limit + 1
        )
        .fetch_all(&mut *tx)
        .await?
    };
    end_read(tx);
    let has_more = rows.len() as i64 > limit;
    Ok(CustomerPage {
        customers: rows
            .into_iter()
            .take(limit as usize)
            .map(Customer::from)
            .collect(),
        has_more,
    })
}

pub async fn get(db: &Db, scope: &TenantScope, id: CustomerId) -> Result<Customer, RepoError> {
    let mut tx = scope.begin(db).await?;
    let row = sqlx::query_as!(
        CustomerRow,
        "SELECT id, name, email, phone, address, created_at FROM customers WHERE tenant_id = $1 AND id = $2",
        scope.tenant_id().as_uuid(),
        id.as_uuid()
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(RepoError::NotFound)?;
    end_read(tx);
    Ok(row.into())
}

/// An email already used by another customer of this workspace is
/// `Conflict { field: "email" }`.
pub async fn create(
    db: &Db,
    scope: &TenantScope,
    input: &CustomerInput,
) -> Result<CustomerId, RepoError> {
    let mut tx = scope.begin(db).await?;
    let id = insert(&mut tx, scope, input).await?;
    tx.commit().await?;
    Ok(id)
}

/// Adds a customer inside a transaction already acting for the scope's tenant (an order
/// placed for a new customer creates both or neither).
pub(crate) async fn insert(
    conn: &mut sqlx::PgConnection,
    scope: &TenantScope,
    input: &CustomerInput,
) -> Result<CustomerId, RepoError> {
    let id = Uuid::new_v4();
    sqlx::query!(
        "INSERT INTO customers (tenant_id, id, name, email, phone, address) VALUES ($1, $2, $3, $4, $5, $6)",
        scope.tenant_id().as_uuid(),
        id,
        input.name.as_str(),
        input.email.as_str(),
        input.phone.as_ref().map(Phone::as_str),
        input.address.as_ref().map(Address::as_str)
    )
    .execute(conn)
    .await?;
    Ok(CustomerId::from_uuid(id))
}

/// Orders keep pointing at the customer, so they show the new details too.
pub async fn update(
    db: &Db,
    scope: &TenantScope,
    id: CustomerId,
    input: &CustomerInput,
) -> Result<(), RepoError> {
    let mut tx = scope.begin(db).await?;
    let updated = sqlx::query!(
        "UPDATE customers SET name = $3, email = $4, phone = $5, address = $6, updated_at = now()
          WHERE tenant_id = $1 AND id = $2",
        scope.tenant_id().as_uuid(),
        id.as_uuid(),
        input.name.as_str(),
        input.email.as_str(),
        input.phone.as_ref().map(Phone::as_str),
        input.address.as_ref().map(Address::as_str)
    )
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(RepoError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

struct CustomerRow {
    id: Uuid,
    name: String,
    email: String,
    phone: Option<String>,
    address: Option<String>,
    created_at: OffsetDateTime,
}

impl From<CustomerRow> for Customer {
    fn from(r: CustomerRow) -> Self {
        Customer {
            id: CustomerId::from_uuid(r.id),
            name: r.name,
            email: r.email,
            phone: r.phone,
            address: r.address,
            created_at: r.created_at,
        }
    }
}
