//! Console accounts sign in on the console's host, never as a workspace's members.

use leptos::prelude::*;

use crate::AppError;

/// Console sign-in, with the same rules as a workspace's: one generic message, throttled per
/// account and per address, a new session id, and a session that only the console accepts.
#[server(output = crate::codec::TextJson)]
pub async fn console_sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr::context::now_unix;
    use crate::ssr::{Call, ConsoleSignedIn, Site, CONSOLE_SESSION_KEY};
    use db::platform::console::{find_admin_credentials, record_admin_sign_in};
    use db::platform::rate_limits::{allow, take_back, Limit};

    const GENERIC: &str = "That email and password don't match a console account.";
    let call = Call::open()?;
    if !matches!(call.site(), Site::Console) {
        return Err(AppError::NotFound);
    }
    let email =
        domain::Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let password =
        domain::Password::attempt(&password).map_err(|_| AppError::field("password", GENERIC))?;
    let limits = call.settings().limits;
    let window = Limit {
        max: limits.sign_in_failures_per_account,
        window_secs: limits.sign_in_window_secs,
    };
    let per_address = Limit {
        max: limits.sign_in_failures_per_address,
        window_secs: limits.sign_in_window_secs,
    };
    let db = call.db();
    let account_ok = call
        .run(allow(db, "console-sign-in", email.as_str(), window))
        .await?;
    let address_ok = account_ok
        && call
            .run(allow(
                db,
                "console-sign-in-address",
                call.client_address(),
                per_address,
            ))
            .await?;
    if !account_ok || !address_ok {
        tracing::warn!(request_id = %call.request_id(), "console sign-in throttled");
        return Err(crate::api::session::sign_in_throttled(
            limits.sign_in_window_secs,
        ));
    }
    let credentials = call.run(find_admin_credentials(db, &email)).await?;
    let ok = call
        .services()
        .passwords
        .verify(
            &password,
            credentials.as_ref().map(|c| c.password_hash.as_str()),
        )
        .await
        .map_err(|e| call.internal("password check", e))?;
    let Some(credentials) = credentials.filter(|_| ok) else {
        return Err(AppError::Refused {
            message: GENERIC.into(),
        });
    };
    // Only failures count against the limits: a success takes its attempts back.
    call.run(take_back(db, "console-sign-in", email.as_str()))
        .await?;
    call.run(take_back(
        db,
        "console-sign-in-address",
        call.client_address(),
    ))
    .await?;
    let replacement = call
        .services()
        .passwords
        .replacement_for(&password, &credentials.password_hash)
        .await;
    call.run(record_admin_sign_in(
        db,
        credentials.admin_id,
        replacement
            .as_deref()
            .map(|replacement| db::platform::auth::Rehash {
                checked: &credentials.password_hash,
                replacement,
            }),
    ))
    .await?;
    let session = call.session()?;
    session
        .cycle_id()
        .await
        .map_err(|e| call.internal("session cycle", e))?;
    session
        .insert(
            CONSOLE_SESSION_KEY,
            ConsoleSignedIn {
                admin_id: credentials.admin_id,
                since: now_unix(),
            },
        )
        .await
        .map_err(|e| call.internal("session insert", e))?;
    tracing::info!(request_id = %call.request_id(), admin = %credentials.admin_id, "console sign-in");
    leptos_axum::redirect("/");
    Ok(())
}
