//! Keeping an uploaded file as a preview: each line with what it would do, nothing applied.

use std::collections::HashMap;

use domain::{ImportId, Role};
use uuid::Uuid;

use super::{ImportLine, Verdict};
use crate::tenant::products::ProductInput;
use crate::{Db, RepoError, TenantScope};

/// Previews older than this are cleared away when the workspace uploads its next file.
const KEEP_DAYS: i32 = 7;

/// Keeps an uploaded file's lines as a preview and says what each would do; writes no
/// product. ADMIN and OWNER.
pub async fn create_preview(
    db: &Db,
    scope: &TenantScope,
    file_name: &str,
    lines: &[ImportLine],
) -> Result<ImportId, RepoError> {
    scope.require(Role::Admin)?;
    let tenant = scope.tenant_id().as_uuid();
    let mut tx = scope.begin(db).await?;
    sqlx::query!(
        "DELETE FROM product_imports
          WHERE tenant_id = $1 AND created_at < now() - make_interval(days => $2)
            AND status NOT IN ('queued', 'running')",
        tenant,
        KEEP_DAYS
    )
    .execute(&mut *tx)
    .await?;
    let skus: Vec<&str> = lines
        .iter()
        .filter_map(|line| match line {
            ImportLine::Product { input, .. } => Some(input.sku.as_str()),
            ImportLine::Invalid { .. } => None,
        })
        .collect();
    let existing: HashMap<String, (String, String, i64, i32)> = sqlx::query!(
        "SELECT sku, name, description, price_minor, stock FROM products WHERE tenant_id = $1 AND sku = ANY($2::text[])",
        tenant,
        &skus as &[&str]
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.sku, (r.name, r.description, r.price_minor, r.stock)))
    .collect();

    let mut rows = PreviewRows::default();
    for line in lines {
        match line {
            ImportLine::Product { line_no, input } => {
                let verdict = match existing.get(input.sku.as_str()) {
                    None => Verdict::New,
                    Some((name, description, price, stock))
                        if name == input.name.as_str()
                            && description == input.description.as_str()
                            && *price == input.price.minor()
                            && *stock == input.stock =>
                    {
                        Verdict::Unchanged
                    }
                    Some(_) => Verdict::Update,
                };
                rows.push_product(*line_no, input, verdict);
            }
            ImportLine::Invalid {
                line_no,
                sku,
                name,
                problem,
            } => rows.push_error(*line_no, sku, name, problem),
        }
    }
    let id = Uuid::new_v4();
    let count = |v: Verdict| rows.verdicts.iter().filter(|x| **x == v.as_str()).count() as i32;
    sqlx::query!(
        "INSERT INTO product_imports
             (tenant_id, id, file_name, uploaded_by, rows_total, rows_invalid, rows_new, rows_update, rows_unchanged)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tenant,
        id,
        file_name,
        scope.member().user_id.as_uuid(),
        lines.len() as i32,
        count(Verdict::Error),
        count(Verdict::New),
        count(Verdict::Update),
        count(Verdict::Unchanged)
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO product_import_rows
             (tenant_id, import_id, line_no, sku, name, description, price_minor, stock, verdict, problem)
         SELECT $1, $2, * FROM unnest($3::int4[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int4[], $9::text[], $10::text[])",
        tenant,
        id,
        &rows.line_nos,
        &rows.skus as &[&str],
        &rows.names as &[&str],
        &rows.descriptions as &[&str],
        &rows.prices as &[Option<i64>],
        &rows.stocks as &[Option<i32>],
        &rows.verdicts as &[&str],
        &rows.problems as &[Option<&str>]
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ImportId::from_uuid(id))
}

/// The preview's columns, one array each, for a single `unnest` insert.
#[derive(Default)]
struct PreviewRows<'a> {
    line_nos: Vec<i32>,
    skus: Vec<&'a str>,
    names: Vec<&'a str>,
    descriptions: Vec<&'a str>,
    prices: Vec<Option<i64>>,
    stocks: Vec<Option<i32>>,
    verdicts: Vec<&'static str>,
    problems: Vec<Option<&'a str>>,
}

impl<'a> PreviewRows<'a> {
    fn push_product(&mut self, line_no: i32, input: &'a ProductInput, verdict: Verdict) {
        self.line_nos.push(line_no);
        self.skus.push(input.sku.as_str());
        self.names.push(input.name.as_str());
        self.descriptions.push(input.description.as_str());
        self.prices.push(Some(input.price.minor()));
        self.stocks.push(Some(input.stock));
        self.verdicts.push(verdict.as_str());
        self.problems.push(None);
    }

    fn push_error(&mut self, line_no: i32, sku: &'a str, name: &'a str, problem: &'a str) {
        self.line_nos.push(line_no);
        self.skus.push(sku);
        self.names.push(name);
        self.descriptions.push("");
        self.prices.push(None);
        self.stocks.push(None);
        self.verdicts.push(Verdict::Error.as_str());
        self.problems.push(Some(problem));
    }
}
