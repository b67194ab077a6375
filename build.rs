//! With `--features cuda`: compiles calltone's GPU kernels
//! (src/model/gpu/kernels.cu) ahead of time with nvcc into one fatbin that
//! the binary embeds, so no kernel is compiled when a process starts. Which
//! GPU architectures: src/model/gpu/archs.rs. Without the feature: nothing.

use std::path::PathBuf;
use std::process::Command;

include!("src/model/gpu/archs.rs");

const KERNELS: &str = "src/model/gpu/kernels.cu";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/model/gpu/archs.rs");
    println!("cargo::rerun-if-env-changed=CARGO_FEATURE_CUDA");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    println!("cargo::rerun-if-changed={KERNELS}");
    for var in [
        "CALLTONE_CUDA_ARCHS",
        "CUDA_COMPUTE_CAP",
        "CUDA_ROOT",
        "CUDA_PATH",
        "NVCC",
    ] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let nvcc = nvcc();
    let listed = Command::new(&nvcc)
        .arg("--list-gpu-arch")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| listed_cuda_archs(&String::from_utf8_lossy(&o.stdout)));
    let archs = choose_cuda_archs(
        std::env::var("CALLTONE_CUDA_ARCHS").ok().as_deref(),
        std::env::var("CUDA_COMPUTE_CAP").ok().as_deref(),
        listed.as_deref(),
    )
    .unwrap_or_else(|e| fail(&e));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("calltone_kernels.fatbin");
    let status = Command::new(&nvcc)
        .args(["--fatbin", "-O3", "-std=c++17", "-o"])
        .arg(&out)
        .args(gencode_args(&archs))
        .arg(KERNELS)
        .status()
        .unwrap_or_else(|e| fail(&format!("could not run {}: {e}", nvcc.display())));
    if !status.success() {
        fail(&format!("{} failed on {KERNELS}", nvcc.display()));
    }
    let list: Vec<String> = archs.iter().map(u32::to_string).collect();
    println!(
        "cargo::rustc-env=CALLTONE_CUDA_ARCHS_BUILT={}",
        list.join(",")
    );
}

/// `$NVCC`, else `bin/nvcc` under `$CUDA_ROOT` / `$CUDA_PATH`, else `nvcc`.
fn nvcc() -> PathBuf {
    if let Some(n) = std::env::var_os("NVCC") {
        return n.into();
    }
    ["CUDA_ROOT", "CUDA_PATH"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|root| PathBuf::from(root).join("bin/nvcc"))
        .find(|p| p.exists())
        .unwrap_or_else(|| "nvcc".into())
}

fn fail(why: &str) -> ! {
    eprintln!("calltone's CUDA kernels: {why}");
    std::process::exit(1);
}
