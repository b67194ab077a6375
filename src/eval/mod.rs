//! Labelled text and the measures calltone reports about its model.

pub mod labelled;
pub mod metrics;
pub mod run;
