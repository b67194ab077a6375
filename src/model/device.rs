//! Where the model runs: `--device auto|cpu|cuda[:N]|metal`. GPU support is
//! a build feature (`--features cuda` or `--features metal`, which turn on
//! candle's kernels); `auto` takes a GPU when the build has one and the
//! machine does, else the CPU, saying so when a GPU build found none.

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

use super::ModelError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Auto,
    Cpu,
    Cuda(usize),
    Metal,
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => DeviceChoice::Auto,
            "cpu" => DeviceChoice::Cpu,
            "cuda" | "gpu" => DeviceChoice::Cuda(0),
            "metal" => DeviceChoice::Metal,
            other => match other.strip_prefix("cuda:").map(str::parse) {
                Some(Ok(n)) => DeviceChoice::Cuda(n),
                _ => {
                    return Err(format!(
                        "--device {s:?}: expected auto, cpu, cuda, cuda:N or metal"
                    ))
                }
            },
        })
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceChoice::Auto => f.write_str("auto"),
            DeviceChoice::Cpu => f.write_str("cpu"),
            DeviceChoice::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceChoice::Metal => f.write_str("metal"),
        }
    }
}

/// A device as `--device` names it: `cpu`, `cuda:N`, `metal:N`.
pub fn name(device: &Device) -> String {
    match device.location() {
        candle_core::DeviceLocation::Cpu => "cpu".into(),
        candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// A CUDA device's compute capability (major, minor); `None` for other
/// devices, or if the driver will not say.
pub fn compute_capability(device: &Device) -> Option<(i32, i32)> {
    match device {
        #[cfg(feature = "cuda")]
        Device::Cuda(gpu) => gpu.cuda_stream().context().compute_capability().ok(),
        _ => None,
    }
}

/// The environment the CUDA driver reads for its kernel cache, to set
/// before it starts: candle hands the driver its kernels as PTX, which the
/// driver compiles for the GPU on first use (~20 s on an H200) and keeps in
/// a cache. By default that cache is `~/.nv/ComputeCache` (256 MiB), which
/// a fresh container does not have; here it lives beside calltone's own
/// cache (`CALLTONE_HOME`, which a deployment keeps for the encoder
/// anyway) with room for every kernel. A variable the user set is left as
/// it is. `get` reads the environment (a parameter, for tests).
pub fn kernel_cache_env(
    calltone_cache: &std::path::Path,
    get: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Vec<(&'static str, std::ffi::OsString)> {
    let mut out = Vec::new();
    if get("CUDA_CACHE_PATH").is_none_or(|v| v.is_empty()) {
        out.push((
            "CUDA_CACHE_PATH",
            calltone_cache.join("cuda-kernels").into_os_string(),
        ));
    }
    if get("CUDA_CACHE_MAXSIZE").is_none_or(|v| v.is_empty()) {
        // 1 GiB: candle's kernels for one GPU take a few tens of MiB; room
        // for several GPU models and driver versions side by side.
        out.push(("CUDA_CACHE_MAXSIZE", "1073741824".into()));
    }
    out
}

/// Which GPU backends this binary was built with.
pub fn gpu_builds() -> Vec<&'static str> {
    let mut v = Vec::new();
    if cfg!(feature = "cuda") {
        v.push("cuda");
    }
    if cfg!(feature = "metal") {
        v.push("metal");
    }
    v
}

/// Opens the device; the notice (for standard error) says when `auto` fell
/// back to the CPU although this build could use a GPU.
pub fn open(choice: DeviceChoice) -> Result<(Device, Option<String>), ModelError> {
    let unbuilt = |name: &str| {
        ModelError::Unavailable(format!(
            "this calltone was built without {name} support; \
             rebuild with `cargo build --release --features {}`",
            name.to_ascii_lowercase()
        ))
    };
    match choice {
        DeviceChoice::Cpu => Ok((Device::Cpu, None)),
        DeviceChoice::Cuda(n) => {
            if !cfg!(feature = "cuda") {
                return Err(unbuilt("CUDA"));
            }
            let d = Device::new_cuda(n)
                .map_err(|e| ModelError::Unavailable(format!("CUDA device {n}: {e}")))?;
            Ok((d, None))
        }
        DeviceChoice::Metal => {
            if !cfg!(feature = "metal") {
                return Err(unbuilt("Metal"));
            }
            let d = Device::new_metal(0)
                .map_err(|e| ModelError::Unavailable(format!("Metal device: {e}")))?;
            Ok((d, None))
        }
        DeviceChoice::Auto => {
            if cfg!(feature = "cuda") && candle_core::utils::cuda_is_available() {
                if let Ok(d) = Device::new_cuda(0) {
                    return Ok((d, None));
                }
            }
            if cfg!(feature = "metal") && candle_core::utils::metal_is_available() {
                if let Ok(d) = Device::new_metal(0) {
                    return Ok((d, None));
                }
            }
            let builds = gpu_builds();
            let notice = (!builds.is_empty()).then(|| {
                format!(
                    "no {} device found; running on the CPU",
                    builds.join(" or ")
                )
            });
            Ok((Device::Cpu, notice))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse_and_print() {
        for (s, d) in [
            ("auto", DeviceChoice::Auto),
            ("CPU", DeviceChoice::Cpu),
            ("cuda", DeviceChoice::Cuda(0)),
            ("cuda:3", DeviceChoice::Cuda(3)),
            ("metal", DeviceChoice::Metal),
        ] {
            assert_eq!(s.parse::<DeviceChoice>().unwrap(), d);
        }
        assert_eq!(DeviceChoice::Cuda(2).to_string(), "cuda:2");
        // An opened device is named as `--device` would name it.
        assert_eq!(name(&Device::Cpu), "cpu");
        assert_eq!(
            name(&Device::Cpu).parse::<DeviceChoice>().unwrap(),
            DeviceChoice::Cpu
        );
        for bad in ["tpu", "cuda:x", "cuda:-1", ""] {
            assert!(bad.parse::<DeviceChoice>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn auto_falls_back_to_the_cpu_and_unbuilt_backends_say_how_to_build() {
        // This machine has no GPU: auto always ends on the CPU.
        let (d, notice) = open(DeviceChoice::Auto).unwrap();
        assert!(d.is_cpu());
        assert_eq!(notice.is_some(), !gpu_builds().is_empty());
        if !cfg!(feature = "cuda") {
            let e = open(DeviceChoice::Cuda(0)).unwrap_err().to_string();
            assert!(e.contains("--features cuda"), "{e}");
        }
        if !cfg!(feature = "metal") {
            let e = open(DeviceChoice::Metal).unwrap_err().to_string();
            assert!(e.contains("--features metal"), "{e}");
        }
    }

    #[test]
    fn the_kernel_cache_goes_beside_calltones_unless_the_user_chose() {
        let home = std::path::Path::new("/srv/calltone");
        let set = kernel_cache_env(home, |_| None);
        assert_eq!(
            set,
            vec![
                ("CUDA_CACHE_PATH", "/srv/calltone/cuda-kernels".into()),
                ("CUDA_CACHE_MAXSIZE", "1073741824".into()),
            ]
        );
        let chosen = kernel_cache_env(home, |k| (k == "CUDA_CACHE_PATH").then(|| "/cache".into()));
        assert_eq!(chosen, vec![("CUDA_CACHE_MAXSIZE", "1073741824".into())]);
        let empty = kernel_cache_env(home, |_| Some("".into()));
        assert_eq!(empty.len(), 2, "an empty variable counts as unset");
    }
}
