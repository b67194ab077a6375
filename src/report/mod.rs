//! Writers: turn the analysis into JSONL, JSON or CSV records, written
//! atomically, and read calltone's own results back. They render what
//! `analysis` produced and compute nothing new.

pub mod atomic;
pub mod batch_csv;
pub mod html;
pub mod merge;
pub mod records;
pub mod resume;
pub mod saved;
pub mod schema;
pub mod sink;
pub mod terminal;

pub use records::{CallRecord, TurnRecord, SCHEMA};
pub use saved::{read_saved, SavedCall};
pub use sink::{OutputFormat, RecordSink};
