//! Result files given on the command line (files, folders, `-`), read back
//! one file at a time; a file that cannot be read is named on standard error
//! and the others go on.

use std::path::PathBuf;

use crate::report::{read_saved, SavedCall};
use crate::transcript::inputs::{expand_filtered, read_bytes, PathFilter};
use crate::transcript::ReadError;

/// Results files larger than this are refused (a night of calls is far smaller).
const MAX_RESULTS_BYTES: u64 = 4 << 30;

/// Calls `each` with every file's calls; returns the inputs read and the failures.
pub fn for_each_saved(
    paths: &[PathBuf],
    mut each: impl FnMut(Vec<SavedCall>) -> anyhow::Result<()>,
) -> anyhow::Result<(usize, Vec<ReadError>)> {
    let filter = PathFilter::new(&[], &[]).map_err(anyhow::Error::msg)?;
    let (inputs, mut failures) = expand_filtered(paths, &filter);
    for f in &failures {
        eprintln!("calltone: {f}");
    }
    for input in &inputs {
        match read_bytes(input, MAX_RESULTS_BYTES).and_then(|b| read_saved(&input.label(), &b)) {
            Ok(saved) => each(saved)?,
            Err(e) => {
                eprintln!("calltone: {e}");
                failures.push(e);
            }
        }
    }
    Ok((inputs.len(), failures))
}
