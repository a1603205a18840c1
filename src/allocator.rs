//! Settings of mimalloc, the allocator of the command line and the benchmarks (the library
//! leaves the allocator to the program linking it).

use libmimalloc_sys::{mi_option_set, mi_option_t};

/// `mi_option_purge_delay` of mimalloc.h (mimalloc 3, which libmimalloc-sys builds), between
/// `mi_option_eager_commit_delay` (14) and `mi_option_use_numa_nodes` (16), which
/// libmimalloc-sys names; it does not name this one.
const PURGE_DELAY: mi_option_t = 15;

/// Keeps freed memory for the next allocation instead of handing it back to the kernel after
/// a second: a training step frees and allocates hundreds of megabytes of activations and
/// gradients, and every page handed back had to be faulted in and cleared again; keeping them
/// trades a little peak memory for a faster step (docs/benchmarks.md, "Freed memory kept").
pub fn keep_freed_memory() {
    // SAFETY: sets a number mimalloc reads when it frees; any value is valid, -1 means never.
    unsafe { mi_option_set(PURGE_DELAY, -1) }
}

#[cfg(test)]
mod tests {
    use libmimalloc_sys::mi_option_get;

    use super::*;

    /// libmimalloc-sys does not name the option, so its number is checked by its default in the
    /// mimalloc 3 that libmimalloc-sys builds (1,000 ms, `options.c`) before it is set, and by
    /// reading it back after.
    #[test]
    fn the_purge_delay_option_is_the_one_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, 1000);
        }
        keep_freed_memory();
        assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, -1);
    }
}
