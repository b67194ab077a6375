//! Turns a turn's text into scoring units that fit the model.

pub mod windows;
