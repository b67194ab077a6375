//! What each CPU precision measured for a model on the dev split
//! (`precisions.json` beside a calltone head), and what `--precision auto`
//! chooses from it on this CPU.
//!
//! `auto` never assumes a format keeps the answers: a precision is eligible
//! only when `calltone eval --dev --precision P --record` measured it for
//! this model within [`TOLERANCE`] of fp32 on binary accuracy and on the
//! strong-negative AUC. Among the eligible ones it takes the fastest this
//! CPU runs well: int8 where the CPU has VNNI (measured about twice fp32's
//! speed, docs/speed.md), else fp32. A model without a record runs fp32.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::fast::cpu::Int8Kernel;
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
            command: "calltone eval --dev --precision P --record".into(),
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

    /// Adds (or replaces) `precision`'s entry and writes the file
    /// atomically (a temporary file renamed over it).
    pub fn record(
        head_dir: &Path,
        precision: Precision,
        measured: Measured,
    ) -> Result<(), ModelError> {
        let mut record = Self::read(head_dir)?.unwrap_or_default();
        record.measured.insert(precision.to_string(), measured);
        let path = path_in(head_dir);
        let mut text = serde_json::to_string_pretty(&record).expect("a record serialises");
        text.push('\n');
        let io = |e: std::io::Error| ModelError::io(&path, e);
        let mut file = tempfile::NamedTempFile::new_in(head_dir).map_err(io)?;
        std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
        file.persist(&path).map_err(|e| io(e.error))?;
        Ok(())
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

/// What `auto` runs on the CPU, and why, given the model's record and this
/// CPU's int8 kernel.
pub fn choose_on_cpu(record: Option<&PrecisionRecord>, int8: Int8Kernel) -> (Precision, String) {
    let Some(record) = record else {
        return (
            Precision::Fp32,
            "no precision was measured for this model".into(),
        );
    };
    if !int8.is_vnni() {
        return (
            Precision::Fp32,
            "this CPU has no VNNI: int8 would be slower than fp32".into(),
        );
    }
    match record.keeps_the_answers(Precision::Int8) {
        Ok(()) => (
            Precision::Int8,
            format!(
                "int8 measured within {} points of fp32 on the dev split",
                TOLERANCE * 100.0
            ),
        ),
        Err(why) => (Precision::Fp32, why),
    }
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

    #[test]
    fn auto_takes_int8_only_when_measured_close_and_the_cpu_has_vnni() {
        let close = record(&[
            ("fp32", measured(0.9222, 0.9384)),
            ("int8", measured(0.9209, 0.9382)),
        ]);
        assert_eq!(
            choose_on_cpu(Some(&close), Int8Kernel::Vnni512).0,
            Precision::Int8
        );
        assert_eq!(
            choose_on_cpu(Some(&close), Int8Kernel::AvxVnni).0,
            Precision::Int8
        );
        let (p, why) = choose_on_cpu(Some(&close), Int8Kernel::Portable);
        assert_eq!(p, Precision::Fp32);
        assert!(why.contains("no VNNI"), "{why}");

        let worse_auc = record(&[
            ("fp32", measured(0.9222, 0.9384)),
            ("int8", measured(0.9220, 0.9300)),
        ]);
        let (p, why) = choose_on_cpu(Some(&worse_auc), Int8Kernel::Vnni512);
        assert_eq!(p, Precision::Fp32);
        assert!(why.contains("strong-negative AUC measured 0.9300"), "{why}");

        // Exactly at the tolerance is still in; just past it is out.
        let edge = record(&[
            ("fp32", measured(0.9250, 0.9400)),
            ("int8", measured(0.9200, 0.9400)),
        ]);
        assert_eq!(
            choose_on_cpu(Some(&edge), Int8Kernel::Vnni512).0,
            Precision::Int8
        );
        let past = record(&[
            ("fp32", measured(0.9250, 0.9400)),
            ("int8", measured(0.9190, 0.9400)),
        ]);
        assert_eq!(
            choose_on_cpu(Some(&past), Int8Kernel::Vnni512).0,
            Precision::Fp32
        );

        let unmeasured = record(&[("fp32", measured(0.9222, 0.9384))]);
        let (p, why) = choose_on_cpu(Some(&unmeasured), Int8Kernel::Vnni512);
        assert_eq!(p, Precision::Fp32);
        assert!(why.contains("int8 was not measured"), "{why}");
        assert_eq!(choose_on_cpu(None, Int8Kernel::Vnni512).0, Precision::Fp32);

        let mut other_set = close.clone();
        other_set.measured.get_mut("int8").unwrap().examples = 100;
        assert_eq!(
            choose_on_cpu(Some(&other_set), Int8Kernel::Vnni512).0,
            Precision::Fp32
        );
    }

    #[test]
    fn a_record_round_trips_and_a_second_entry_keeps_the_first() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(PrecisionRecord::read(dir.path()).unwrap(), None);
        PrecisionRecord::record(dir.path(), Precision::Fp32, measured(0.9, 0.8)).unwrap();
        PrecisionRecord::record(dir.path(), Precision::Int8, measured(0.89, 0.8)).unwrap();
        let back = PrecisionRecord::read(dir.path()).unwrap().unwrap();
        assert_eq!(back.measured.len(), 2);
        assert_eq!(back.measured["fp32"].binary_accuracy, 0.9);
        std::fs::write(dir.path().join(FILE), "{\"format\":\"other/9\"}").unwrap();
        let err = PrecisionRecord::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILE), "{err}");
    }
}
