//! The cluster recipes in deploy/ run: the Kubernetes Indexed Job's command
//! for every completion index, with the manifest's environment (paths
//! pointed at a temporary folder), then the merge, equals one machine's
//! output; the Slurm array does the same with its task ids; and Spark's
//! RDD.pipe contract (turn lines on standard input) scores like a file.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use common::cli::{assert_success, calltone, fixture, Fixture};

/// The `- name: X` / `value: Y` pairs of a manifest's env list.
fn manifest_env(yaml: &str) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut name: Option<String> = None;
    for line in yaml.lines().map(str::trim) {
        if let Some(n) = line.strip_prefix("- name: ") {
            name = Some(n.split('#').next().unwrap().trim().to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("value: "), name.take()) {
            env.insert(n, v.trim().trim_matches('"').to_string());
        }
    }
    env
}

fn field(yaml: &str, key: &str) -> usize {
    yaml.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .and_then(|v| v.split('#').next()?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {key} in the manifest"))
}

fn night(f: &Fixture) -> PathBuf {
    let dir = f.root.join("transcripts");
    std::fs::create_dir_all(&dir).unwrap();
    for file in 0..3 {
        let mut lines = String::new();
        for call in 0..12 {
            for turn in 0..4 {
                let w = common::WORDS[(file * 31 + call * 7 + turn) % common::WORDS.len()];
                let speaker = if turn % 2 == 0 { "agent" } else { "customer" };
                lines.push_str(&format!(
                    "{{\"call_id\":\"n{file}-{call}\",\"speaker\":\"{speaker}\",\"text\":\"{w} {w} thanks\"}}\n"
                ));
            }
        }
        std::fs::write(dir.join(format!("batch-{file}.jsonl")), lines).unwrap();
    }
    dir
}

fn single_run(f: &Fixture, input: &Path) -> Vec<u8> {
    let out = f.root.join("single.jsonl");
    let run = calltone()
        .args(["score", "--quiet", "--model", &f.model])
        .arg(input)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_success(&run);
    std::fs::read(out).unwrap()
}

/// Runs deploy/run-shard.sh as a pod or array task would.
fn run_shard(f: &Fixture, env: &BTreeMap<String, String>, index_var: &str, index: usize) {
    let mut cmd = Process::new("sh");
    cmd.arg("deploy/run-shard.sh")
        .envs(env)
        .env("CALLTONE", assert_cmd::cargo::cargo_bin("calltone"))
        .env("CALLTONE_ARGS", format!("--model {} --quiet", f.model))
        .env("CALLTONE_HOME", "/nonexistent-calltone-home")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env(index_var, index.to_string());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{index_var}={index}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn merged(dir: &Path, shards: usize) -> Vec<u8> {
    let parts: Vec<PathBuf> = (0..shards)
        .map(|k| dir.join(format!("shard-{k}.jsonl")))
        .collect();
    let out = calltone().arg("merge").args(&parts).output().unwrap();
    assert_success(&out);
    out.stdout
}

#[test]
fn the_indexed_job_runs_every_index_and_merges_into_the_single_run() {
    let f = fixture();
    let input = night(&f);
    let yaml = std::fs::read_to_string("deploy/kubernetes/indexed-job.yaml").unwrap();
    assert!(yaml.contains("completionMode: Indexed"));
    assert!(
        yaml.contains("deploy/run-shard.sh"),
        "the pods run run-shard.sh"
    );
    let completions = field(&yaml, "completions");
    let mut env = manifest_env(&yaml);
    assert_eq!(
        env["SHARDS"],
        completions.to_string(),
        "SHARDS = completions"
    );
    assert_eq!(field(&yaml, "parallelism"), completions);
    // The pod's paths, pointed at this machine.
    let results = f.root.join("results");
    for (k, v) in [("INPUT", &input), ("OUTPUT_DIR", &results)] {
        assert!(env.contains_key(k), "the manifest sets {k}");
        env.insert(k.into(), v.display().to_string());
    }
    for index in 0..completions {
        run_shard(&f, &env, "JOB_COMPLETION_INDEX", index);
    }
    assert!(merged(&results, completions) == single_run(&f, &input));

    // A shard retried after a crash resumes its partial output.
    let part = results.join("shard-1.jsonl");
    let text = std::fs::read_to_string(&part).unwrap();
    std::fs::write(
        results.join("shard-1.jsonl.partial"),
        &text[..text.len() / 2],
    )
    .unwrap();
    std::fs::remove_file(&part).unwrap();
    run_shard(&f, &env, "JOB_COMPLETION_INDEX", 1);
    assert_eq!(std::fs::read_to_string(&part).unwrap(), text);
}

#[test]
fn the_slurm_array_runs_the_same_shards() {
    let f = fixture();
    let input = night(&f);
    let script = std::fs::read_to_string("deploy/slurm/score-array.sbatch").unwrap();
    let array = script
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array="))
        .unwrap();
    let last: usize = array.split_whitespace().next().unwrap()[2..]
        .parse()
        .unwrap();
    let shards: usize = script
        .lines()
        .find_map(|l| l.strip_prefix("export SHARDS="))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(last + 1, shards, "--array=0-{last} and SHARDS={shards}");
    assert!(script.contains("run-shard.sh"));
    let results = f.root.join("slurm-results");
    let env: BTreeMap<String, String> = [
        ("SHARDS", shards.to_string()),
        ("INPUT", input.display().to_string()),
        ("OUTPUT_DIR", results.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for task in 0..shards {
        run_shard(&f, &env, "SLURM_ARRAY_TASK_ID", task);
    }
    assert!(merged(&results, shards) == single_run(&f, &input));

    // Without a scheduler's index the script stops with a message.
    let out = Process::new("sh")
        .arg("deploy/run-shard.sh")
        .envs(&env)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no shard index"));
}

#[test]
fn spark_pipe_turn_lines_on_stdin_score_like_the_file() {
    let f = fixture();
    let input = night(&f);
    let file = input.join("batch-1.jsonl");
    let lines = std::fs::read(&file).unwrap();
    let piped = calltone()
        .args(["score", "-", "--quiet", "--model", &f.model])
        .write_stdin(lines)
        .output()
        .unwrap();
    assert_success(&piped);
    let direct = calltone()
        .args(["score", "--quiet", "--model", &f.model])
        .arg(&file)
        .output()
        .unwrap();
    assert_success(&direct);
    let turns = |out: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter(|l| l.contains(r#""type":"turn""#))
            .map(String::from)
            .collect()
    };
    assert_eq!(turns(&piped.stdout).len(), 48);
    assert_eq!(turns(&piped.stdout), turns(&direct.stdout));
}
