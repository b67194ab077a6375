//! A model soup: several heads trained with the same settings and different
//! seeds, averaged into one. The class and intensity layers are averaged;
//! the LoRA updates are averaged exactly by stacking the factors
//! (`Σ Bᵢ Aᵢ / k` = `[B₁/k … B_k/k] · [A₁; …; A_k]`, rank k·r, alpha k·α, so
//! the scale α/r is kept). Inference costs the same as one head: the
//! adapters are merged into the encoder at load either way.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::model::adapter::{write_head, HeadManifest, LoraSpec, HEAD_MANIFEST};
use crate::model::ModelError;

fn bad(path: &Path, reason: impl Into<String>) -> ModelError {
    ModelError::BadFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Averages the heads in `dirs` into `out`; returns the new manifest.
pub fn average_heads(dirs: &[PathBuf], out: &Path) -> Result<HeadManifest, ModelError> {
    let k = dirs.len();
    if k < 2 {
        return Err(ModelError::Unavailable(
            "averaging needs two heads or more".into(),
        ));
    }
    let manifests: Vec<HeadManifest> = dirs
        .iter()
        .map(|d| HeadManifest::read(d))
        .collect::<Result<_, _>>()?;
    let first = &manifests[0];
    let spec = first
        .lora
        .clone()
        .ok_or_else(|| bad(&dirs[0], "a head without adapters"))?;
    for (d, m) in dirs.iter().zip(&manifests).skip(1) {
        let same_lora = m.lora.as_ref().is_some_and(|l| {
            l.rank == spec.rank && l.alpha == spec.alpha && l.layers == spec.layers
        });
        if m.labels != first.labels || m.encoder_sha256 != first.encoder_sha256 || !same_lora {
            return Err(bad(
                &d.join(HEAD_MANIFEST),
                format!(
                    "not trained like {}: labels, encoder and adapters must match",
                    dirs[0].display()
                ),
            ));
        }
    }
    let weights: Vec<HashMap<String, Tensor>> = dirs
        .iter()
        .map(|d| {
            let p = HeadManifest::weights_path(d);
            candle_core::safetensors::load(&p, &Device::Cpu).map_err(|e| bad(&p, e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let mut soup: HashMap<String, Tensor> = HashMap::new();
    for name in weights[0].keys() {
        let parts: Vec<&Tensor> = weights
            .iter()
            .zip(dirs)
            .map(|(w, d)| {
                w.get(name)
                    .ok_or_else(|| bad(&HeadManifest::weights_path(d), format!("no {name}")))
            })
            .collect::<Result<_, _>>()?;
        let averaged = if name.starts_with("lora.") && name.ends_with(".a") {
            Tensor::cat(&parts, 0)?
        } else if name.starts_with("lora.") && name.ends_with(".b") {
            (Tensor::cat(&parts, 1)? / k as f64)?
        } else {
            let mut sum = parts[0].clone();
            for p in &parts[1..] {
                sum = (sum + *p)?;
            }
            (sum / k as f64)?
        };
        soup.insert(name.clone(), averaged);
    }
    let manifest = HeadManifest {
        lora: Some(LoraSpec {
            rank: spec.rank * k,
            alpha: spec.alpha * k as f64,
            layers: spec.layers.clone(),
        }),
        ..first.clone()
    };
    write_head(out, &soup, &manifest)?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::adapter::HEAD_WEIGHTS;
    use candle_core::DType;

    fn head(dir: &Path, seed: u64) -> HashMap<String, Tensor> {
        let dev = Device::Cpu;
        let r = |shape: (usize, usize), s: u64| {
            let n = shape.0 * shape.1;
            let v: Vec<f32> = (0..n)
                .map(|i| (((i as u64 * 2654435761 + s * 97) % 1000) as f32 / 500.0) - 1.0)
                .collect();
            Tensor::from_vec(v, shape, &dev).unwrap()
        };
        let mut w = HashMap::new();
        w.insert("lora.0.query.a".to_string(), r((2, 8), seed));
        w.insert("lora.0.query.b".to_string(), r((8, 2), seed + 1));
        w.insert("head.classes.weight".to_string(), r((3, 8), seed + 2));
        std::fs::create_dir_all(dir).unwrap();
        candle_core::safetensors::save(&w, dir.join(HEAD_WEIGHTS)).unwrap();
        let m = HeadManifest {
            format: crate::model::adapter::MANIFEST_FORMAT.into(),
            labels: vec!["negative".into(), "neutral".into(), "positive".into()],
            encoder_sha256: "x".into(),
            lora: Some(LoraSpec {
                rank: 2,
                alpha: 4.0,
                layers: vec![0],
            }),
            window_tokens: 128,
        };
        std::fs::write(dir.join(HEAD_MANIFEST), serde_json::to_string(&m).unwrap()).unwrap();
        w
    }

    #[test]
    fn the_soup_is_the_exact_average_of_the_updates_and_heads() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, out) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("s"),
        );
        let (wa, wb) = (head(&a, 1), head(&b, 50));
        let m = average_heads(&[a.clone(), b.clone()], &out).unwrap();
        let spec = m.lora.clone().unwrap();
        assert_eq!((spec.rank, spec.alpha), (4, 8.0));
        let ws = candle_core::safetensors::load(out.join(HEAD_WEIGHTS), &Device::Cpu).unwrap();
        #[cfg(unix)]
        {
            // Readable by everyone, like the repository's own head.
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join(HEAD_WEIGHTS))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644);
        }
        // The merged update: scale · B A, with scale alpha / rank (2.0 in both).
        let delta = |w: &HashMap<String, Tensor>, scale: f64| {
            (w["lora.0.query.b"].matmul(&w["lora.0.query.a"]).unwrap() * scale).unwrap()
        };
        let want = ((delta(&wa, 2.0) + delta(&wb, 2.0)).unwrap() / 2.0).unwrap();
        let got = delta(&ws, spec.alpha / spec.rank as f64);
        let diff = (want - got).unwrap().abs().unwrap().max_all().unwrap();
        assert!(
            diff.to_dtype(DType::F32)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
                < 1e-5
        );
        let head_avg =
            ((&wa["head.classes.weight"] + &wb["head.classes.weight"]).unwrap() / 2.0).unwrap();
        let d = (head_avg - &ws["head.classes.weight"])
            .unwrap()
            .abs()
            .unwrap();
        assert!(d.max_all().unwrap().to_scalar::<f32>().unwrap() < 1e-6);

        // Heads trained differently do not mix.
        let mut other = HeadManifest::read(&b).unwrap();
        other.labels.pop();
        std::fs::write(
            b.join(HEAD_MANIFEST),
            serde_json::to_string(&other).unwrap(),
        )
        .unwrap();
        let e = average_heads(&[a, b], &dir.path().join("t")).unwrap_err();
        assert!(e.to_string().contains("not trained like"), "{e}");
    }
}
