//! What PostgreSQL's catalog says about tenant data: which tables carry a `tenant_id`, in
//! what order their rows can go, and what a whole-workspace export leaves out. Read from the
//! catalog rather than listed here, so that a table a later migration adds is erased and
//! exported without anyone remembering it.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::PgConnection;

use crate::{Db, RepoError};

/// A table that holds tenant data, as the catalog names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TenantTable {
    pub schema: String,
    pub name: String,
}

impl TenantTable {
    /// The table's name quoted for a statement: it comes from the catalog, never from input,
    /// and is quoted anyway so that any name PostgreSQL allows is read as a name.
    pub(crate) fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }
}

pub(crate) fn quote_ident(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Every ordinary or partitioned table, in any schema but PostgreSQL's own, that has a
/// `tenant_id` column, ordered so that a table comes before every table it references (its
/// rows must go first). Fails on a cycle of references, which no order can erase in batches.
pub async fn tenant_tables(db: &Db) -> Result<Vec<TenantTable>, RepoError> {
    tenant_tables_in(&mut *db.pool().acquire().await?).await
}

/// [`tenant_tables`] read on a connection the caller holds (inside an export's snapshot).
pub(crate) async fn tenant_tables_in(
    conn: &mut PgConnection,
) -> Result<Vec<TenantTable>, RepoError> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'
                              AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg\\_%'",
    )
    .fetch_all(&mut *conn)
    .await?;
    // (referencing, referenced) between two of those tables; a table that references itself
    // needs no order.
    let references: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT fn.nspname::text, f.relname::text, tn.nspname::text, t.relname::text
           FROM pg_constraint con
           JOIN pg_class f ON f.oid = con.conrelid
           JOIN pg_namespace fn ON fn.oid = f.relnamespace
           JOIN pg_class t ON t.oid = con.confrelid
           JOIN pg_namespace tn ON tn.oid = t.relnamespace
          WHERE con.contype = 'f' AND con.conrelid <> con.confrelid",
    )
    .fetch_all(&mut *conn)
    .await?;
    let tables: BTreeSet<TenantTable> = tables
        .into_iter()
        .map(|(schema, name)| TenantTable { schema, name })
        .collect();
    let mut referenced_by: BTreeMap<&TenantTable, BTreeSet<&TenantTable>> =
        tables.iter().map(|t| (t, BTreeSet::new())).collect();
    for (from_schema, from, to_schema, to) in &references {
        let from = TenantTable {
            schema: from_schema.clone(),
            name: from.clone(),
        };
        let to = TenantTable {
            schema: to_schema.clone(),
            name: to.clone(),
        };
        if let (Some(from), Some(to)) = (tables.get(&from), tables.get(&to)) {
            referenced_by.get_mut(to).expect("every table").insert(from);
        }
    }
    // Kahn's order: a table is ready once every table that references it has been placed.
    let mut order = Vec::with_capacity(tables.len());
    while !referenced_by.is_empty() {
        let ready: Vec<&TenantTable> = referenced_by
            .iter()
            .filter(|(_, by)| by.is_empty())
            .map(|(table, _)| *table)
            .collect();
        if ready.is_empty() {
            let cycle: Vec<String> = referenced_by.keys().map(|t| t.qualified()).collect();
            return Err(RepoError::Delegated {
                what: "tenant tables",
                detail: format!(
                    "these tables reference each other in a cycle: {}",
                    cycle.join(", ")
                ),
            });
        }
        for table in ready {
            referenced_by.remove(table);
            for by in referenced_by.values_mut() {
                by.remove(table);
            }
            order.push(table.clone());
        }
    }
    Ok(order)
}

/// The mark a migration puts on a column or table (`COMMENT ON … IS 'omit from export: why'`)
/// that a whole-workspace export must leave out: credentials, and copies of what it holds.
const OMIT_MARK: &str = "omit from export:";

/// What an export leaves out of the tenant tables: whole tables, and columns of the others,
/// each with the reason its mark gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Omissions {
    pub tables: BTreeMap<TenantTable, String>,
    pub columns: BTreeMap<TenantTable, Vec<(String, String)>>,
}

impl Omissions {
    pub fn columns_of(&self, table: &TenantTable) -> Vec<String> {
        self.columns
            .get(table)
            .map(|columns| columns.iter().map(|(name, _)| name.clone()).collect())
            .unwrap_or_default()
    }
}

/// Reads the omit marks on tenant tables and their columns.
pub(crate) async fn omissions(conn: &mut PgConnection) -> Result<Omissions, RepoError> {
    let marked: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT n.nspname::text, c.relname::text, NULL::text, obj_description(c.oid, 'pg_class')
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND starts_with(obj_description(c.oid, 'pg_class'), $1)
         UNION ALL
         SELECT n.nspname::text, c.relname::text, a.attname::text, col_description(c.oid, a.attnum)
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
            AND starts_with(col_description(c.oid, a.attnum), $1)",
    )
    .bind(OMIT_MARK)
    .fetch_all(&mut *conn)
    .await?;
    let mut omissions = Omissions::default();
    for (schema, name, column, comment) in marked {
        let table = TenantTable { schema, name };
        let why = comment[OMIT_MARK.len()..].trim().to_owned();
        match column {
            None => {
                omissions.tables.insert(table, why);
            }
            Some(column) => omissions
                .columns
                .entry(table)
                .or_default()
                .push((column, why)),
        }
    }
    Ok(omissions)
}
