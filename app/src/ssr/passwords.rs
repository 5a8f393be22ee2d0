use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use domain::Password;
use tokio::sync::Semaphore;

/// argon2id behind a semaphore on the blocking pool: a burst of sign-ins queues here instead of
/// stalling the async runtime or exhausting memory (each hash takes `memory_kib`).
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// Hashes waiting for a permit now, for the metrics.
    queued: Arc<std::sync::atomic::AtomicUsize>,
    /// Verified against when the email is unknown, so a miss costs as much time as a hit.
    dummy_hash: Arc<str>,
}

#[derive(Debug, Clone, Copy)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2: {0}")]
    Argon2(String),
    #[error("hashing task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

impl PasswordHasher {
    pub fn new(cost: HashCost, max_concurrent: usize) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let dummy_hash = hash_with(&params, "dummy password that matches nothing")?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            queued: Arc::default(),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// How many hashes wait for a turn now.
    pub fn queued(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }

    async fn slot(&self) -> Result<tokio::sync::SemaphorePermit<'_>, HashError> {
        let _waiting = Queued::enter(&self.queued);
        self.permits
            .acquire()
            .await
            .map_err(|e| HashError::Argon2(e.to_string()))
    }

    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let _permit = self.slot().await?;
        let params = self.params.clone();
        let secret = password.expose().to_owned();
        tokio::task::spawn_blocking(move || hash_with(&params, &secret)).await?
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account,
    /// so both paths cost the same. Only `Some(hash)` that matches returns true.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, HashError> {
        let _permit = self.slot().await?;
        let known = stored.is_some();
        let hash = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.to_string());
        let secret = password.expose().to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(secret.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await?;
        Ok(known && matches)
    }
}

fn hash_with(params: &Params, secret: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

/// Counts one waiter for as long as it waits, also when its caller gives up.
struct Queued<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Queued<'a> {
    fn enter(count: &'a std::sync::atomic::AtomicUsize) -> Self {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            HashCost {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            2,
        )
        .unwrap()
    }

    #[tokio::test]
    async fn hashes_verify_only_their_own_password() {
        let hasher = cheap();
        let right = Password::new_choice("correct horse battery").unwrap();
        let wrong = Password::attempt("correct horse battery!").unwrap();
        let hash = hasher.hash(&right).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify(&right, Some(&hash)).await.unwrap());
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_accounts_never_match_even_the_dummy_password() {
        let hasher = cheap();
        let dummy = Password::attempt("dummy password that matches nothing").unwrap();
        assert!(!hasher.verify(&dummy, None).await.unwrap());
    }
}
