//! The one thread pool every command runs in.

/// Sizes rayon's global pool: `threads`, or every core the process may use.
/// Call once, before any parallel work starts.
pub fn configure_threads(threads: Option<usize>) {
    let n = threads
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .max(1);
    // One pool for everything: rayon's workers also run candle's matmuls, so
    // reading, tokenizing and the model never oversubscribe the cores.
    // candle sizes its matmul parallelism from this variable; keep it equal
    // to the pool so a GEMM never asks for more threads than exist. Set before
    // any worker thread starts.
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
}
