//! The JSON Schema of the output records (`calltone/2`: turn, call and
//! shard records, one per JSONL line), generated from the record types
//! themselves so it cannot drift from what is written. Shipped as
//! `docs/schema/calltone-2.schema.json` (a test keeps the file equal to
//! this) and printed by `calltone schema`.

use schemars::JsonSchema;
use serde::Serialize;

use super::records::{CallRecord, ShardRecord, TurnRecord};

/// One line of calltone's JSONL output.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
// Never built: only its schema is used, so its size does not matter.
#[allow(dead_code, clippy::large_enum_variant)]
enum Record {
    Turn(TurnRecord),
    Call(CallRecord),
    Shard(ShardRecord),
}

/// The schema, as pretty JSON with a final newline.
pub fn record_schema() -> String {
    let mut schema = schemars::schema_for!(Record);
    schema.insert("title".into(), "calltone/2 record".into());
    schema.insert(
        "description".into(),
        "One line of calltone's JSONL output (score, analyze, merge): a turn record, a call \
         record, or the shard record that ends a `score --shard K/N` output."
            .into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}
