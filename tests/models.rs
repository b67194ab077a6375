//! Loading models of every supported layout: labels from `id2label`, the same
//! score alone and in a padded batch, errors that name the bad file, and our
//! encoder against candle-transformers' BERT as the plain reference.

mod common;

use calltone::model::encoder::Mode;
use calltone::model::{ModelSource, Precision, SentimentModel};
use candle_core::{DType, Device};
use common::{write_model, Layout};

const TEXTS: [&str; 4] = [
    "the call was terrible",
    "thanks",
    "i am angry cancel my account now you are useless again",
    "lovely service thanks again the call was great",
];

fn load(dir: &std::path::Path) -> SentimentModel {
    SentimentModel::load(
        &ModelSource::Dir(dir.to_path_buf()),
        DType::F32,
        &Device::Cpu,
    )
    .unwrap()
}

#[test]
fn every_layout_loads_with_its_labels_and_batch_invariant_scores() {
    for (layout, labels) in [
        (Layout::Bert, vec!["negative", "neutral", "positive"]),
        (Layout::Roberta, vec!["NEGATIVE", "POSITIVE"]),
        (
            Layout::DistilBert,
            vec!["1 star", "2 stars", "3 stars", "4 stars", "5 stars"],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let seed = write_model(dir.path(), layout, &labels);
        let model = load(dir.path());
        assert_eq!(model.labels, labels, "{layout:?} seed {seed}");
        let batch = model.score_texts(&TEXTS).unwrap();
        for (i, text) in TEXTS.iter().enumerate() {
            let alone = &model.score_texts(&[text]).unwrap()[0];
            let together = &batch[i];
            for (a, b) in [
                (alone.negative, together.negative),
                (alone.neutral, together.neutral),
                (alone.positive, together.positive),
            ] {
                assert!(
                    (a - b).abs() < 1e-4,
                    "{layout:?} seed {seed}: {text:?} alone {a} vs batch {b}"
                );
            }
            let sum = together.negative + together.neutral + together.positive;
            assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
        }
        // Random weights give different scores to different texts.
        assert!(
            (batch[0].negative - batch[1].negative).abs() > 1e-6,
            "{layout:?} seed {seed}"
        );
    }
}

/// calltone's kernels against candle's encoder on the same random model,
/// for every layout, on random id rows of mixed lengths in one batch (the
/// kernels run them ragged, the reference padded). Bound: 1e-4 on each
/// probability and intensity (fp32, different summation orders).
#[test]
fn fast_kernels_match_the_reference_encoder_in_every_layout() {
    use rand::{Rng, SeedableRng};
    for layout in [Layout::Bert, Layout::Roberta, Layout::DistilBert] {
        let dir = tempfile::tempdir().unwrap();
        let seed = write_model(dir.path(), layout, &["negative", "neutral", "positive"]);
        let reference = load(dir.path());
        let mut fast = load(dir.path());
        fast.set_precision(Precision::Fp32).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let max = reference.max_tokens;
        let rows: Vec<Vec<u32>> = [1, 2, 7, 13, 31, max]
            .iter()
            .map(|&len| {
                (0..len)
                    .map(|_| rng.random_range(0..common::vocab_size() as u32))
                    .collect()
            })
            .collect();
        let rows: Vec<&[u32]> = rows.iter().map(Vec::as_slice).collect();
        let want = reference.score_rows(&rows).unwrap();
        let got = fast.score_rows(&rows).unwrap();
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            for (a, b) in [
                (w.negative, g.negative),
                (w.neutral, g.neutral),
                (w.positive, g.positive),
                (w.intensity, g.intensity),
            ] {
                assert!(
                    (a - b).abs() < 1e-4,
                    "{layout:?} seed {seed} row {i} ({} tokens): reference {a} vs fast {b}",
                    rows[i].len()
                );
            }
        }
        // A row longer than the model takes is refused, not cut.
        let long = vec![5u32; max + 1];
        assert!(fast.score_rows(&[&long]).is_err(), "{layout:?}");
    }
}

