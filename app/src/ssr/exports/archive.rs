//! The whole-workspace archive: one `.tar.gz` holding, under a folder named after the
//! workspace and the day, a file per tenant table (`tables/<schema>.<table>.ndjson`, one JSON
//! object per row, the columns the schema marks as credentials left out), a `manifest.json`
//! (schema version, and per file its table, row count, size and SHA-256) and a README.
//!
//! Every table is read from one snapshot of the workspace, through the owner's scope, into a
//! temporary file of its own (a tar entry states its size before its bytes), so no table's
//! rows are held in memory; compressing runs on the blocking pool once the snapshot is closed.
//! The compressed archive itself is held in memory and stored in the job's row, as CSV exports
//! are.

use std::io::{BufWriter, Seek, SeekFrom, Write};

use db::tenant::exports::{self, ExportTable, WorkspaceSnapshot};
use db::{Db, Tenant, TenantScope};
use domain::ExportId;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{timestamp, ExportError};

/// Rows fetched from the snapshot at a time; progress is recorded after each fetch.
const ROWS_PER_FETCH: u32 = 1000;

const README: &str = "\
This archive holds every record of one Stockroom workspace, as it was at the time written in
manifest.json.

tables/  one file per table, one record per line, each a JSON object (NDJSON) whose keys are
         the table's columns. Credentials (password hashes, token and link digests, sign-in
         sessions) are never exported; manifest.json names what was left out and why.
manifest.json  the schema version the records follow, and for each file its table, its number
         of records, its size and its SHA-256 digest, to check that nothing was lost or changed.
";

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    format_version: u32,
    workspace: Workspace<'a>,
    schema_version: i64,
    created_at: String,
    files: Vec<FileEntry>,
    omitted_tables: Vec<Omitted>,
}

#[derive(Serialize)]
struct Workspace<'a> {
    id: String,
    slug: &'a str,
    name: &'a str,
}

#[derive(Clone, Serialize)]
struct FileEntry {
    path: String,
    table: String,
    rows: u64,
    bytes: u64,
    sha256: String,
    omitted_columns: Vec<Omitted>,
}

#[derive(Clone, Serialize)]
struct Omitted {
    name: String,
    why: String,
}

type Archive = tar::Builder<GzEncoder<Vec<u8>>>;

/// Writes the archive of the scope's workspace (its owner's scope) and returns its rows in
/// all and its bytes. The snapshot stays open only while the rows are read into temporary
/// files (a long-open snapshot holds back vacuum for every workspace); compressing them comes
/// after it is closed.
pub(super) async fn workspace_archive(
    db: &Db,
    scope: &TenantScope,
    job: ExportId,
    tenant: &Tenant,
) -> Result<(i64, Vec<u8>), ExportError> {
    let created = OffsetDateTime::now_utc();
    let folder = format!("{}-{}", tenant.slug(), created.date());
    let mut snapshot = WorkspaceSnapshot::open(db, scope).await?;
    let spooled = spool_tables(db, scope, job, &folder, &mut snapshot).await;
    let omitted_tables = snapshot
        .omitted()
        .iter()
        .map(|o| Omitted {
            name: o.table.qualified(),
            why: o.why.clone(),
        })
        .collect();
    snapshot.close();
    let (rows, spooled) = spooled?;
    let manifest = Manifest {
        format: "stockroom-workspace-export",
        format_version: 1,
        workspace: Workspace {
            id: tenant.id().to_string(),
            slug: tenant.slug().as_str(),
            name: tenant.name(),
        },
        schema_version: WorkspaceSnapshot::schema_version(),
        created_at: timestamp(created),
        files: spooled.iter().map(|(entry, _)| entry.clone()).collect(),
        omitted_tables,
    };
    let manifest = serde_json::to_vec_pretty(&manifest).map_err(ExportError::Manifest)?;
    let bytes = tokio::task::spawn_blocking(move || pack(&folder, spooled, &manifest, created))
        .await
        .map_err(|e| ExportError::Buffer(e.to_string()))??;
    Ok((rows, bytes))
}

