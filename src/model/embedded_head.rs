//! The default head, compiled into the binary, so an installed or copied
//! `calltone` finds its model with the checkout gone. At first use its files
//! are written into the cache (`heads/calltone-sentiment-<digest>/`, one
//! directory per distinct head, swapped in whole) and read from there like
//! any head directory; a later start compares the files and rewrites them
//! if they were changed or damaged.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::ModelError;
use crate::setup::cache_dir;

macro_rules! head_file {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/models/calltone-sentiment/",
                $name
            ))
            .as_slice(),
        )
    };
}

/// The head's files, as they were in `models/calltone-sentiment/` at build time.
const FILES: [(&str, &[u8]); 4] = [
    head_file!("head.json"),
    head_file!("head.safetensors"),
    head_file!("provenance.json"),
    head_file!("precisions.json"),
];

/// sha256 of one embedded file, by name (`head.safetensors`), for `--version`.
pub fn file_sha256(name: &str) -> Option<String> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, bytes)| hex::encode(Sha256::digest(bytes)))
}

/// sha256 over every file's name and bytes: names the head's directory.
pub fn digest() -> &'static str {
    static DIGEST: OnceLock<String> = OnceLock::new();
    DIGEST.get_or_init(|| {
        let mut h = Sha256::new();
        for (name, bytes) in FILES {
            h.update(name.as_bytes());
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        }
        hex::encode(h.finalize())
    })
}

/// Whether `dir` holds exactly the embedded files.
fn is_intact(dir: &Path) -> bool {
    FILES
        .iter()
        .all(|(name, bytes)| fs::read(dir.join(name)).is_ok_and(|on_disk| on_disk == *bytes))
}

/// The directory holding the embedded head, written there first if needed.
pub fn installed_dir() -> Result<PathBuf, ModelError> {
    let heads = cache_dir().join("heads");
    let dir = heads.join(format!("calltone-sentiment-{}", &digest()[..16]));
    if is_intact(&dir) {
        return Ok(dir);
    }
    fs::create_dir_all(&heads).map_err(|e| ModelError::io(&heads, e))?;
    let staged = tempfile::Builder::new()
        .prefix(".head-")
        .tempdir_in(&heads)
        .map_err(|e| ModelError::io(&heads, e))?;
    for (name, bytes) in FILES {
        let path = staged.path().join(name);
        fs::write(&path, bytes).map_err(|e| ModelError::io(&path, e))?;
    }
    // Swap the whole directory in, so a crash never leaves half a head; a
    // damaged copy is moved aside first. If another process got there
    // first with an intact copy, use that one.
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| ModelError::io(&dir, e))?;
    }
    let staged = staged.keep();
    if let Err(e) = fs::rename(&staged, &dir) {
        let _ = fs::remove_dir_all(&staged);
        if !is_intact(&dir) {
            return Err(ModelError::io(&dir, e));
        }
    }
    Ok(dir)
}
