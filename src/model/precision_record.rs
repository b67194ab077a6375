//! What each CPU precision measured for a model on the dev split
//! (`precisions.json` beside a calltone head), and what `--precision auto`
//! chooses from it on this CPU.
//!
//! `auto` never assumes a format keeps the answers: a precision is eligible
//! only when `calltone eval --dev --model DIR --precision P --record` measured it for
//! this model within [`TOLERANCE`] of fp32 on binary accuracy and on the
//! strong-negative AUC. Among the eligible ones it takes the fastest this
//! CPU runs in hardware: int8 where the CPU has VNNI (about twice fp32's
//! speed, docs/speed.md), then bf16 where it has AVX512-BF16 (about 1.5×),
//! else fp32. A model without a record runs fp32.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::fast::cpu::Int8Kernel;
use super::fast::gemm_bf16::Bf16Kernel;
use super::precision::Precision;
use super::ModelError;

/// The file beside `head.json`.
pub const FILE: &str = "precisions.json";
const FORMAT: &str = "calltone-precisions/1";

/// How far below fp32 (as a fraction: 0.005 = half a point) a precision's
/// binary accuracy and strong-negative AUC may measure and still be chosen.
pub const TOLERANCE: f64 = 0.005;

/// One precision's dev measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub binary_accuracy: f64,
    pub strong_negative_auc: f64,
    pub examples: usize,
    /// What ran (`int8 (avx512-vnni) on the avx512 CPU path`).
    pub engine: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecord {
    pub format: String,
    /// How each entry was measured.
    pub command: String,
    /// By precision name (`fp32`, `int8`).
    pub measured: BTreeMap<String, Measured>,
}

impl Default for PrecisionRecord {
    fn default() -> Self {
        Self {
            format: FORMAT.into(),
            command: "calltone eval --dev --model DIR --precision P --record".into(),
            measured: BTreeMap::new(),
        }
    }
}

