//! Labelled text and the measures calltone reports about its model, and the
//! test sets and measures for the moments analysis.

pub mod chitchat;
pub mod labelled;
pub mod metrics;
pub mod moment_bar;
pub mod moment_sets;
pub mod run;
