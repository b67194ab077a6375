//! Result files given on the command line (files, folders, `-`), read back
//! one file at a time; a file that cannot be read is named on standard error
//! and the others go on. A call id is one call across all the files: a call
//! whose id an earlier file already had is named and left out, not fused.

use std::collections::HashMap;
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
        crate::say!("calltone: {f}");
    }
    let mut first_in: HashMap<String, String> = HashMap::new();
    for input in &inputs {
        let label = input.label();
        match read_bytes(input, MAX_RESULTS_BYTES).and_then(|b| read_saved(&label, &b)) {
            Ok(saved) => {
                let mut unique = Vec::with_capacity(saved.len());
                for call in saved {
                    if let Some(earlier) = first_in.get(&call.call_id) {
                        let e = ReadError {
                            path: label.clone(),
                            reason: format!(
                                "call {:?} is also in {earlier}: two calls under one id are \
                                 not merged; this one is left out",
                                call.call_id
                            ),
                        };
                        crate::say!("calltone: {e}");
                        failures.push(e);
                        continue;
                    }
                    first_in.insert(call.call_id.clone(), label.clone());
                    unique.push(call);
                }
                each(unique)?
            }
            Err(e) => {
                crate::say!("calltone: {e}");
                failures.push(e);
            }
        }
    }
    Ok((inputs.len(), failures))
}
