//! Product import over HTTP: upload, preview (which writes nothing), apply, bad files, the
//! upload's own body limit, who may import, and imports that stay in their workspace.

use app::api::imports::{ApplyImport, LoadImport};
use app::api::products::ListProducts;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::support::{error_of, eventually_async, location, TestApp};

const GOOD: &str = "sku,name,price,stock,description\n\
                    MUG-1,\"Mug, blue\",12.50,10,Stoneware\n\
                    TEE-M,Tee,20,0,\n";

async fn text(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

/// The import id an accepted upload redirected to.
fn import_id(response: &reqwest::Response) -> String {
    let to =
        location(response).unwrap_or_else(|| panic!("the upload redirects: {}", response.status()));
    to.strip_prefix("/products/import/")
        .unwrap_or_else(|| panic!("to a preview: {to}"))
        .to_owned()
}

async fn products_json(app: &TestApp, slug: &str, cookie: &str) -> String {
    text(
        app.call::<ListProducts>(Some(slug), &[], Some(cookie), HeaderMap::new())
            .await,
    )
    .await
}

async fn load(app: &TestApp, slug: &str, cookie: &str, id: &str) -> reqwest::Response {
    app.call::<LoadImport>(Some(slug), &[("id", id)], Some(cookie), HeaderMap::new())
        .await
}

#[tokio::test]
async fn an_upload_is_previewed_then_applied_once() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let before = products_json(&app, "alpha", &a).await;

    let upload = app
        .upload_import("alpha", Some(&a), "catalogue.csv", GOOD.as_bytes())
        .await;
    assert_eq!(upload.status(), StatusCode::SEE_OTHER);
    let id = import_id(&upload);
    assert_eq!(
        products_json(&app, "alpha", &a).await,
        before,
        "the preview wrote products"
    );
    let preview = text(load(&app, "alpha", &a, &id).await).await;
    assert!(
        preview.contains("\"state\":\"Preview\"") && preview.contains("\"rows_new\":2"),
        "{preview}"
    );
    let page = app
        .get(Some("alpha"), &format!("/products/import/{id}"), Some(&a))
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = text(page).await;
    assert!(
        html.contains("Mug, blue") && html.contains("Import 2 products"),
        "{html}"
    );

    let apply = app
        .call::<ApplyImport>(Some("alpha"), &[("id", &id)], Some(&a), HeaderMap::new())
        .await;
    assert_eq!(location(&apply), Some(format!("/products/import/{id}")));
    let applied = text(load(&app, "alpha", &a, &id).await).await;
    assert!(
        applied.contains("\"state\":\"Done\"") && applied.contains("\"created\":2"),
        "{applied}"
    );
    let after = products_json(&app, "alpha", &a).await;
    assert!(
        after.contains("MUG-1") && after.contains("USD 12.50"),
        "{after}"
    );

    // Applying again, or the same file again, changes nothing.
    app.call::<ApplyImport>(Some("alpha"), &[("id", &id)], Some(&a), HeaderMap::new())
        .await;
    let again = import_id(
        &app.upload_import("alpha", Some(&a), "catalogue.csv", GOOD.as_bytes())
            .await,
    );
    assert!(text(load(&app, "alpha", &a, &again).await)
        .await
        .contains("\"rows_unchanged\":2"));
    app.call::<ApplyImport>(Some("alpha"), &[("id", &again)], Some(&a), HeaderMap::new())
        .await;
    assert_eq!(products_json(&app, "alpha", &a).await, after);
}

