//! Loads the model a command names, with the precision it asks for.

use crate::cli::args::ModelArg;
use crate::model::fast::FastEncoder;
use crate::model::{ModelSource, Precision, SentimentModel};

/// `--model` and `--precision` → a ready model. A model calltone's kernels
/// cannot run (say, tanh-GELU) falls back to the reference encoder with a
/// notice rather than failing.
pub fn load_model(arg: &ModelArg) -> anyhow::Result<SentimentModel> {
    let source = ModelSource::parse(arg.model.as_deref())?;
    let mut model =
        SentimentModel::load(&source, candle_core::DType::F32, &candle_core::Device::Cpu)?;
    let mut precision = arg.precision;
    if precision != Precision::Reference {
        if let Some(why) = FastEncoder::unsupported(&model.encoder) {
            eprintln!(
                "calltone: {precision} kernels cannot run {} ({why}); using the reference encoder",
                model.name
            );
            precision = Precision::Reference;
        }
    }
    model.set_precision(precision)?;
    Ok(model)
}
