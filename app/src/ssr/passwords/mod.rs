mod memory;

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use domain::Password;
use memory::{Memory, MemoryPool};
use tokio::sync::Semaphore;

/// The most a stored hash may ask for: 256 MiB, and 1 GiB of memory passes (m × t, in KiB).
/// Hashes are only ever written by this code, at a few dozen MiB-passes, but a corrupt row must
/// not make the server allocate gigabytes or hash for hours.
const MAX_STORED_MEMORY_KIB: u32 = 256 << 10;
const MAX_STORED_WORK: u64 = 1 << 20;

/// How long argon2's memory outlives the last hash that used it.
const KEEP_IDLE_MEMORY: Duration = Duration::from_secs(2);

/// argon2id behind a semaphore on the blocking pool: a burst of sign-ins queues here instead of
/// stalling the async runtime or exhausting memory.
///
/// Each permit comes with its own argon2 memory (`memory_kib`), reused from hash to hash while
/// sign-ins go on and freed a few seconds after the last (`memory::MemoryPool`). Permit and
/// memory go with the hash to its thread: a caller that gives up (a timeout, a closed
/// connection) frees neither before the hash is done. The library's own API allocates the
/// memory afresh for every hash, on whichever blocking thread runs it, and the allocator keeps
/// each thread's freed blocks: after a burst of sign-ins the server held one block per thread
/// that had ever hashed (bench/: 93 MB resident against 42 MB).
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    memory: Arc<MemoryPool>,
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

impl From<argon2::password_hash::Error> for HashError {
    fn from(e: argon2::password_hash::Error) -> Self {
        HashError::Argon2(e.to_string())
    }
}

impl PasswordHasher {
    pub fn new(cost: HashCost, max_concurrent: usize) -> Result<Self, HashError> {
        Self::keeping_memory_for(cost, max_concurrent, KEEP_IDLE_MEMORY)
    }

    /// As `new`, freeing argon2's memory once no hash has used it for `keep`.
    fn keeping_memory_for(
        cost: HashCost,
        max_concurrent: usize,
        keep: Duration,
    ) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        let slots = max_concurrent.max(1);
        let memory = MemoryPool::new(params.block_count(), slots, keep);
        let dummy_hash = hash_with(
            &params,
            "dummy password that matches nothing",
            memory.take(None),
        )?;
        Ok(Self {
            params,
            permits: Arc::new(Semaphore::new(slots)),
            memory,
            queued: Arc::default(),
            dummy_hash: dummy_hash.into(),
        })
    }

    /// How many hashes wait for a turn now.
    pub fn queued(&self) -> usize {
        self.queued.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A turn: a permit and its memory, held until the hash is done.
    async fn slot(&self) -> Result<Memory, HashError> {
        let _waiting = Queued::enter(&self.queued);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| HashError::Argon2(e.to_string()))?;
        Ok(self.memory.take(Some(permit)))
    }

    pub async fn hash(&self, password: &Password) -> Result<String, HashError> {
        let memory = self.slot().await?;
        let params = self.params.clone();
        let secret = password.expose().to_owned();
        tokio::task::spawn_blocking(move || hash_with(&params, &secret, memory)).await?
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no account,
    /// so both paths cost the same. Only `Some(hash)` that matches returns true.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, HashError> {
        let memory = self.slot().await?;
        let known = stored.is_some();
        let hash = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.dummy_hash.to_string());
        let secret = password.expose().to_owned();
        let matches = tokio::task::spawn_blocking(move || matches(&hash, &secret, memory)).await?;
        Ok(known && matches)
    }

    /// Whether `stored` was made with other settings than today's (an older cost, another
    /// variant): after a successful sign-in it is hashed again, so the settings can change
    /// without anyone resetting a password.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        let Ok(hash) = PasswordHash::new(stored) else {
            return true;
        };
        let Ok(params) = Params::try_from(&hash) else {
            return true;
        };
        Algorithm::try_from(hash.algorithm) != Ok(Algorithm::Argon2id)
            || hash.version != Some(Version::V0x13.into())
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
            || hash.hash.map(|output| output.len())
                != Some(
                    self.params
                        .output_len()
                        .unwrap_or(Params::DEFAULT_OUTPUT_LEN),
                )
    }

    /// A new hash of `password` when `stored`, just checked against it, was made with other
    /// settings. None when it is current, or when hashing failed: the sign-in goes on and the
    /// next one tries again.
    pub async fn replacement_for(&self, password: &Password, stored: &str) -> Option<String> {
        if !self.needs_rehash(stored) {
            return None;
        }
        self.hash(password)
            .await
            .inspect_err(|e| tracing::warn!(error = %e, "hashing a password again failed"))
            .ok()
    }
}

