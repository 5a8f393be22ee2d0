//! The server's allocator: mimalloc, told to give freed memory back to the system at once.
//!
//! mimalloc (v3) hands a page that has emptied back to the system only after a delay (1 s),
//! and only the next time it frees a page once that delay is over. A server whose burst of
//! work is over frees little, so it kept what the burst used: `bench/run memory` measured 50 MB five
//! seconds after 64 connections of sign-ins, and 35 MB with the pages given back at once, at
//! the same request rate. In `bench/run`, which runs its scenarios one after another on one
//! server, each scenario's peak stood on what the ones before had left.

pub use mimalloc::MiMalloc;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in mimalloc.h: the crate names only part of the option enum. The
/// test below checks this index still holds the purge delay.
const PURGE_DELAY: mi_option_t = 15;

/// Makes mimalloc give every emptied page back to the system when it empties. Call first
/// thing in `main`: it applies to what is freed afterwards.
pub fn give_back_freed_memory_at_once() {
    // SAFETY: a store into mimalloc's option table, which mimalloc reads atomically; valid
    // at any time, from any thread.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_set(PURGE_DELAY, 0)
    }
}

/// The purge delay in force, in milliseconds.
pub fn purge_delay_ms() -> std::ffi::c_long {
    // SAFETY: a read of mimalloc's option table.
    #[allow(unsafe_code)]
    unsafe {
        mi_option_get(PURGE_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // mimalloc v3's documented default for the purge delay; another option at this index
        // (after an upgrade reorders the enum) would show another value, unless the
        // environment overrides it.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(purge_delay_ms(), 1000);
        }
        give_back_freed_memory_at_once();
        assert_eq!(purge_delay_ms(), 0);
    }
}