/// Reads every table of the snapshot into a temporary file of its own, recording progress
/// as it goes; returns the rows in all and each file with its manifest entry.
async fn spool_tables(
    db: &Db,
    scope: &TenantScope,
    job: ExportId,
    folder: &str,
    snapshot: &mut WorkspaceSnapshot,
) -> Result<(i64, Vec<(FileEntry, std::fs::File)>), ExportError> {
    let total: i64 = snapshot.tables().iter().map(|t| t.rows).sum();
    exports::record_progress(db, scope, job, 0, total).await?;
    let mut spooled = Vec::new();
    let mut done = 0i64;
    for index in 0..snapshot.tables().len() {
        let table = snapshot.tables()[index].clone();
        let path = format!("{folder}/tables/{}.ndjson", table.table.qualified());
        let mut out = Hashed::new(tempfile::tempfile()?);
        snapshot.start(index).await?;
        loop {
            let rows = snapshot.fetch(ROWS_PER_FETCH).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                out.write_all(row.as_bytes())?;
                out.write_all(b"\n")?;
            }
            out.rows += rows.len() as u64;
            done += rows.len() as i64;
            exports::record_progress(db, scope, job, done, total.max(done)).await?;
        }
        let (file, rows, bytes, sha256) = out.finish()?;
        spooled.push((file_entry(&table, path, rows, bytes, sha256), file));
    }
    Ok((done, spooled))
}

/// The .tar.gz: every spooled table, then the manifest and the README. Blocking (file reads
/// and compression): run on the blocking pool.
fn pack(
    folder: &str,
    spooled: Vec<(FileEntry, std::fs::File)>,
    manifest: &[u8],
    created: OffsetDateTime,
) -> Result<Vec<u8>, std::io::Error> {
    let mut archive = Archive::new(GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (entry, mut file) in spooled {
        file.seek(SeekFrom::Start(0))?;
        archive.append_data(&mut header(entry.bytes, created), &entry.path, file)?;
    }
    append_bytes(
        &mut archive,
        &format!("{folder}/manifest.json"),
        manifest,
        created,
    )?;
    append_bytes(
        &mut archive,
        &format!("{folder}/README.txt"),
        README.as_bytes(),
        created,
    )?;
    archive.into_inner()?.finish()
}

fn file_entry(
    table: &ExportTable,
    path: String,
    rows: u64,
    bytes: u64,
    sha256: String,
) -> FileEntry {
    FileEntry {
        path,
        table: table.table.qualified(),
        rows,
        bytes,
        sha256,
        omitted_columns: table
            .omitted_columns
            .iter()
            .map(|(column, why)| Omitted {
                name: column.clone(),
                why: why.clone(),
            })
            .collect(),
    }
}

fn header(size: u64, created: OffsetDateTime) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(created.unix_timestamp().max(0) as u64);
    header
}

fn append_bytes(
    archive: &mut Archive,
    path: &str,
    bytes: &[u8],
    created: OffsetDateTime,
) -> std::io::Result<()> {
    archive.append_data(&mut header(bytes.len() as u64, created), path, bytes)
}

/// A table's file being written, with its digest and counts kept as it grows.
struct Hashed {
    file: BufWriter<std::fs::File>,
    digest: Sha256,
    bytes: u64,
    rows: u64,
}

impl Hashed {
    fn new(file: std::fs::File) -> Self {
        Self {
            file: BufWriter::new(file),
            digest: Sha256::new(),
            bytes: 0,
            rows: 0,
        }
    }

    fn finish(self) -> Result<(std::fs::File, u64, u64, String), ExportError> {
        let file = self
            .file
            .into_inner()
            .map_err(|e| ExportError::Buffer(e.to_string()))?;
        let digest = hex::encode(self.digest.finalize());
        Ok((file, self.rows, self.bytes, digest))
    }
}

impl Write for Hashed {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(buf)?;
        self.digest.update(&buf[..written]);
        self.bytes += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
