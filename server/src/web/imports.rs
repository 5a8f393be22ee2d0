//! The product import's routes outside the app: the CSV upload, which takes a larger body
//! than any form (its own limit, see `headers::limit_body`), and the template file.

use std::sync::Arc;

use app::api::imports::{FileProblem, MAX_FILE_BYTES};
use app::ssr::imports::{preview_upload, UploadRefused};
use app::ssr::{RequestContext, Services, Site};
use axum::extract::Multipart;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use domain::Role;

use super::html::{html_page, not_found, plain_page, unavailable};

pub(super) const UPLOAD_PATH: &str = "/products/import/upload";
pub(super) const TEMPLATE_PATH: &str = "/products/import/template.csv";
/// The file and the little a multipart form wraps around it.
pub(super) const UPLOAD_BODY_LIMIT: usize = MAX_FILE_BYTES + 64 * 1024;

const IMPORT_PAGE: &str = "/products/import";

/// `POST /products/import/upload`: reads the file (a multipart form's `file` field), keeps
/// it as a preview and sends the browser to it; a file that cannot be imported at all sends
/// it back to the import page with the reason. Nothing else is written either way.
pub(super) async fn upload(
    Extension(services): Extension<Services>,
    Extension(ctx): Extension<Arc<RequestContext>>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (Site::Workspace(tenant), Some(scope)) = (&ctx.site, &ctx.scope) else {
        return match ctx.site {
            Site::Workspace(_) => Redirect::to("/login").into_response(),
            _ => not_found("There is nothing at this address."),
        };
    };
    if !scope.member().role.at_least(Role::Admin) {
        return (
            StatusCode::FORBIDDEN,
            Html(plain_page(
                "Not available",
                "Importing products is for the workspace's admins and owners.",
            )),
        )
            .into_response();
    }
    let Ok(mut multipart) = multipart else {
        return unreadable();
    };
    let mut file = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or_default().to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes)),
                    Err(_) => return unreadable(),
                }
            }
            Ok(Some(_)) => continue,
            Ok(None) => break,
            Err(_) => return unreadable(),
        }
    }
    let problem = match file {
        None => FileProblem::NoFile,
        Some((name, bytes)) if name.is_empty() && bytes.is_empty() => FileProblem::NoFile,
        Some((_, bytes)) if bytes.len() > MAX_FILE_BYTES => FileProblem::TooLarge,
        Some((name, bytes)) => {
            let name = if name.is_empty() { "upload.csv" } else { &name };
            match preview_upload(&services.db, scope, tenant.currency(), name, &bytes).await {
                Ok(id) => return Redirect::to(&format!("{IMPORT_PAGE}/{id}")).into_response(),
                Err(UploadRefused::File(problem)) => problem,
                Err(UploadRefused::Repo(db::RepoError::Forbidden)) => {
                    return StatusCode::FORBIDDEN.into_response()
                }
                Err(UploadRefused::Repo(err)) => {
                    tracing::error!(request_id = %ctx.request_id, tenant = %tenant.id(), error = %err, "import preview failed");
                    return unavailable();
                }
            }
        }
    };
    tracing::info!(request_id = %ctx.request_id, tenant = %tenant.id(), problem = ?problem, "import file refused");
    back_with(&problem)
}

/// Back to the import page, which words the problem (the address carries a code, never the
/// file's text).
fn back_with(problem: &FileProblem) -> Response {
    let (code, detail) = problem.to_query();
    let detail: String = detail
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b',' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    Redirect::to(&format!("{IMPORT_PAGE}?problem={code}&detail={detail}")).into_response()
}

fn unreadable() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(plain_page(
            "Upload not readable",
            "The upload could not be read. Choose the file again on the import page.",
        )),
    )
        .into_response()
}

/// The answer to an upload over the limit: a page that says so, with the way back.
pub(super) fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        Html(html_page(
            "File too large",
            &format!(
                "<p>{}</p><p><a href=\"{IMPORT_PAGE}\">Back to the import page</a></p>",
                FileProblem::TooLarge.message()
            ),
        )),
    )
        .into_response()
}

/// `GET /products/import/template.csv`: the columns, with two example lines.
pub(super) async fn template() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"stockroom-products-template.csv\"",
            ),
        ],
        "sku,name,price,stock,description\r\n\
         MUG-BLUE,\"Stoneware mug, blue\",12.50,24,350 ml\r\n\
         TEE-M,\"Organic cotton tee, M\",22.00,0,\r\n",
    )
        .into_response()
}
