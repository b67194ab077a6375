//! Writers: turn the analysis into JSONL, JSON or CSV records, written
//! atomically. They render what `analysis` produced and compute nothing new.

pub mod atomic;
pub mod records;
pub mod sink;

pub use records::{CallRecord, TurnRecord, SCHEMA};
pub use sink::{OutputFormat, RecordSink};
