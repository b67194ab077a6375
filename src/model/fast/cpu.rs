//! Which kernel path runs, chosen once at run time from what the CPU
//! reports, so one portable binary uses AVX-512 where it exists and still
//! runs on a CPU without AVX. `--kernel NAME` (or `CALLTONE_KERNEL=NAME`)
//! forces a path the CPU has, so paths can be compared on one machine.

use std::fmt;
use std::sync::OnceLock;

/// A family of kernels: the GEMM micro-kernel, and the instruction set the
/// row-wise passes are compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelPath {
    /// Plain Rust loops: any CPU (the baseline x86-64, aarch64, …).
    Portable,
    /// AVX2 + FMA, 256-bit: x86-64 since Haswell / Zen 1.
    Avx2,
    /// AVX-512 (F, BW, VL, DQ) + FMA, 512-bit: Xeon since Skylake-SP, Zen 4 and later.
    Avx512,
    /// `avx512` with AMX tiles for the int8 and bf16 layers: Xeon since
    /// Sapphire Rapids.
    Amx,
}

impl KernelPath {
    /// Fastest first.
    pub const ALL: [KernelPath; 4] = [
        KernelPath::Amx,
        KernelPath::Avx512,
        KernelPath::Avx2,
        KernelPath::Portable,
    ];

    /// The path whose fp32 GEMM and row-wise passes this one runs (AMX only
    /// changes the int8 and bf16 layers).
    pub fn vectors(self) -> KernelPath {
        match self {
            KernelPath::Amx => KernelPath::Avx512,
            p => p,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Portable => "portable",
            KernelPath::Avx2 => "avx2",
            KernelPath::Avx512 => "avx512",
            KernelPath::Amx => "amx",
        }
    }

    /// Whether this CPU runs the path.
    pub fn supported(self) -> bool {
        match self {
            KernelPath::Portable => true,
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            KernelPath::Avx512 => {
                KernelPath::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512dq")
            }
            #[cfg(target_arch = "x86_64")]
            KernelPath::Amx => KernelPath::Avx512.supported() && super::amx::available(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest path this CPU runs (each measured faster than the next
    /// on a CPU that has both: docs/speed.md).
    pub fn best() -> KernelPath {
        Self::ALL
            .into_iter()
            .find(|p| p.supported())
            .unwrap_or(KernelPath::Portable)
    }

    /// Every path, with whether this CPU runs it.
    pub fn report() -> Vec<(KernelPath, bool)> {
        Self::ALL.into_iter().map(|p| (p, p.supported())).collect()
    }
}

impl fmt::Display for KernelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KernelPath {
    type Err = String;

    /// The names `--kernel` takes (clap's own parser for them), for the
    /// environment variable.
    fn from_str(s: &str) -> Result<Self, String> {
        <Self as clap::ValueEnum>::from_str(s.trim(), true).map_err(|_| {
            let names: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
            format!("unknown kernel path {s:?} (one of {})", names.join(", "))
        })
    }
}

/// The int8 GEMM kernel a path uses: VNNI's unsigned × signed byte dot
/// products (four products summed into each 32-bit lane per instruction)
/// where the CPU has them, plain integer loops elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Int8Kernel {
    /// AVX-512 VNNI, 512-bit (Xeon since Cascade Lake, Zen 4 and later).
    Vnni512,
    /// AVX-VNNI, 256-bit (Alder Lake and later client cores, Zen 5).
    AvxVnni,
    /// AMX tiles (`tdpbusd`, 16 × 16 × 64 products per instruction).
    Amx,
    /// The AMX kernel on [`super::amx::TileModel`], software: tests only.
    #[cfg(test)]
    AmxModel,
    /// Plain integer loops: correct everywhere, not fast.
    Portable,
}

impl Int8Kernel {
    /// The int8 kernel for `path` on this CPU: the widest VNNI the path's
    /// registers allow, else the plain loops.
    pub fn for_path(path: KernelPath) -> Int8Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            let has = |f: bool| path != KernelPath::Portable && f;
            // AMX only once the hardware has been seen to agree with the
            // plain kernel; else the VNNI kernel below.
            if path == KernelPath::Amx && super::gemm_amx::hardware_agrees() {
                return Int8Kernel::Amx;
            }
            if path.vectors() == KernelPath::Avx512
                && has(std::arch::is_x86_feature_detected!("avx512vnni"))
            {
                return Int8Kernel::Vnni512;
            }
            if has(std::arch::is_x86_feature_detected!("avxvnni")) {
                return Int8Kernel::AvxVnni;
            }
        }
        // Elsewhere every path runs the plain loops.
        #[cfg(not(target_arch = "x86_64"))]
        let _ = path;
        Int8Kernel::Portable
    }

    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Vnni512 => "avx512-vnni",
            Int8Kernel::AvxVnni => "avx-vnni",
            Int8Kernel::Amx => "amx",
            #[cfg(test)]
            Int8Kernel::AmxModel => "amx (tile model)",
            Int8Kernel::Portable => "portable",
        }
    }

    /// Whether this kernel has hardware dot products (worth choosing for speed).
    pub fn in_hardware(self) -> bool {
        matches!(
            self,
            Int8Kernel::Vnni512 | Int8Kernel::AvxVnni | Int8Kernel::Amx
        )
    }
}

