//! Buffers kept between batches and shared by every thread.
//!
//! A batch's activations are megabytes; allocating them zeroed for
//! every batch (or every GEMM) was a serial memset or a round of page faults
//! that every core waited for. Batches now run side by side and a thread
//! waiting inside one batch's parallel loop may start another, so a buffer
//! belongs to a forward pass, not to a thread: a pass takes one from the
//! pool (or a fresh one if all are in use) and gives it back when done. The
//! pool holds as many as ever ran at once.

use std::sync::Mutex;

pub(super) struct Pool<T> {
    free: Mutex<Vec<T>>,
}

impl<T: Default> Pool<T> {
    pub(super) const fn new() -> Self {
        Self {
            free: Mutex::new(Vec::new()),
        }
    }

    /// A free buffer, or a fresh (empty) one if every buffer is in use.
    pub(super) fn take(&self) -> T {
        self.lock().pop().unwrap_or_default()
    }

    /// Hands `item` back for the next pass.
    pub(super) fn give(&self, item: T) {
        self.lock().push(item);
    }

    /// The free list, even if a thread panicked while holding it: the list
    /// is only pushed to and popped from, so it is never left half-changed.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_buffer_is_taken_again_and_a_busy_pool_makes_fresh_ones() {
        let pool: Pool<Vec<u8>> = Pool::new();
        let first = pool.take();
        assert!(first.is_empty());
        pool.give(vec![7; 3]);
        let again = pool.take();
        assert_eq!(again, vec![7; 3]);
        assert!(pool.take().is_empty(), "the only buffer is in use");
    }
}
