//! Product imports from CSV (ADMIN and OWNER). The file itself is posted to the server's
//! upload route (a larger body than a form's; see `server::web`), which parses it and keeps
//! a preview; these functions show the preview and apply it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// The largest file the upload route takes.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The most product lines one file may have.
pub const MAX_FILE_ROWS: usize = 50_000;
/// Files with at most this many lines are applied within the request that asks; larger
/// ones by the background worker, with progress on screen.
pub const APPLY_HERE_MAX_ROWS: i32 = 2_000;
/// The columns a file must have, and the one it may have.
pub const REQUIRED_COLUMNS: [&str; 4] = ["sku", "name", "price", "stock"];
pub const OPTIONAL_COLUMNS: [&str; 2] = ["description", "currency"];

/// Why a whole file was refused before any line of it was kept. Travels in the address of
/// the import page after a refused upload (`?problem=…&detail=…`), as a code and not as
/// text, so the page words it and nothing a file says is shown as a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileProblem {
    NoFile,
    TooLarge,
    NotUtf8,
    Utf16,
    Empty,
    Semicolons,
    MissingColumns(Vec<String>),
    DuplicateColumn(String),
    Unreadable { line: u64 },
    NoRows,
    TooManyRows,
}

impl FileProblem {
    /// What the person is told.
    pub fn message(&self) -> String {
        match self {
            FileProblem::NoFile => "Choose a CSV file to upload.".into(),
            FileProblem::TooLarge => format!(
                "This file is larger than {} MB. Split it into smaller files.",
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            FileProblem::NotUtf8 => "This file is not UTF-8 text. In your spreadsheet, save it as \u{201c}CSV UTF-8\u{201d} and upload it again.".into(),
            FileProblem::Utf16 => "This file is UTF-16 (\u{201c}Unicode text\u{201d}). In your spreadsheet, save it as \u{201c}CSV UTF-8\u{201d} and upload it again.".into(),
            FileProblem::Empty => "This file is empty.".into(),
            FileProblem::Semicolons => "This file separates its columns with semicolons. Save it with commas (\u{201c}CSV UTF-8, comma-separated\u{201d}) and upload it again.".into(),
            FileProblem::MissingColumns(columns) => format!(
                "The first line of the file must name the columns {}; it has no {}.",
                REQUIRED_COLUMNS.join(", "),
                columns.join(", ")
            ),
            FileProblem::DuplicateColumn(column) => {
                format!("The column \u{201c}{column}\u{201d} is named twice in the first line.")
            }
            FileProblem::Unreadable { line } => format!(
                "Line {line} of this file cannot be read as CSV. Check its quotes and upload it again."
            ),
            FileProblem::NoRows => "This file names its columns but has no products.".into(),
            FileProblem::TooManyRows => format!(
                "This file has more than {MAX_FILE_ROWS} products. Split it into smaller files."
            ),
        }
    }

    /// The code and detail for the import page's address.
    pub fn to_query(&self) -> (&'static str, String) {
        match self {
            FileProblem::NoFile => ("no_file", String::new()),
            FileProblem::TooLarge => ("too_large", String::new()),
            FileProblem::NotUtf8 => ("not_utf8", String::new()),
            FileProblem::Utf16 => ("utf16", String::new()),
            FileProblem::Empty => ("empty", String::new()),
            FileProblem::Semicolons => ("semicolons", String::new()),
            FileProblem::MissingColumns(columns) => ("missing_columns", columns.join(",")),
            FileProblem::DuplicateColumn(column) => ("duplicate_column", column.clone()),
            FileProblem::Unreadable { line } => ("unreadable", line.to_string()),
            FileProblem::NoRows => ("no_rows", String::new()),
            FileProblem::TooManyRows => ("too_many_rows", String::new()),
        }
    }

    /// The inverse of [`FileProblem::to_query`]; an unknown code (or a detail that could not
    /// have come from us) is no problem at all.
    pub fn from_query(code: &str, detail: &str) -> Option<Self> {
        Some(match code {
            "no_file" => FileProblem::NoFile,
            "too_large" => FileProblem::TooLarge,
            "not_utf8" => FileProblem::NotUtf8,
            "utf16" => FileProblem::Utf16,
            "empty" => FileProblem::Empty,
            "semicolons" => FileProblem::Semicolons,
            "missing_columns" => {
                let columns: Vec<String> = detail
                    .split(',')
                    .filter(|c| REQUIRED_COLUMNS.contains(c))
                    .map(str::to_owned)
                    .collect();
                if columns.is_empty() {
                    return None;
                }
                FileProblem::MissingColumns(columns)
            }
            "duplicate_column" => FileProblem::DuplicateColumn(
                detail
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(40)
                    .collect(),
            ),
            "unreadable" => FileProblem::Unreadable {
                line: detail.parse().ok()?,
            },
            "no_rows" => FileProblem::NoRows,
            "too_many_rows" => FileProblem::TooManyRows,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportState {
    Preview,
    Waiting,
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowView {
    pub line: i32,
    pub sku: String,
    pub name: String,
    pub price: String,
    pub stock: String,
    /// "New", "Update", "No change", "Error"; after applying: "Created", "Updated",
    /// "No change", "Not added".
    pub verdict: String,
    pub problem: Option<String>,
    pub is_problem: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportView {
    pub id: String,
    pub file_name: String,
    pub state: ImportState,
    pub uploaded: String,
    pub rows_total: i32,
    pub rows_invalid: i32,
    pub rows_new: i32,
    pub rows_update: i32,
    pub rows_unchanged: i32,
    /// Set when the plan's product limit leaves no room for some of the new products.
    pub limit_warning: Option<String>,
    /// 0–100 while applying.
    pub percent: u8,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub refused: i32,
    pub refused_reason: Option<String>,
    pub error: Option<String>,
    pub rows: Vec<ImportRowView>,
    /// Pass as `after` for the next page of lines.
    pub next: Option<i32>,
}

/// Lines shown per page of a preview.
pub const ROWS_PAGE: i64 = 100;

#[cfg(feature = "ssr")]
fn import_id(raw: &str) -> Result<domain::ImportId, AppError> {
    uuid::Uuid::parse_str(raw.trim())
        .map(domain::ImportId::from_uuid)
        .map_err(|_| AppError::NotFound)
}

/// An import's preview or progress, and a page of its lines (all, or only those with a
/// problem). ADMIN and OWNER.
#[server(output = crate::codec::TextJson)]
pub async fn load_import(
    id: String,
    problems: Option<bool>,
    after: Option<i32>,
) -> Result<ImportView, AppError> {
    let call = crate::ssr::MemberCall::open()?;
    call.require(domain::Role::Admin)?;
    let id = import_id(&id)?;
    let (db, scope) = (call.db(), call.scope());
    let summary = call.run(db::tenant::imports::get(db, scope, id)).await?;
    let rows = call
        .run(db::tenant::imports::rows(
            db,
            scope,
            id,
            problems.unwrap_or(false),
            after.unwrap_or(0).max(0),
            ROWS_PAGE + 1,
        ))
        .await?;
    Ok(crate::ssr::imports::view_of(
        &summary,
        rows,
        call.currency(),
    ))
}

/// Applies a preview: within this request for a small file, else by the background worker
/// (the page then shows its progress). A file with error lines is refused and nothing of it
/// is written; applying an import again changes nothing. ADMIN and OWNER.
#[server(output = crate::codec::TextJson)]
pub async fn apply_import(id: String) -> Result<(), AppError> {
    let call = crate::ssr::MemberCall::open()?;
    call.require(domain::Role::Admin)?;
    let id = import_id(&id)?;
    crate::ssr::imports::apply(&call, id).await?;
    leptos_axum::redirect(&format!("/products/import/{id}"));
    Ok(())
}