impl fmt::Display for Int8Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

static CHOSEN: OnceLock<KernelPath> = OnceLock::new();

/// The variable that forces a path when no `--kernel` is given.
pub const KERNEL_ENV: &str = "CALLTONE_KERNEL";

/// Forces `path` for this process (before any model is loaded). Refuses a
/// path the CPU lacks, or a second, different choice.
pub fn force(path: KernelPath) -> Result<(), String> {
    if !path.supported() {
        return Err(format!(
            "--kernel {path}: this CPU has no {path} (it runs: {})",
            supported_names()
        ));
    }
    let chosen = *CHOSEN.get_or_init(|| path);
    if chosen != path {
        return Err(format!(
            "--kernel {path}: the {chosen} path is already in use"
        ));
    }
    Ok(())
}

/// The path in use: the one forced, else `CALLTONE_KERNEL` (ignored, with a
/// warning, when this CPU lacks it), else the fastest this CPU runs.
pub fn active() -> KernelPath {
    *CHOSEN.get_or_init(default_path)
}

/// What `active` would choose, without fixing the choice (for `--version`,
/// which is made before the command line is read).
pub fn would_use() -> KernelPath {
    CHOSEN
        .get()
        .copied()
        .unwrap_or_else(|| from_env().unwrap_or_else(|_| KernelPath::best()))
}

/// The path `CALLTONE_KERNEL` names if this CPU runs it, else the fastest;
/// why the variable was not followed, when it was set and not followed.
fn from_env() -> Result<KernelPath, String> {
    let best = KernelPath::best();
    match std::env::var(KERNEL_ENV) {
        Ok(name) if !name.trim().is_empty() => match name.parse::<KernelPath>() {
            Ok(p) if p.supported() => Ok(p),
            Ok(p) => Err(format!(
                "{KERNEL_ENV}={name}: this CPU has no {p}; using {best}"
            )),
            Err(e) => Err(format!("{KERNEL_ENV}: {e}; using {best}")),
        },
        _ => Ok(best),
    }
}

fn default_path() -> KernelPath {
    from_env().unwrap_or_else(|why| {
        crate::say!("calltone: {why}");
        KernelPath::best()
    })
}

/// `avx512, avx2, portable`: the paths this CPU runs, fastest first.
pub fn supported_names() -> String {
    KernelPath::ALL
        .into_iter()
        .filter(|p| p.supported())
        .map(KernelPath::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compiles a function's body for each x86 path (AVX2 + FMA, AVX-512) as
/// well as for the baseline, and calls the copy for the active path: the
/// row-wise passes are plain loops, and this way the compiler vectorises
/// them for the widest vectors the CPU has, in a portable binary.
macro_rules! per_path {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) {
            // `FUSED`: whether `fma::fmadd` may be one FMA instruction
            // (the AVX2 and AVX-512 copies, compiled with FMA); the
            // baseline copy multiplies and adds (`mul_add` there would be
            // a libm call).
            #[inline(always)]
            fn body<const FUSED: bool>($($arg: $ty),*) $body
            /// # Safety
            /// The CPU has AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2($($arg: $ty),*) {
                body::<true>($($arg),*)
            }
            /// # Safety
            /// The CPU has AVX-512 F, BW, VL and DQ, AVX2 and FMA.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")]
            unsafe fn avx512($($arg: $ty),*) {
                body::<true>($($arg),*)
            }
            match $crate::model::fast::cpu::active().vectors() {
                // SAFETY: `active` returns only a path this CPU runs.
                #[cfg(target_arch = "x86_64")]
                $crate::model::fast::cpu::KernelPath::Avx512 => unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::model::fast::cpu::KernelPath::Avx2 => unsafe { avx2($($arg),*) },
                _ => body::<false>($($arg),*),
            }
        }
    };
}
pub(crate) use per_path;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_the_best_path_is_supported() {
        for p in KernelPath::ALL {
            assert_eq!(p.name().parse::<KernelPath>().unwrap(), p);
        }
        assert!("sse9".parse::<KernelPath>().is_err());
        assert!(KernelPath::best().supported());
        assert!(KernelPath::Portable.supported());
    }
}
