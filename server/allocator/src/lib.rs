//! The server's allocator: mimalloc, told to give freed memory back to the system at once.
//!
//! mimalloc (v3) hands a page that has emptied back to the system only after a delay (1 s),
//! and only the next time it frees a page once that delay is over. A server whose burst of
//! work is over frees little, so it kept what the burst used: `bench/run memory` measured 50 MB five
//! seconds after 64 connections of sign-ins, and 35 MB with the pages given back at once, at
//! the same request rate. In `bench/run`, which runs its scenarios one after another on one
//! server, each scenario's peak stood on what the ones before had left.
//!
//! Nor does it use transparent huge pages. mimalloc asks for them on its arenas (`madvise`),
//! so the first byte touched in a 2 MiB range made all of it resident, and a range stayed
//! resident while anything in it lived: the server held 17 MB of anonymous memory before its
//! first request, 16 MB of it huge pages, and 34 MB in all after the bench's 100 sign-ins.
//! Without them, 9 MB and 19 MB, and the full page alone peaked at 35 MB, not 49 (`bench/run
//! memory`). Its `no_thp` feature drops the `madvise`; on hosts whose kernel gives huge pages
//! to every large mapping unasked (`transparent_hugepage=always`), the process opts out as a
//! whole.

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

/// Makes the kernel back this process's memory with normal pages only, from now on, whatever
/// the host's transparent huge page setting (the setting is the process's: threads already
/// running are covered too). False when the kernel refused: a sandbox's system call filter, or
/// a kernel before 3.15.
#[cfg(target_os = "linux")]
pub fn use_normal_pages_only() -> bool {
    let unused: libc::c_ulong = 0;
    // SAFETY: prctl with integer arguments only (passed as the unsigned longs the kernel
    // reads); PR_SET_THP_DISABLE sets a flag on the process's memory descriptor and touches
    // no memory of ours.
    #[allow(unsafe_code)]
    let status = unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            1 as libc::c_ulong,
            unused,
            unused,
            unused,
        )
    };
    status == 0
}

/// Elsewhere there are no transparent huge pages to turn off.
#[cfg(not(target_os = "linux"))]
pub fn use_normal_pages_only() -> bool {
    true
}

/// Whether the kernel may give this process transparent huge pages.
#[cfg(target_os = "linux")]
pub fn huge_pages_allowed() -> bool {
    let unused: libc::c_ulong = 0;
    // SAFETY: as above; PR_GET_THP_DISABLE only reads the flag.
    #[allow(unsafe_code)]
    let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, unused, unused, unused, unused) };
    disabled != 1
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

    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_refused_for_the_whole_process() {
        assert!(use_normal_pages_only());
        assert!(!huge_pages_allowed());
    }
}
