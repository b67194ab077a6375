//! The process's peak resident memory, for the summary lines of `score` and
//! `bench` (and the test that memory stays flat as inputs grow).

/// Peak resident set size in MiB (Linux: `VmHWM`); `None` elsewhere.
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}
