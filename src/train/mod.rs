//! `calltone train`: fits calltone's head (and LoRA adapters on the encoder)
//! on human-labelled sentiment text.

pub mod fit;
pub mod soup;
