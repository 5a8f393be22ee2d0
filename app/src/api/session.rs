//! Signing in and out of a workspace. Throttled per account and per address; a browser the
//! member signed in from before keeps a device cookie and is held back only by its own
//! failures, so strangers failing on purpose cannot lock a member out of their own browser.

use leptos::prelude::*;

use crate::AppError;

#[cfg(feature = "ssr")]
const WRONG_CREDENTIALS: &str = "That email and password don't match an account in this workspace.";

/// "Wait N minutes": what a throttled sign-in is told.
#[cfg(feature = "ssr")]
pub(crate) fn sign_in_throttled(window_secs: i64) -> AppError {
    AppError::RateLimited {
        message: format!(
            "Too many failed sign-in attempts. Please wait {} minutes and try again.",
            (window_secs / 60).max(1)
        ),
    }
}

#[cfg(feature = "ssr")]
const DEVICE: crate::ssr::cookies::Cookie = crate::ssr::cookies::Cookie {
    name: "stockroom_device",
    secure_name: "__Host-stockroom_device",
};

/// A device cookie lives a year; each sign-in from it renews it.
#[cfg(feature = "ssr")]
const DEVICE_LIFETIME_SECS: u64 = 365 * 24 * 3600;

#[server(output = crate::codec::TextJson)]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr::context::start_member_session;
    use crate::ssr::{cookies, tokens, Call};
    use db::platform::{auth, throttle};

    let call = Call::open()?;
    let tenant = call.workspace()?.clone();
    let email =
        domain::Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?;
    let password = domain::Password::attempt(&password)
        .map_err(|_| AppError::field("password", WRONG_CREDENTIALS))?;
    let limits = call.settings().limits;
    let policy = throttle::ThrottlePolicy {
        per_account: limits.sign_in_failures_per_account,
        per_address: limits.sign_in_failures_per_address,
        per_device: limits.sign_in_failures_per_device,
        window_secs: limits.sign_in_window_secs,
    };
    let device = DEVICE
        .read(call.settings(), &cookies::request_cookies())
        .filter(|token| token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()))
        .map(tokens::digest);
    let attempt = call
        .run(throttle::reserve_sign_in_attempt(
            call.db(),
            &tenant,
            &email,
            call.client_address(),
            device.as_deref(),
            policy,
        ))
        .await?;
    if attempt == throttle::Attempt::Refused {
        tracing::warn!(request_id = %call.request_id(), tenant = %tenant.id(), "sign-in throttled");
        return Err(sign_in_throttled(limits.sign_in_window_secs));
    }

    let credentials = call
        .run(auth::find_credentials(call.db(), &tenant, &email))
        .await?;
    let ok = call
        .services()
        .passwords
        .verify(
            &password,
            credentials.as_ref().map(|c| c.password_hash.as_str()),
        )
        .await
        .map_err(|e| call.internal("password check", e))?;
    // The attempt is already on the books as a failure; only success takes it back.
    let Some(credentials) = credentials.filter(|_| ok) else {
        return Err(AppError::Refused {
            message: WRONG_CREDENTIALS.into(),
        });
    };
    call.run(throttle::sign_in_succeeded(
        call.db(),
        &tenant,
        &email,
        call.client_address(),
        device.as_deref(),
        attempt,
    ))
    .await?;
    let replacement = call
        .services()
        .passwords
        .replacement_for(&password, &credentials.password_hash)
        .await;
    call.run(auth::record_sign_in(
        call.db(),
        &tenant,
        credentials.user_id,
        replacement.as_deref().map(|replacement| auth::Rehash {
            checked: &credentials.password_hash,
            replacement,
        }),
    ))
    .await?;
    // This browser is now one of the member's known devices (a new cookie each time: a
    // copied cookie stops counting once the member signs in again).
    let (token, digest) = tokens::new_token();
    call.run(throttle::remember_device(
        call.db(),
        &tenant,
        credentials.user_id,
        &digest,
    ))
    .await?;
    cookies::send(&DEVICE.set(call.settings(), &token, DEVICE_LIFETIME_SECS))
        .map_err(|e| call.internal("device cookie", e))?;
    start_member_session(&call.session()?, &tenant, credentials.user_id)
        .await
        .map_err(|e| call.internal("session start", e))?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(output = crate::codec::TextJson)]
pub async fn sign_out() -> Result<(), AppError> {
    let call = crate::ssr::Call::open()?;
    // Deletes the record server-side too, so a copied cookie is dead after sign-out.
    call.session()?
        .flush()
        .await
        .map_err(|e| call.internal("session flush", e))?;
    leptos_axum::redirect("/login");
    Ok(())
}
