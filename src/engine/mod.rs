//! The scoring pipeline: tokenize in parallel, split long texts into windows,
//! batch windows of similar length under a token budget, run the model, and
//! put the scores back in input order.

pub mod batching;
pub mod ceiling;
pub mod scorer;
pub mod shard;

pub use scorer::{ScoreOptions, ScoreStats, Scorer, UnitScore};
