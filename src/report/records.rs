//! The output records (schema `calltone/1`, documented in the README):
//! one `"type": "turn"` record per turn, numbered from 0 within its call in
//! input order, then one `"type": "call"` record per call with its moments,
//! metrics and categories. `calltone/2` added those three (and `anger` on
//! customer turns) to `calltone/1`; readers accept both.

use serde::{Deserialize, Serialize};

use crate::analysis::call_metrics::CallMetrics;
use crate::analysis::{CallAnalysis, CallSummary, CategoryMatch, Moment, RoleSentiment, TurnScore};
use crate::model::Polarity;
use crate::transcript::{CallSpan, Channel, Conversation, Role};

pub const SCHEMA: &str = "calltone/2";

/// The `type` of the record that ends a shard's output.
pub const SHARD_RECORD: &str = "shard";

/// The last line of a `score --shard K/N` output (JSONL): which shard it
/// is, how many calls it holds and how many the whole input had, so that
/// `merge` can tell a complete set of shards from one with a shard lost. A
/// merge of a complete set drops these lines (the result equals a
/// one-machine run); `merge --allow-missing` ends a partial result with one
/// listing the shards it lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardRecord {
    #[serde(rename = "type")]
    #[schemars(extend("const" = "shard"))]
    pub kind: String,
    pub schema: String,
    /// The shards this file holds, `K/N` each (one for a shard's own output).
    pub shards: Vec<String>,
    /// Shards of the same run that this file lacks (only a partial merge has any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Calls in this file.
    pub calls: usize,
    /// Calls in the whole input (every shard reads it all, so all agree).
    pub input_calls: usize,
}

impl ShardRecord {
    pub fn new(
        shards: Vec<String>,
        missing: Vec<String>,
        calls: usize,
        input_calls: usize,
    ) -> Self {
        Self {
            kind: SHARD_RECORD.into(),
            schema: SCHEMA.into(),
            shards,
            missing,
            calls,
            input_calls,
        }
    }

    /// The record as one JSONL line.
    pub fn write_line(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TurnRecord {
    #[serde(rename = "type")]
    #[schemars(extend("const" = "turn"))]
    pub kind: String,
    pub call_id: String,
    pub turn: usize,
    pub speaker: String,
    pub role: Role,
    pub role_inferred: bool,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// ISO-8601 UTC time of a chat message (absent when the format has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_clock: Option<String>,
    pub text: String,
    /// Null when the turn had no text to score.
    pub label: Option<Polarity>,
    pub negative: Option<f32>,
    pub neutral: Option<f32>,
    pub positive: Option<f32>,
    pub score: Option<f32>,
    pub intensity: Option<f32>,
    pub windows: Option<usize>,
    /// A scored customer turn's anger (0..1) as the moments analysis read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anger: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CallRecord {
    #[serde(rename = "type")]
    #[schemars(extend("const" = "call"))]
    pub kind: String,
    pub schema: String,
    pub call_id: String,
    pub source: String,
    pub format: String,
    pub channel: Channel,
    pub model: String,
    pub turns: usize,
    pub scored_turns: usize,
    /// From the first turn's start to the end of the last words (ms); absent
    /// when the transcript has no times. The same in `metrics`.
    pub duration_ms: Option<u64>,
    pub roles_inferred: bool,
    /// The agent's name where the transcript gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    pub customer: Option<RoleSentiment>,
    pub agent: Option<RoleSentiment>,
    /// Spans where the customer's anger was present or building.
    pub moments: Vec<Moment>,
    /// Per-call and per-speaker numbers; absent in `calltone/1` records.
    #[serde(default)]
    pub metrics: Option<CallMetrics>,
    /// Rule categories the call fell into (empty without a rules file).
    #[serde(default)]
    pub categories: Vec<CategoryMatch>,
    /// The call's place in the whole input (0, 1, …), the same on every
    /// shard: `calltone merge` restores the single-machine order from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<usize>,
    /// Fingerprint of the call's content, for `score --resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
}

/// Unix epoch ms → `2026-03-02T09:00:40.000Z`.
pub fn iso_utc(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// The turn records of one call.
pub fn turn_records(
    conv: &Conversation,
    scores: &[Option<TurnScore>],
    analysis: &CallAnalysis,
) -> Vec<TurnRecord> {
    conv.turns
        .iter()
        .zip(scores)
        .enumerate()
        .map(|(i, (t, s))| TurnRecord {
            kind: "turn".into(),
            call_id: conv.id.clone(),
            turn: i,
            speaker: t.speaker.clone(),
            role: t.role,
            role_inferred: t.role_inferred,
            start_ms: t.start_ms,
            end_ms: t.end_ms,
            wall_clock: t.wall_clock_ms.and_then(iso_utc),
            text: t.text.clone(),
            label: s.as_ref().map(|s| s.label),
            negative: s.as_ref().map(|s| s.negative),
            neutral: s.as_ref().map(|s| s.neutral),
            positive: s.as_ref().map(|s| s.positive),
            score: s.as_ref().map(|s| s.score),
            intensity: s.as_ref().map(|s| s.intensity),
            windows: s.as_ref().map(|s| s.windows),
            anger: analysis.anger_by_turn.get(i).copied().flatten(),
        })
        .collect()
}

pub fn call_record(
    conv: &Conversation,
    summary: &CallSummary,
    analysis: &CallAnalysis,
    model: &str,
) -> CallRecord {
    let duration_ms = CallSpan::of(&conv.turns).duration_ms();
    CallRecord {
        kind: "call".into(),
        schema: SCHEMA.into(),
        call_id: conv.id.clone(),
        source: conv.source.clone(),
        format: conv.format.clone(),
        channel: conv.channel,
        model: model.to_string(),
        turns: summary.turns,
        scored_turns: summary.scored_turns,
        duration_ms,
        roles_inferred: summary.roles_inferred,
        agent_name: conv.meta.get("agent_name").cloned(),
        customer: summary.customer.clone(),
        agent: summary.agent.clone(),
        moments: analysis.moments.clone(),
        metrics: Some(analysis.metrics.clone()),
        categories: analysis.categories.clone(),
        seq: None,
        content_hash: None,
    }
}