fn path_in(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl PrecisionRecord {
    /// The record beside a head, if there is one.
    pub fn read(head_dir: &Path) -> Result<Option<Self>, ModelError> {
        let path = path_in(head_dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(ModelError::io(&path, e)),
        };
        let record: Self = serde_json::from_str(&text).map_err(|e| ModelError::BadFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if record.format != FORMAT {
            return Err(ModelError::BadFile {
                path,
                reason: format!("format {:?}, expected {FORMAT:?}", record.format),
            });
        }
        Ok(Some(record))
    }

    /// The record with `precision`'s entry added (or replaced).
    pub fn with(mut self, precision: Precision, measured: Measured) -> Self {
        self.measured.insert(precision.to_string(), measured);
        self
    }

    /// The file's text (pretty JSON, a final newline).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a record serialises");
        text.push('\n');
        text
    }

    /// Where the record of the head in `head_dir` lives.
    pub fn path(head_dir: &Path) -> PathBuf {
        path_in(head_dir)
    }

    /// Whether `precision` measured within [`TOLERANCE`] of fp32 on both
    /// measures; why not, when it did not.
    pub fn keeps_the_answers(&self, precision: Precision) -> Result<(), String> {
        let name = precision.to_string();
        let fp32 = self
            .measured
            .get("fp32")
            .ok_or("fp32 was not measured for this model")?;
        let other = self
            .measured
            .get(&name)
            .ok_or_else(|| format!("{name} was not measured for this model"))?;
        if fp32.examples != other.examples {
            return Err(format!(
                "{name} and fp32 were measured on different sets ({} and {} examples)",
                other.examples, fp32.examples
            ));
        }
        for (what, a, b) in [
            (
                "binary accuracy",
                fp32.binary_accuracy,
                other.binary_accuracy,
            ),
            (
                "strong-negative AUC",
                fp32.strong_negative_auc,
                other.strong_negative_auc,
            ),
        ] {
            // 1e-9: "exactly half a point" survives the decimal fractions' rounding.
            if a - b > TOLERANCE + 1e-9 {
                return Err(format!(
                    "{name}'s {what} measured {b:.4} against fp32's {a:.4}, more than {} points below",
                    TOLERANCE * 100.0
                ));
            }
        }
        Ok(())
    }
}

/// The CPU's kernels for the formats `auto` may choose.
#[derive(Clone, Copy, Debug)]
pub struct CpuKernels {
    pub int8: Int8Kernel,
    pub bf16: Bf16Kernel,
}

impl CpuKernels {
    /// The kernels of the process's path.
    pub fn active() -> Self {
        let path = super::fast::cpu::active();
        Self {
            int8: Int8Kernel::for_path(path),
            bf16: Bf16Kernel::for_path(path),
        }
    }
}

/// What `auto` runs on the CPU, and why, given the model's record and this
/// CPU's kernels: the fastest format (int8 on VNNI, then bf16 on
/// AVX512-BF16, measured in that order of speed in docs/speed.md) that the
/// CPU runs in hardware and that measured within [`TOLERANCE`] of fp32;
/// else fp32.
pub fn choose_on_cpu(record: Option<&PrecisionRecord>, kernels: CpuKernels) -> (Precision, String) {
    let Some(record) = record else {
        return (
            Precision::Fp32,
            "no precision was measured for this model".into(),
        );
    };
    let candidates = [
        (
            Precision::Int8,
            kernels.int8.in_hardware(),
            "this CPU has no VNNI or AMX",
        ),
        (
            Precision::Bf16,
            kernels.bf16.in_hardware(),
            "this CPU has no AVX512-BF16 or AMX",
        ),
    ];
    let mut why_not = Vec::new();
    for (precision, in_hardware, missing) in candidates {
        if !in_hardware {
            why_not.push(format!("{precision}: {missing}"));
            continue;
        }
        match record.keeps_the_answers(precision) {
            Ok(()) => {
                let why = format!(
                    "{precision} measured within {} points of fp32 on the dev split",
                    TOLERANCE * 100.0
                );
                return (precision, why);
            }
            Err(why) => why_not.push(why),
        }
    }
    (Precision::Fp32, why_not.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(binary: f64, auc: f64) -> Measured {
        Measured {
            binary_accuracy: binary,
            strong_negative_auc: auc,
            examples: 3954,
            engine: "test".into(),
        }
    }

    fn record(entries: &[(&str, Measured)]) -> PrecisionRecord {
        let mut r = PrecisionRecord::default();
        for (name, m) in entries {
            r.measured.insert((*name).into(), m.clone());
        }
        r
    }

    const VNNI: CpuKernels = CpuKernels {
        int8: Int8Kernel::Vnni512,
        bf16: Bf16Kernel::Avx512Bf16,
    };
    const AVX_VNNI: CpuKernels = CpuKernels {
        int8: Int8Kernel::AvxVnni,
        bf16: Bf16Kernel::Portable,
    };
    const NEITHER: CpuKernels = CpuKernels {
        int8: Int8Kernel::Portable,
        bf16: Bf16Kernel::Portable,
    };
    const BF16_ONLY: CpuKernels = CpuKernels {
        int8: Int8Kernel::Portable,
        bf16: Bf16Kernel::Avx512Bf16,
    };

    #[test]
    fn auto_takes_int8_only_when_measured_close_and_the_cpu_has_vnni() {
        let close = record(&[
            ("fp32", measured(0.9222, 0.9384)),
            ("int8", measured(0.9209, 0.9382)),
        ]);
        assert_eq!(choose_on_cpu(Some(&close), VNNI).0, Precision::Int8);
        assert_eq!(choose_on_cpu(Some(&close), AVX_VNNI).0, Precision::Int8);
        let (p, why) = choose_on_cpu(Some(&close), NEITHER);
        assert_eq!(p, Precision::Fp32);
        assert!(why.contains("no VNNI"), "{why}");

        let worse_auc = record(&[
            ("fp32", measured(0.9222, 0.9384)),
            ("int8", measured(0.9220, 0.9300)),
        ]);
        let (p, why) = choose_on_cpu(Some(&worse_auc), VNNI);
        assert_eq!(p, Precision::Fp32);
        assert!(why.contains("strong-negative AUC measured 0.9300"), "{why}");

        // Exactly at the tolerance is still in; just past it is out.
        let edge = record(&[
            ("fp32", measured(0.9250, 0.9400)),
            ("int8", measured(0.9200, 0.9400)),
        ]);
        assert_eq!(choose_on_cpu(Some(&edge), VNNI).0, Precision::Int8);
        let past = record(&[
            ("fp32", measured(0.9250, 0.9400)),
            ("int8", measured(0.9190, 0.9400)),
        ]);
        assert_eq!(choose_on_cpu(Some(&past), VNNI).0, Precision::Fp32);

        let unmeasured = record(&[("fp32", measured(0.9222, 0.9384))]);
        let (p, why) = choose_on_cpu(Some(&unmeasured), VNNI);
        assert_eq!(p, Precision::Fp32);
        assert!(why.contains("int8 was not measured"), "{why}");
        assert_eq!(choose_on_cpu(None, VNNI).0, Precision::Fp32);

        // bf16 is next: taken where int8 fails or the CPU has no VNNI.
        let both = record(&[
            ("fp32", measured(0.9222, 0.9384)),
            ("int8", measured(0.9100, 0.9384)),
            ("bf16", measured(0.9220, 0.9383)),
        ]);
        assert_eq!(choose_on_cpu(Some(&both), VNNI).0, Precision::Bf16);
        assert_eq!(choose_on_cpu(Some(&both), BF16_ONLY).0, Precision::Bf16);
        let (p, why) = choose_on_cpu(Some(&both), AVX_VNNI);
        assert_eq!(p, Precision::Fp32);
        assert!(
            why.contains("int8's binary accuracy") && why.contains("no AVX512-BF16"),
            "{why}"
        );

        let mut other_set = close.clone();
        other_set.measured.get_mut("int8").unwrap().examples = 100;
        assert_eq!(choose_on_cpu(Some(&other_set), VNNI).0, Precision::Fp32);
    }

    #[test]
    fn a_record_round_trips_and_a_foreign_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(PrecisionRecord::read(dir.path()).unwrap(), None);
        let record = PrecisionRecord::default()
            .with(Precision::Fp32, measured(0.9, 0.8))
            .with(Precision::Int8, measured(0.89, 0.8));
        std::fs::write(PrecisionRecord::path(dir.path()), record.to_json()).unwrap();
        let back = PrecisionRecord::read(dir.path()).unwrap().unwrap();
        assert_eq!(back.measured.len(), 2);
        assert_eq!(back.measured["fp32"].binary_accuracy, 0.9);
        std::fs::write(dir.path().join(FILE), "{\"format\":\"other/9\"}").unwrap();
        let err = PrecisionRecord::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILE), "{err}");
    }
}
