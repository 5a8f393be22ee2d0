//! The whole-workspace export: every tenant table (one made only by this test included) in an
//! archive whose manifest matches its files, nothing of another workspace and no credential
//! in it, for the workspace's owners only, re-imported equal after the workspace is purged,
//! and discarded when it expires.

use std::collections::BTreeMap;
use std::io::Read;

use app::api::exports::RequestExport;
use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};

use crate::support::{error_of, eventually_async, tenant_command, TestApp};

const PASSWORD: &str = "alpha-password-1";

async fn ask(app: &TestApp, slug: &str, cookie: &str) -> reqwest::Response {
    app.call::<RequestExport>(
        Some(slug),
        &[("kind", "workspace")],
        Some(cookie),
        HeaderMap::new(),
    )
    .await
}

/// Asks for the archive as `cookie` and waits until it is ready; returns its download path.
async fn export_workspace(app: &TestApp, slug: &str, cookie: &str) -> String {
    assert_eq!(ask(app, slug, cookie).await.status(), StatusCode::OK);
    eventually_async(|| async {
        app.exports(slug, cookie)
            .await
            .exports
            .into_iter()
            .find(|e| e.kind == "Whole workspace" && e.done)
            .and_then(|e| e.download)
    })
    .await
}

/// The archive's files by their path inside its folder.
fn unpack(archive: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let (_, inside) = path.split_once('/').expect("under the archive's folder");
        let inside = inside.to_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        files.insert(inside, bytes);
    }
    files
}

fn lines(bytes: &[u8]) -> Vec<String> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// An order-independent checksum of a table's rows.
fn checksum(rows: &[String]) -> String {
    let mut sorted = rows.to_vec();
    sorted.sort();
    let mut digest = Sha256::new();
    for row in &sorted {
        digest.update(row.as_bytes());
        digest.update(b"\n");
    }
    format!("{:x}", digest.finalize())
}