fn hash_with(params: &Params, secret: &str, mut memory: Memory) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    let output = compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        secret,
        salt.as_salt(),
        &mut memory,
    )?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Recomputes `stored` with its own settings and salt; `Output`'s comparison takes the same
/// time wherever the two differ.
fn matches(stored: &str, secret: &str, mut memory: Memory) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let work = u64::from(params.m_cost()) * u64::from(params.t_cost());
    if params.m_cost() > MAX_STORED_MEMORY_KIB || work > MAX_STORED_WORK {
        tracing::error!(
            t_cost = params.t_cost(),
            m_cost = params.m_cost(),
            "a stored password hash asks for too much memory"
        );
        return false;
    }
    compute(algorithm, version, params, secret, salt, &mut memory)
        .is_ok_and(|computed| computed == expected)
}

fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    secret: &str,
    salt: Salt<'_>,
    memory: &mut Memory,
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_buffer = [0u8; Salt::MAX_LENGTH];
    let salt = salt.decode_b64(&mut salt_buffer)?;
    let length = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    // A hash made with a larger cost than today's (settings since lowered) gets memory of its
    // own at each check, until its account signs in and the new hash replaces it.
    let mut larger;
    let blocks: &mut [Block] = match memory.blocks.get_mut(..blocks) {
        Some(pooled) => pooled,
        None => {
            larger = vec![Block::default(); blocks];
            &mut larger
        }
    };
    Output::init_with(length, |out| {
        Ok(argon2.hash_password_into_with_memory(secret.as_bytes(), salt, out, &mut *blocks)?)
    })
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

    /// Memory kept for a minute: no test here waits for it to be freed (`memory` tests that).
    fn cheap() -> PasswordHasher {
        PasswordHasher::keeping_memory_for(
            HashCost {
                memory_kib: 1024,
                iterations: 1,
                parallelism: 1,
            },
            2,
            Duration::from_secs(60),
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

    /// Hashes stored before this code computed them itself still verify, and its hashes verify
    /// with the library's own checker: the format is the library's.
    #[tokio::test]
    async fn hashes_read_and_written_by_the_argon2_library_still_verify() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let hasher = cheap();
        let password = Password::new_choice("correct horse battery").unwrap();
        let wrong = Password::attempt("correct horse battery!").unwrap();
        let by_library = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(2048, 1, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
        assert!(hasher.verify(&password, Some(&by_library)).await.unwrap());
        assert!(!hasher.verify(&wrong, Some(&by_library)).await.unwrap());

        let ours = hasher.hash(&password).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        assert!(Argon2::default()
            .verify_password(b"correct horse battery!", &parsed)
            .is_err());
    }

    #[tokio::test]
    async fn only_hashes_made_with_other_settings_need_hashing_again() {
        let hasher = cheap();
        let password = Password::new_choice("correct horse battery").unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        assert!(!hasher.needs_rehash(&ours));
        let costlier = PasswordHasher::new(
            HashCost {
                memory_kib: 2048,
                iterations: 2,
                parallelism: 1,
            },
            1,
        )
        .unwrap();
        let older = costlier.hash(&password).await.unwrap();
        assert!(hasher.needs_rehash(&older));
        // A hash that needs more memory than the pool's still verifies, with memory of its own.
        assert!(hasher.verify(&password, Some(&older)).await.unwrap());
        let argon2i = ours.replace("$argon2id$", "$argon2i$");
        assert!(hasher.needs_rehash(&argon2i));
        assert!(hasher.needs_rehash("not a hash"));
        assert!(!hasher.verify(&password, Some("not a hash")).await.unwrap());
    }

    /// However many hashes run, the memory kept for them is one block set per permit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn argon2_memory_is_reused_not_kept_per_hash() {
        let hasher = cheap();
        let password = Password::new_choice("correct horse battery").unwrap();
        let mut hashes = tokio::task::JoinSet::new();
        for _ in 0..12 {
            let (hasher, password) = (hasher.clone(), password.clone());
            hashes.spawn(async move { hasher.hash(&password).await });
        }
        while let Some(hash) = hashes.join_next().await {
            assert!(hasher
                .verify(&password, Some(&hash.unwrap().unwrap()))
                .await
                .unwrap());
        }
        assert_eq!(
            hasher
                .memory
                .allocated
                .load(std::sync::atomic::Ordering::Relaxed),
            2
        );
        assert_eq!(hasher.memory.kept(), vec![1024, 1024]);
    }

    #[tokio::test]
    async fn unknown_accounts_never_match_even_the_dummy_password() {
        let hasher = cheap();
        let dummy = Password::attempt("dummy password that matches nothing").unwrap();
        assert!(!hasher.verify(&dummy, None).await.unwrap());
    }
}
