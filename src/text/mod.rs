//! Turns a turn's text into scoring units that fit the model, and masks
//! personal data in what is written.

pub mod redact;
pub mod windows;
