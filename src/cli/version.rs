//! `calltone --version`: the version, the build's features, and the CPU
//! kernel paths this machine runs (the one in use first).

use std::sync::OnceLock;

use crate::model::fast::cpu::{self, KernelPath};

/// Made once, when clap first asks for it.
pub fn long_version() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let features: Vec<&str> = [
            ("cuda", cfg!(feature = "cuda")),
            ("metal", cfg!(feature = "metal")),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| *name)
        .collect();
        let paths: Vec<String> = KernelPath::report()
            .into_iter()
            .map(|(p, ok)| match ok {
                true => p.name().to_string(),
                false => format!("{p} (this CPU lacks it)"),
            })
            .collect();
        format!(
            "{}\nbuild: {} {}, features: {}\nCPU kernel paths: {}; in use: {}",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH,
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            if features.is_empty() {
                "cpu only".to_string()
            } else {
                features.join(", ")
            },
            paths.join(", "),
            cpu::would_use(),
        )
    })
}