fn omitted_columns(file: &serde_json::Value) -> Vec<String> {
    file["omitted_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_owner_exports_everything_and_it_comes_back_equal_after_the_purge() {
    let app = TestApp::spawn().await;
    let alpha = app.register("alpha", "ann@alpha.test", PASSWORD).await;
    let bravo = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    for (slug, cookie) in [("alpha", &alpha), ("bravo", &bravo)] {
        let product = app
            .create_product(slug, cookie, "MUG-1", &format!("Mug of {slug}"), "10")
            .await;
        app.place_order(slug, cookie, &product, "2").await;
    }
    app.add_member(
        "alpha",
        "max@alpha.test",
        domain::Role::Admin,
        "max-password-1",
    )
    .await;
    // A tenant table that only this test creates, as a later migration would: exported with
    // no change to the export.
    app.database
        .run_as_owner(&[
            "CREATE TABLE test_notes (
                 tenant_id uuid NOT NULL REFERENCES tenants (id),
                 id uuid NOT NULL DEFAULT gen_random_uuid(),
                 body text NOT NULL,
                 PRIMARY KEY (tenant_id, id))",
            "INSERT INTO test_notes (tenant_id, body)
                 SELECT id, 'a note of ' || slug FROM tenants",
            "ALTER TABLE test_notes ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE test_notes FORCE ROW LEVEL SECURITY",
            "CREATE POLICY tenant_isolation ON test_notes
                 USING (tenant_id = (SELECT app_current_tenant()))
                 WITH CHECK (tenant_id = (SELECT app_current_tenant()))",
            "GRANT SELECT ON test_notes TO stockroom_app",
        ])
        .await;
    let tenant = app.tenant("alpha").await;
    let id = tenant.id().as_uuid();

    let download = export_workspace(&app, "alpha", &alpha).await;
    let response = app.get(Some("alpha"), &download, Some(&alpha)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/gzip");
    let disposition = response.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("alpha-workspace-") && disposition.ends_with(".tar.gz\""),
        "{disposition}"
    );
    let files = unpack(&response.bytes().await.unwrap());
    assert!(files.contains_key("README.txt"));
    let manifest: serde_json::Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["workspace"]["slug"], "alpha");
    assert_eq!(manifest["workspace"]["id"], id.to_string());
    assert_eq!(
        manifest["schema_version"].as_i64().unwrap(),
        db::MIGRATOR.iter().map(|m| m.version).max().unwrap()
    );
    assert!(manifest["omitted_tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "tower_sessions.session"));

    // The manifest matches the files, every row is alpha's, no credential is in any.
    let entries = manifest["files"].as_array().unwrap();
    let mut exported = Vec::new();
    for entry in entries {
        let path = entry["path"].as_str().unwrap();
        let (_, inside) = path.split_once('/').unwrap();
        let bytes = &files[inside];
        let rows = lines(bytes);
        assert_eq!(entry["rows"].as_u64().unwrap(), rows.len() as u64, "{path}");
        assert_eq!(
            entry["bytes"].as_u64().unwrap(),
            bytes.len() as u64,
            "{path}"
        );
        assert_eq!(
            entry["sha256"].as_str().unwrap(),
            format!("{:x}", Sha256::digest(bytes)),
            "{path}"
        );
        let omitted = omitted_columns(entry);
        for row in &rows {
            let row: serde_json::Value = serde_json::from_str(row).unwrap();
            assert_eq!(
                row["tenant_id"],
                id.to_string(),
                "{path}: another workspace's row"
            );
            for column in &omitted {
                assert!(row.get(column).is_none(), "{path}: {column} exported");
            }
        }
        exported.push((entry["table"].as_str().unwrap().to_owned(), omitted, rows));
    }
    let table = |name: &str| exported.iter().find(|(t, _, _)| t == name).unwrap();
    assert!(table("public.users")
        .1
        .contains(&"password_hash".to_owned()));
    assert_eq!(table("public.users").2.len(), 2, "the owner and the admin");
    assert_eq!(table("public.orders").2.len(), 1);
    assert_eq!(
        table("public.test_notes").2.len(),
        1,
        "the test's own table"
    );
    assert!(!table("public.test_notes").2[0].contains("bravo"));
    for bytes in files.values() {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("$argon2"), "a password hash was exported");
        assert!(!text.contains("bravo"), "bravo's data was exported");
    }
    // As the database holds them now, but for the export's own job, which finished since.
    for (table, omitted, rows) in &exported {
        if table != "public.export_jobs" {
            let now = app.database.table_rows(id, table, omitted).await;
            assert_eq!(checksum(rows), checksum(&now), "{table}");
        }
    }

    // Closed and purged: nothing of alpha is left.
    app.database.set_tenant_status("alpha", "suspended").await;
    let purged = tenant_command(
        &app.database,
        &["purge", "alpha", "--reason", "export round trip"],
    );
    assert!(purged.status.success(), "{purged:?}");
    for (table, omitted, _) in &exported {
        assert!(app.database.table_rows(id, table, omitted).await.is_empty());
    }

    // Re-imported into an empty database, parents before the tables that reference them:
    // every table equal to the export by checksum.
    let scratch = db::testing::fresh_database().await;
    scratch
        .run_as_owner(&["CREATE TABLE test_notes (
                 tenant_id uuid NOT NULL REFERENCES tenants (id),
                 id uuid NOT NULL DEFAULT gen_random_uuid(),
                 body text NOT NULL,
                 PRIMARY KEY (tenant_id, id))"])
        .await;
    scratch.import_workspace(id, "alpha", tenant.name()).await;
    for (table, omitted, rows) in exported.iter().rev() {
        if !rows.is_empty() {
            scratch.import_rows(id, table, omitted, rows).await;
        }
    }
    for (table, omitted, rows) in &exported {
        let imported = scratch.table_rows(id, table, omitted).await;
        assert_eq!(imported.len(), rows.len(), "{table}");
        assert_eq!(checksum(&imported), checksum(rows), "{table}");
    }
}

#[tokio::test]
async fn only_owners_export_the_workspace_and_a_file_expires() {
    let app = TestApp::spawn().await;
    let alpha = app.register("alpha", "ann@alpha.test", PASSWORD).await;
    let bravo = app
        .register("bravo", "bob@bravo.test", "bravo-password-1")
        .await;
    let admin = app
        .add_member(
            "alpha",
            "max@alpha.test",
            domain::Role::Admin,
            "max-password-1",
        )
        .await;
    let member = app
        .add_member(
            "alpha",
            "mia@alpha.test",
            domain::Role::Member,
            "mia-password-1",
        )
        .await;
    // On the FREE plan, which has no CSV exports: the workspace's own data is not a feature.
    assert!(app.exports("alpha", &alpha).await.locked.is_some());
    assert!(app.exports("alpha", &alpha).await.owner);

    for cookie in [&admin, &member] {
        let refused = ask(&app, "alpha", cookie).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        error_of(refused).await;
    }
    let download = export_workspace(&app, "alpha", &alpha).await;
    // The admin does not see it listed, and may not take it.
    let listed = app.exports("alpha", &admin).await;
    assert!(!listed.owner);
    assert!(listed.exports.iter().all(|e| e.kind != "Whole workspace"));
    let response = app.get(Some("alpha"), &download, Some(&admin)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Another workspace's owner: on their own host it does not exist; on alpha's, their
    // session is nobody.
    let response = app.get(Some("bravo"), &download, Some(&bravo)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.text().await.unwrap();
    assert!(!body.contains("alpha"), "{body}");
    let response = app.get(Some("alpha"), &download, Some(&bravo)).await;
    assert_ne!(response.status(), StatusCode::OK);
    assert!(app.exports("bravo", &bravo).await.exports.is_empty());

    // Expired: refused with its own page, listed as expired, and its file discarded.
    let tenant = app.tenant("alpha").await;
    app.database.expire_exports(tenant.id().as_uuid()).await;
    let response = app.get(Some("alpha"), &download, Some(&alpha)).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response.text().await.unwrap().contains("expired"));
    let view = app.exports("alpha", &alpha).await;
    let row = view
        .exports
        .iter()
        .find(|e| e.kind == "Whole workspace")
        .unwrap();
    assert_eq!(row.status, "Expired");
    assert!(row.download.is_none());
    assert!(
        db::tenant::exports::discard_expired(&app.database.db)
            .await
            .unwrap()
            >= 1
    );
    assert_eq!(
        db::tenant::exports::discard_expired(&app.database.db)
            .await
            .unwrap(),
        0,
        "nothing left to discard"
    );
}
