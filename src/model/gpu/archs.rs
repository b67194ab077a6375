// Which GPU architectures a CUDA build compiles calltone's kernels for.
// build.rs includes this file (so it names nothing from the crate, and its
// comments are plain ones: an included file may not carry inner docs); the
// library's copy is what its tests check and `--version` reports.
//
// - `CALLTONE_CUDA_ARCHS`: a list, `80,90` (also `8.0 9.0`, `sm_80;sm_90`):
//   exactly those (a quicker build, a smaller binary);
// - else every architecture in [`DEFAULT_CUDA_ARCHS`] the compiler knows,
//   plus `CUDA_COMPUTE_CAP` (what candle's own kernels are built for) if
//   it is not among them.
//
// Each gets machine code (no compiling at start on that GPU), and the oldest
// also gets PTX, which the driver compiles for a GPU newer than every one
// in the list (once, and cached: 18 small kernels, not candle's hundreds).

/// Turing (T4) through Blackwell (B200, RTX 50): the data-center and
/// workstation GPUs of the last six years.
pub const DEFAULT_CUDA_ARCHS: &[u32] = &[75, 80, 86, 89, 90, 100, 120];

/// One architecture as nvcc numbers it: `86` from `86`, `8.6`, `sm_86` or
/// `compute_86`.
pub fn parse_cuda_arch(word: &str) -> Result<u32, String> {
    let w = word.trim();
    let digits = w
        .strip_prefix("sm_")
        .or_else(|| w.strip_prefix("compute_"))
        .unwrap_or(w);
    let number = match digits.split_once('.') {
        Some((major, minor)) => format!("{major}{minor}"),
        None => digits.to_string(),
    };
    match number.parse::<u32>() {
        Ok(n) if (30..=200).contains(&n) => Ok(n),
        _ => Err(format!(
            "{word:?} is not a GPU architecture (expected e.g. 80, 8.6 or sm_90)"
        )),
    }
}

/// A list separated by commas, semicolons or spaces, sorted, each once.
pub fn parse_cuda_arch_list(list: &str) -> Result<Vec<u32>, String> {
    let mut archs = list
        .split([',', ';', ' '])
        .filter(|w| !w.trim().is_empty())
        .map(parse_cuda_arch)
        .collect::<Result<Vec<_>, _>>()?;
    archs.sort_unstable();
    archs.dedup();
    if archs.is_empty() {
        return Err(format!("{list:?} names no GPU architecture"));
    }
    Ok(archs)
}

/// The architectures to build for: the list, else the defaults the
/// compiler supports (`supported`: the `compute_NN` it lists; `None` when it
/// could not be asked) plus the one compute capability, if it is not among
/// them.
pub fn choose_cuda_archs(
    list: Option<&str>,
    compute_cap: Option<&str>,
    supported: Option<&[u32]>,
) -> Result<Vec<u32>, String> {
    if let Some(list) = list.filter(|l| !l.trim().is_empty()) {
        return parse_cuda_arch_list(list);
    }
    let mut archs: Vec<u32> = DEFAULT_CUDA_ARCHS
        .iter()
        .copied()
        .filter(|a| supported.is_none_or(|s| s.contains(a)))
        .collect();
    if let Some(cap) = compute_cap.filter(|c| !c.trim().is_empty()) {
        let cap = parse_cuda_arch(cap)?;
        if !archs.contains(&cap) {
            archs.push(cap);
            archs.sort_unstable();
        }
    }
    if archs.is_empty() {
        return Err(format!(
            "the CUDA compiler supports none of {DEFAULT_CUDA_ARCHS:?}; \
             name architectures with CALLTONE_CUDA_ARCHS"
        ));
    }
    Ok(archs)
}

/// nvcc's `-gencode` arguments: machine code for each, PTX for the oldest.
pub fn gencode_args(archs: &[u32]) -> Vec<String> {
    let mut args: Vec<String> = archs
        .iter()
        .map(|a| format!("-gencode=arch=compute_{a},code=sm_{a}"))
        .collect();
    if let Some(oldest) = archs.iter().min() {
        args.push(format!(
            "-gencode=arch=compute_{oldest},code=compute_{oldest}"
        ));
    }
    args
}

/// Whether kernels built for `built` load on a GPU of compute capability
/// `cc` (as 86 for 8.6): machine code runs on its own major version from its
/// minor up, and the PTX of the oldest compiles for anything newer, so
/// every GPU at least as new as the oldest is covered.
pub fn loads_on(built: &[u32], cc: u32) -> bool {
    built.iter().min().is_some_and(|&oldest| cc >= oldest)
}

/// The `compute_NN` numbers in `nvcc --list-gpu-arch`'s output.
pub fn listed_cuda_archs(nvcc_output: &str) -> Vec<u32> {
    nvcc_output
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("compute_"))
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_in_every_spelling_and_sorted() {
        assert_eq!(parse_cuda_arch_list("90,80").unwrap(), vec![80, 90]);
        assert_eq!(parse_cuda_arch_list("8.0 9.0").unwrap(), vec![80, 90]);
        assert_eq!(
            parse_cuda_arch_list("sm_86;compute_86; 75").unwrap(),
            vec![75, 86]
        );
        for bad in ["", " , ", "ninety", "sm_", "9.x", "5"] {
            assert!(parse_cuda_arch_list(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn the_list_wins_else_the_supported_defaults_and_the_compute_cap() {
        assert_eq!(
            choose_cuda_archs(Some("80,90"), Some("86"), None).unwrap(),
            vec![80, 90]
        );
        assert_eq!(
            choose_cuda_archs(None, Some("8.9"), None).unwrap(),
            DEFAULT_CUDA_ARCHS
        );
        assert_eq!(
            choose_cuda_archs(None, Some("87"), None).unwrap(),
            vec![75, 80, 86, 87, 89, 90, 100, 120]
        );
        assert!(choose_cuda_archs(None, Some("eighty"), None).is_err());
        assert_eq!(
            choose_cuda_archs(Some(" "), None, None).unwrap(),
            DEFAULT_CUDA_ARCHS
        );
        // A CUDA 11.8 nvcc knows nothing past Hopper.
        let cuda_11_8 = listed_cuda_archs(
            "compute_35 compute_50 compute_75 compute_80 compute_86 compute_89 compute_90",
        );
        assert_eq!(
            choose_cuda_archs(None, None, Some(&cuda_11_8)).unwrap(),
            vec![75, 80, 86, 89, 90]
        );
        assert!(choose_cuda_archs(None, None, Some(&[35, 50])).is_err());
    }

    #[test]
    fn a_gpu_older_than_every_built_architecture_is_not_covered() {
        assert!(loads_on(&[80, 90], 80));
        assert!(loads_on(&[80, 90], 86));
        assert!(loads_on(&[80, 90], 120));
        assert!(!loads_on(&[80, 90], 75));
        assert!(!loads_on(&[90], 89));
        assert!(!loads_on(&[], 90));
    }

    #[test]
    fn every_architecture_gets_machine_code_and_the_oldest_ptx() {
        assert_eq!(
            gencode_args(&[80, 90]),
            vec![
                "-gencode=arch=compute_80,code=sm_80",
                "-gencode=arch=compute_90,code=sm_90",
                "-gencode=arch=compute_80,code=compute_80",
            ]
        );
    }
}
