//! `calltone --version`: the version, the build's features, the CPU
//! kernel paths this machine runs (and the one in use), and the default
//! model with its hashes.

use std::sync::OnceLock;

use crate::model::embedded_head;
use crate::model::fast::cpu::{self, KernelPath};
use crate::setup;

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
        let short = |h: Option<String>| h.map_or_else(|| "?".into(), |h| h[..16].to_string());
        let gpu_kernels = match crate::model::gpu::BUILT_FOR {
            "" => String::new(),
            archs => format!(
                "\nGPU kernels: compiled for sm_{} (PTX for newer GPUs)",
                archs.replace(',', ", sm_")
            ),
        };
        format!(
            "{}\nbuild: {} {}, features: {}{gpu_kernels}\nCPU kernel paths: {}; in use: {}\n\
             model: calltone-sentiment, built in (head.safetensors sha256 {}…, head {}…); \
             encoder all-MiniLM-L6-v2 (model.safetensors sha256 {}…, fetched by `calltone setup`)",
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
            short(embedded_head::file_sha256("head.safetensors")),
            &embedded_head::digest()[..16],
            &setup::ENCODER_SHA256[..16],
        )
    })
}
