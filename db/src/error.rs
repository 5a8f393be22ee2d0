/// What a repository call can fail with. Callers match on the first three; the last two are
/// logged with their detail at the edge and shown to people as a plain sentence.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("not found")]
    NotFound,
    /// The member's role does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// A uniqueness rule refused the write; `field` names the form field it belongs to.
    #[error("conflict on {field}")]
    Conflict { field: &'static str },
    /// A value the form sent names nothing that exists (an unknown plan or feature code).
    #[error("invalid {field}")]
    Invalid { field: &'static str },
    /// The tenant's plan does not include `feature`; `plans` are the names of the plans that
    /// do, cheapest first, for the upgrade prompt.
    #[error("plan required for {feature}")]
    PlanRequired { feature: String, plans: Vec<String> },
    /// The write would take the tenant past its limit.
    #[error("limit {limit:?} reached ({max})")]
    LimitReached {
        limit: domain::LimitKind,
        max: i64,
        unit: String,
    },
    /// A business rule refused the change; nothing was written.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// The database refused a value the request carried (SQLSTATE class 22: a control
    /// character, a timestamp out of range). The parsers should have caught it first; this
    /// is the backstop, so it still reads as the caller's mistake rather than a failure.
    #[error("bad input: {0}")]
    BadInput(#[source] sqlx::Error),
    /// Work the caller handed to a repository function, to run inside its transaction only
    /// once the rows it needs are checked and locked (hashing a new password, sending a
    /// link by mail), failed; nothing was written.
    #[error("{what} failed: {detail}")]
    Delegated { what: &'static str, detail: String },
    /// A statement waited longer than the lock timeout for a lock another transaction held;
    /// `at` is where in the repository it ran (which statement), for the log.
    #[error("lock wait timed out at {at}")]
    LockTimeout {
        at: &'static std::panic::Location<'static>,
    },
    /// A statement ran past the workspace's statement timeout and was cancelled; `at` is
    /// where in the repository it ran, for the log.
    #[error("statement timed out at {at}")]
    StatementTimeout {
        at: &'static std::panic::Location<'static>,
    },
    /// Every place in the workspace's share of the pool stayed taken for the whole wait: the
    /// workspace is busy with its own work (the other workspaces are not held up by it).
    #[error("connection share used up ({places} connections)")]
    ShareUsedUp { places: usize },
    /// The workspace's data is being placed in (or moved to) another database: it is served
    /// again in a moment. Also what a transaction meets in a database the workspace has left
    /// (`app_enter_tenant`), when this process had not yet heard of the move.
    #[error("the workspace is being moved between databases")]
    Moving,
    /// A write in a transaction PostgreSQL holds read-only: the workspace's writes are frozen
    /// while a move copies its data (`app_enter_tenant`), or a read API token's scope tried
    /// to write (the API refuses those before they start; this is the backstop).
    #[error("the transaction is read-only")]
    WritesFrozen,
    /// The workspace's own database lacks a migration this build expects: served again once
    /// `server migrate` has run.
    #[error("the workspace's database is being upgraded")]
    Behind,
    /// The database could not be reached in time; worth retrying later.
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Internal(#[source] sqlx::Error),
}

/// The business rules a change can run into. Every aggregate refuses through this one type
/// (inside [`RepoError::Refused`]), and the app words each case in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The workspace would be left without an owner.
    LastOwner,
    /// Only an owner may give, change or take away the owner role.
    OwnersOnly,
    /// The email already belongs to a member of this workspace.
    AlreadyMember,
    /// The invitation was accepted or revoked, or has expired.
    InvitationClosed,
    /// The person asked to act on themselves where that makes no sense (e.g. remove themselves
    /// through the team page, or transfer ownership to themselves).
    NotOnYourself,
    /// Too many exports are already waiting for this workspace.
    TooManyPendingExports,
    /// The export's file was kept for the configured time and is gone.
    ExportExpired,
    /// An archive of the whole workspace is already waiting or being written.
    ArchiveUnderWay,
    /// The workspace has a database of its own, which this operation does not reach yet.
    DedicatedDatabase,
    /// Provisioning places a new or empty workspace: this one holds products, orders or
    /// customers, whose place changes by a move.
    HoldsData,
    /// The workspace is already placed, or being provisioned, on another cluster.
    PlacedElsewhere { cluster: String },
    /// Another provisioning, move or purge of this workspace is running.
    PlacementUnderWay,
    /// A move of this workspace to `to` is under way (or keeps its source on hold): only the
    /// same move may be run, to finish it.
    MoveUnderWay { to: String },
    /// The workspace is suspended or closed: it is not moved.
    NotActive,
    /// The workspace already lives at `place`.
    AlreadyThere { place: String },
    /// The source and the destination have not applied the same migrations (run `server
    /// migrate` first).
    SchemaDiffers,
    /// The destination already holds rows of this workspace (in `table`), which no move under
    /// way put there: nothing is written over them.
    DestinationHoldsRows { table: String },
    /// The copy of `table` did not match its source: the move was abandoned, the copy
    /// discarded, and the workspace serves from its source again.
    CopyDiffers { table: String },
    /// The cluster already has a database by the name provisioning would give this
    /// workspace's, which no earlier run of it made: it is left alone.
    DatabaseExists { database: String },
    /// The row changed since the form that edits it was opened (an edit names the version it
    /// started from).
    Stale,
    /// An order needs at least one line.
    EmptyOrder,
    /// More lines than [`crate::tenant::orders::MAX_LINES`].
    TooManyLines,
    /// The order's total does not fit the money type.
    TotalTooLarge,
    /// Every line of an order that cannot be served.
    OrderLines(Vec<LineProblem>),
    /// A limit's value outside what that limit accepts (a share of 0 would shut the
    /// workspace out); `max: None` means no upper bound.
    OutOfBounds { min: i64, max: Option<i64> },
    /// An import with error lines cannot be applied: nothing of a file with errors is written.
    ImportHasErrors,
    /// The order workflow does not allow this move.
    Transition {
        from: domain::OrderStatus,
        to: domain::OrderStatus,
    },
}

/// Why one line of an order cannot be served. `line` counts from 1, as people read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    /// No such product in this workspace (which is also what another workspace's id looks like).
    UnknownProduct {
        line: usize,
    },
    Archived {
        line: usize,
        name: String,
    },
    OutOfStock {
        line: usize,
        name: String,
        left: i32,
    },
    Duplicate {
        line: usize,
        first_line: usize,
    },
}

/// Unique constraints people can run into, and the form field each belongs to.
const CONSTRAINT_FIELDS: &[(&str, &str)] = &[
    ("tenants_slug_key", "slug"),
    ("users_tenant_email_key", "email"),
    ("products_tenant_sku_key", "sku"),
    ("customers_tenant_email_key", "customer_email"),
    ("invitations_tenant_open_email_key", "email"),
    ("platform_admins_email_key", "email"),
];

impl From<sqlx::Error> for RepoError {
    /// Tracks its caller: through `?`, that is the statement that failed.
    #[track_caller]
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => RepoError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                RepoError::Unavailable(err)
            }
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                let field = db.constraint().and_then(|name| {
                    CONSTRAINT_FIELDS
                        .iter()
                        .find(|(constraint, _)| *constraint == name)
                        .map(|(_, field)| *field)
                });
                match field {
                    Some(field) => RepoError::Conflict { field },
                    None => RepoError::Internal(err),
                }
            }
            // lock_not_available: the lock timeout ran out.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => {
                RepoError::LockTimeout {
                    at: std::panic::Location::caller(),
                }
            }
            // query_canceled: the statement timeout ran out (nothing else here cancels).
            sqlx::Error::Database(db) if db.code().as_deref() == Some("57014") => {
                RepoError::StatementTimeout {
                    at: std::panic::Location::caller(),
                }
            }
            // Raised by app_enter_tenant (see its migration).
            sqlx::Error::Database(db) if db.code().as_deref() == Some("SR001") => RepoError::Moving,
            // read_only_sql_transaction: see `WritesFrozen`.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("25006") => {
                RepoError::WritesFrozen
            }
            sqlx::Error::Database(db) if db.code().is_some_and(|code| code.starts_with("22")) => {
                RepoError::BadInput(err)
            }
            // 57P01..57P03: the server is shutting down or starting; 08xxx: connection trouble.
            sqlx::Error::Database(db)
                if db
                    .code()
                    .is_some_and(|code| code.starts_with("57P") || code.starts_with("08")) =>
            {
                RepoError::Unavailable(err)
            }
            _ => RepoError::Internal(err),
        }
    }
}

impl RepoError {
    /// Runs work the caller handed over and records its failure as [`RepoError::Delegated`].
    pub(crate) async fn delegated<T, E: std::fmt::Display>(
        what: &'static str,
        work: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, RepoError> {
        work.await.map_err(|e| RepoError::Delegated {
            what,
            detail: e.to_string(),
        })
    }

    /// A stored value that no longer parses: a bug or a manual edit, never the user's fault.
    pub(crate) fn corrupt(what: &str) -> Self {
        RepoError::Internal(sqlx::Error::Decode(
            format!("stored {what} does not parse").into(),
        ))
    }
}