#[tokio::test]
async fn bad_files_get_a_clear_message_and_write_nothing() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let before = products_json(&app, "alpha", &a).await;
    // Refused whole: back to the import page, which says why.
    for (bytes, code) in [
        (
            &b"sku,name,price,stock\nMUG,M\xe9lange,1,1\n"[..],
            "not_utf8",
        ),
        (&b"sku,name,cost\nMUG,Mug,1\n"[..], "missing_columns"),
        (&b"sku;name;price;stock\nMUG;Mug;1;1\n"[..], "semicolons"),
        (&b""[..], "empty"),
    ] {
        let response = app.upload_import("alpha", Some(&a), "bad.csv", bytes).await;
        let to = location(&response).unwrap_or_default();
        assert!(
            to.starts_with(&format!("/products/import?problem={code}")),
            "{code}: {to}"
        );
        let page = text(app.get(Some("alpha"), &to, Some(&a)).await).await;
        assert!(
            page.contains("data-testid=\"import-problem\""),
            "{code}: {page}"
        );
    }
    // Bad lines: a preview that names each, and that cannot be applied.
    let lines = "sku,name,price,stock\n\
                 A-1,Comma,\"12,50\",1\n\
                 A-2,Negative,1,-3\n\
                 A-3,Fine,1,1\n\
                 A-3,Again,1,1\n";
    let id = import_id(
        &app.upload_import("alpha", Some(&a), "lines.csv", lines.as_bytes())
            .await,
    );
    let preview = text(load(&app, "alpha", &a, &id).await).await;
    assert!(preview.contains("\"rows_invalid\":3"), "{preview}");
    assert!(
        preview.contains("decimal point")
            && preview.contains("cannot be negative")
            && preview.contains("also on line 4"),
        "{preview}"
    );
    let apply = app
        .call::<ApplyImport>(Some("alpha"), &[("id", &id)], Some(&a), HeaderMap::new())
        .await;
    assert_eq!(apply.status(), StatusCode::FORBIDDEN);
    assert!(error_of(apply)
        .await
        .to_string()
        .contains("nothing was imported"));
    // Beyond the upload's own limit (10 MB): 413, with a page that says so.
    let garbage: Vec<u8> = (0..11 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let too_big = app
        .upload_import("alpha", Some(&a), "huge.csv", &garbage)
        .await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text(too_big).await.contains("larger than 10 MB"));
    // Within it, garbage is not UTF-8 text.
    let response = app
        .upload_import("alpha", Some(&a), "noise.bin", &garbage[..2 * 1024 * 1024])
        .await;
    let to = location(&response).unwrap_or_default();
    assert!(
        to.contains("problem=not_utf8"),
        "{} {to}",
        response.status()
    );
    assert_eq!(products_json(&app, "alpha", &a).await, before);
}

#[tokio::test]
async fn only_managers_of_the_workspace_import_into_it() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    let b = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let member = app
        .add_member(
            "alpha",
            "mo@alpha.test",
            domain::Role::Member,
            "member-password-1",
        )
        .await;
    let theirs = import_id(
        &app.upload_import("bravo", Some(&b), "b.csv", GOOD.as_bytes())
            .await,
    );

    // A's session, A's host, B's import id: not found, and B's import is untouched.
    assert_eq!(
        load(&app, "alpha", &a, &theirs).await.status(),
        StatusCode::NOT_FOUND
    );
    let apply = app
        .call::<ApplyImport>(
            Some("alpha"),
            &[("id", &theirs)],
            Some(&a),
            HeaderMap::new(),
        )
        .await;
    assert_eq!(apply.status(), StatusCode::NOT_FOUND);
    let page = app
        .get(
            Some("alpha"),
            &format!("/products/import/{theirs}"),
            Some(&a),
        )
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(text(load(&app, "bravo", &b, &theirs).await)
        .await
        .contains("\"state\":\"Preview\""));
    // A's session on B's host is refused before anything is read.
    let cross = app
        .upload_import("bravo", Some(&a), "a.csv", GOOD.as_bytes())
        .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(!products_json(&app, "bravo", &b).await.contains("MUG-1"));
    // A member reads products but does not import; nobody signed out does.
    let by_member = app
        .upload_import("alpha", Some(&member), "m.csv", GOOD.as_bytes())
        .await;
    assert_eq!(by_member.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        load(&app, "alpha", &member, &theirs).await.status(),
        StatusCode::FORBIDDEN
    );
    let anonymous = app
        .upload_import("alpha", None, "x.csv", GOOD.as_bytes())
        .await;
    assert_eq!(location(&anonymous).as_deref(), Some("/login"));
    assert!(!products_json(&app, "alpha", &a).await.contains("MUG-1"));
}

#[tokio::test]
async fn a_large_import_runs_in_the_background_and_reports_its_progress() {
    let app = TestApp::spawn().await;
    let a = app
        .register("alpha", "ann@alpha.test", "alpha-password-1")
        .await;
    app.set_plan("alpha", "ENTERPRISE").await;
    let mut file = String::from("sku,name,price,stock\n");
    for n in 0..3000 {
        file.push_str(&format!(
            "BULK-{n:05},Bulk item {n:05},{}.99,{}\n",
            n % 50,
            n % 7
        ));
    }
    let id = import_id(
        &app.upload_import("alpha", Some(&a), "bulk.csv", file.as_bytes())
            .await,
    );
    app.call::<ApplyImport>(Some("alpha"), &[("id", &id)], Some(&a), HeaderMap::new())
        .await;
    let done = eventually_async(|| async {
        let view = text(load(&app, "alpha", &a, &id).await).await;
        view.contains("\"state\":\"Done\"").then_some(view)
    })
    .await;
    assert!(done.contains("\"created\":3000"), "{done}");
    let last = text(
        app.call::<app::api::picker::SearchProducts>(
            Some("alpha"),
            &[("search", "BULK-02999")],
            Some(&a),
            HeaderMap::new(),
        )
        .await,
    )
    .await;
    assert!(last.contains("Bulk item 02999"), "{last}");
}
