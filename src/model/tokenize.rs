//! Loads a `tokenizer.json` for scoring: no truncation (long turns are split
//! into windows upstream, never cut) and no padding (batches pad themselves).

use std::path::Path;

use tokenizers::Tokenizer;

use super::ModelError;

pub fn load_tokenizer(path: &Path) -> Result<Tokenizer, ModelError> {
    if !path.is_file() {
        return Err(ModelError::MissingFile(path.to_path_buf()));
    }
    let mut tok = Tokenizer::from_file(path).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        reason: format!("not a readable tokenizer: {e}"),
    })?;
    tok.with_padding(None);
    tok.with_truncation(None).map_err(|e| ModelError::BadFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(tok)
}

/// Token ids of `text` with the model's special tokens around them.
pub fn encode(tok: &Tokenizer, text: &str) -> Vec<u32> {
    match tok.encode(text, true) {
        Ok(enc) => enc.get_ids().to_vec(),
        // Tokenizers with a normaliser only fail on pathological input; an
        // empty encoding then scores as an empty text rather than aborting.
        Err(_) => Vec::new(),
    }
}

/// Token ids of `text` without special tokens, with each token's byte span.
pub fn encode_plain(tok: &Tokenizer, text: &str) -> (Vec<u32>, Vec<(usize, usize)>) {
    match tok.encode(text, false) {
        Ok(enc) => (enc.get_ids().to_vec(), enc.get_offsets().to_vec()),
        Err(_) => (Vec::new(), Vec::new()),
    }
}