fn load_error(dir: &std::path::Path) -> calltone::model::ModelError {
    SentimentModel::load(&ModelSource::Dir(dir.into()), DType::F32, &Device::Cpu)
        .err()
        .expect("loading should fail")
}

#[test]
fn missing_and_wrong_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), Layout::Bert, &["negative", "positive"]);
    std::fs::remove_file(dir.path().join("tokenizer.json")).unwrap();
    let err = load_error(dir.path());
    assert!(err.to_string().contains("tokenizer.json"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), Layout::Bert, &["negative", "positive"]);
    std::fs::write(dir.path().join("model.safetensors"), b"not safetensors").unwrap();
    let err = load_error(dir.path());
    assert!(err.to_string().contains("model.safetensors"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), Layout::Bert, &["sports", "politics"]);
    let err = load_error(dir.path());
    assert!(
        err.to_string().contains("config.json") && err.to_string().contains("sports"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    write_model(dir.path(), Layout::DistilBert, &["negative", "positive"]);
    let mut w =
        candle_core::safetensors::load(dir.path().join("model.safetensors"), &Device::Cpu).unwrap();
    w.remove("distilbert.transformer.layer.1.ffn.lin2.weight");
    candle_core::safetensors::save(&w, dir.path().join("model.safetensors")).unwrap();
    let err = load_error(dir.path());
    let msg = err.to_string();
    assert!(
        msg.contains("model.safetensors") && msg.contains("layer.1.ffn.lin2.weight"),
        "{msg}"
    );
}

#[test]
fn hub_ids_offline_fail_fast_with_a_message() {
    std::env::set_var("HF_HUB_OFFLINE", "1");
    std::env::set_var("HF_HOME", tempfile::tempdir().unwrap().path());
    let source = ModelSource::parse(Some("someorg/some-sentiment-model")).unwrap();
    assert_eq!(
        source,
        ModelSource::Hub("someorg/some-sentiment-model".into())
    );
    let err = SentimentModel::load(&source, DType::F32, &Device::Cpu)
        .err()
        .unwrap();
    assert!(err.to_string().contains("HF_HUB_OFFLINE"), "{err}");
}

/// Our encoder against candle-transformers' BertModel on the same random
/// weights and a padded batch: hidden states agree within 1e-4 on real tokens.
#[test]
fn encoder_matches_candle_transformers_bert() {
    let dir = tempfile::tempdir().unwrap();
    let seed = write_model(dir.path(), Layout::Bert, &["negative", "positive"]);
    let model = load(dir.path());
    let rows: Vec<Vec<u32>> = TEXTS.iter().map(|t| model.encode(t)).collect();
    let refs: Vec<&[u32]> = rows.iter().map(|r| r.as_slice()).collect();
    let (ids, mask) = model.batch_tensors(&refs).unwrap();
    let ours = model.encoder.forward(&ids, &mask, Mode::Infer).unwrap();
    let ours_train = model.encoder.forward(&ids, &mask, Mode::Train).unwrap();

    let cfg: candle_transformers::models::bert::Config =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
            .unwrap();
    // SAFETY: the file is memory-mapped; it was written above into this
    // test's own temporary folder and nothing changes it while mapped.
    let vb = unsafe {
        candle_nn::VarBuilder::from_mmaped_safetensors(
            &[dir.path().join("model.safetensors")],
            DType::F32,
            &Device::Cpu,
        )
        .unwrap()
    };
    let reference =
        candle_transformers::models::bert::BertModel::load(vb.pp("bert"), &cfg).unwrap();
    let theirs = reference
        .forward(&ids, &ids.zeros_like().unwrap(), Some(&mask))
        .unwrap();

    let m = mask.to_dtype(DType::F32).unwrap().unsqueeze(2).unwrap();
    for (name, ours) in [("infer", ours), ("train", ours_train)] {
        let diff = ((ours - &theirs).unwrap().abs().unwrap().broadcast_mul(&m)).unwrap();
        let max = diff.max_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(
            max < 1e-4,
            "{name} mode: max |ours - reference| = {max} (seed {seed})"
        );
    }
}
