//! What the memory benchmarks share: the process's memory figures from `/proc/self/status`.

/// A `/proc/self/status` figure in KiB (`VmRSS`, `VmHWM`, ...; 0 where there is no /proc).
pub fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the high-water mark `VmHWM` to the current resident size (Linux).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
