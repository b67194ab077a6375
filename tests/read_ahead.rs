//! Reading the next chunk of files while the model scores this one (what a
//! GPU run does) writes the same records, byte for byte, as reading and
//! scoring in turn (what the CPU does): checked here on the CPU with a tiny
//! model, over every fixture format, more files than one chunk holds, calls
//! renamed for sharing an id, a file that fails, and a shard.

mod common;

use std::path::{Path, PathBuf};

use calltone::analysis::Rules;
use calltone::model::{load_model, ModelChoice, Precision};
use calltone::pipeline::progress::NotesOnly;
use calltone::pipeline::score::{score, ScorePlan};
use calltone::report::OutputFormat;
use calltone::transcript::inputs::PathFilter;
use calltone::transcript::{ReadLimits, RoleHints};
use common::{write_model, Layout};

fn plan(paths: Vec<PathBuf>, output: &Path, read_ahead: bool, shard: Option<&str>) -> ScorePlan {
    ScorePlan {
        paths,
        filter: PathFilter::new(&[], &[]).unwrap(),
        input_format: None,
        limits: ReadLimits::default(),
        hints: RoleHints::default(),
        shard: shard.map(|s| s.parse().unwrap()),
        resume: false,
        output: Some(output.to_path_buf()),
        format: OutputFormat::Jsonl,
        token_budget: None,
        rules: Rules::default(),
        redact: true,
        keep_for_report: false,
        read_ahead: Some(read_ahead),
    }
}

#[test]
fn reading_ahead_writes_the_same_records_as_reading_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    write_model(
        &dir.path().join("model"),
        Layout::Bert,
        &["negative", "neutral", "positive"],
    );
    let model = load_model(&ModelChoice {
        model: Some(dir.path().join("model").display().to_string()),
        precision: Precision::Fp32,
        ..ModelChoice::default()
    })
    .unwrap();
    // 150 small calls in two folders with the same file names (so ids
    // collide and are renamed), past the 64 files of one chunk, plus a file
    // that is not a transcript and every fixture format.
    for folder in ["day1", "day2"] {
        let d = dir.path().join(folder);
        std::fs::create_dir_all(&d).unwrap();
        for i in 0..75 {
            std::fs::write(
                d.join(format!("c{i}.txt")),
                format!("Agent: hello, call {i}\nCustomer: this is useless, fix it now\n"),
            )
            .unwrap();
        }
    }
    std::fs::write(dir.path().join("day2/broken.txt"), [0u8, 1, 2, 3]).unwrap();
    let paths = vec![
        dir.path().join("day1"),
        dir.path().join("day2"),
        PathBuf::from("tests/fixtures"),
    ];
    for shard in [None, Some("1/3")] {
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        let in_turn = score(&plan(paths.clone(), &a, false, shard), &model, &NotesOnly).unwrap();
        let ahead = score(&plan(paths.clone(), &b, true, shard), &model, &NotesOnly).unwrap();
        let (a, b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert!(!a.is_empty());
        assert!(a == b, "shard {shard:?}: the records differ");
        assert_eq!(
            (
                in_turn.calls,
                in_turn.turns,
                in_turn.renamed,
                in_turn.failures.len()
            ),
            (
                ahead.calls,
                ahead.turns,
                ahead.renamed,
                ahead.failures.len()
            )
        );
        assert_eq!(in_turn.failures.len(), 1, "the broken file, named once");
        if shard.is_none() {
            assert_eq!(in_turn.renamed, 75, "day2's calls renamed");
        }
    }
}
