//! calltone: finds irate-customer moments in call and chat transcripts.
//!
//! Data flows one way: `transcript` (read files) → `text` (scoring units) →
//! `engine` (batched model inference) → `analysis` (pure functions over
//! scores) → `report` (writers). `model` says what the engine runs; `train`
//! and `eval` make and measure the default model.

pub mod analysis;
pub mod cli;
pub mod engine;
pub mod eval;
pub mod model;
pub mod report;
pub mod text;
pub mod train;
pub mod transcript;
