//! Expands the paths a user gave into the files to read: files as given,
//! folders walked recursively (sorted, hidden entries skipped, transcript
//! extensions only), and `-` for standard input.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::ReadError;

/// Extensions picked up inside folders (a file named on the command line is
/// always read, whatever its name).
pub const FOLDER_EXTENSIONS: [&str; 7] = ["txt", "jsonl", "json", "vtt", "srt", "gz", "log"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_filter_folder_entries() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.json", "b.txt", "sub/c.json", "sub/skip-d.json"] {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, "x").unwrap();
        }
        let filter = PathFilter::new(&["*.json".into()], &["skip-*".into()]).unwrap();
        let (inputs, errors) = expand_filtered(&[dir.path().to_path_buf()], &filter);
        assert!(errors.is_empty());
        let names: Vec<String> = inputs
            .iter()
            .map(|i| i.label().rsplit('/').next().unwrap().to_string())
            .collect();
        assert_eq!(names, vec!["a.json", "c.json"]);
        assert!(PathFilter::new(&["[".into()], &[]).is_err());
    }

    #[test]
    fn input_chunks_bound_files_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let inputs: Vec<Input> = [10usize, 10, 10, 50, 5, 5, 5, 5]
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let p = dir.path().join(format!("{i}.txt"));
                std::fs::write(&p, "x".repeat(n)).unwrap();
                Input::File(p)
            })
            .collect();
        let sizes: Vec<usize> = input_chunks(&inputs, 3, 25)
            .iter()
            .map(|c| c.len())
            .collect();
        // 10+10 | 10 | 50 alone | 5+5+5 (three files) | 5
        assert_eq!(sizes, vec![2, 1, 1, 3, 1]);
        assert_eq!(input_chunks(&[Input::Stdin], 3, 25).len(), 1);
        assert!(input_chunks(&[], 3, 25).is_empty());
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    pub fn label(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".into(),
        }
    }
}

fn wanted(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| FOLDER_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `--include` / `--exclude` globs, applied to files found inside folders
/// (matched against the path below the folder; `*` crosses `/`).
#[derive(Debug, Clone, Default)]
pub struct PathFilter {
    include: Option<globset::GlobSet>,
    exclude: Option<globset::GlobSet>,
}

impl PathFilter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Self, String> {
        let build = |globs: &[String]| -> Result<Option<globset::GlobSet>, String> {
            if globs.is_empty() {
                return Ok(None);
            }
            let mut b = globset::GlobSetBuilder::new();
            for g in globs {
                b.add(globset::Glob::new(g).map_err(|e| format!("bad glob {g:?}: {e}"))?);
            }
            b.build().map(Some).map_err(|e| e.to_string())
        };
        Ok(Self {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    fn keeps(&self, relative: &Path) -> bool {
        let name = relative.file_name().map(Path::new).unwrap_or(relative);
        let hit = |set: &globset::GlobSet| set.is_match(relative) || set.is_match(name);
        self.include.as_ref().is_none_or(hit) && !self.exclude.as_ref().is_some_and(hit)
    }
}

/// The inputs (folder entries only where they pass `filter`), plus errors
/// for paths that do not exist.
pub fn expand_filtered(paths: &[PathBuf], filter: &PathFilter) -> (Vec<Input>, Vec<ReadError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            inputs.push(Input::Stdin);
        } else if p.is_dir() {
            let walker = WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                });
            for entry in walker {
                match entry {
                    Ok(e)
                        if e.file_type().is_file()
                            && wanted(e.path())
                            && filter.keeps(e.path().strip_prefix(p).unwrap_or(e.path())) =>
                    {
                        inputs.push(Input::File(e.into_path()))
                    }
                    Ok(_) => {}
                    Err(e) => errors.push(ReadError {
                        path: e
                            .path()
                            .map(|x| x.display().to_string())
                            .unwrap_or_else(|| p.display().to_string()),
                        reason: e.to_string(),
                    }),
                }
            }
        } else if p.exists() {
            inputs.push(Input::File(p.clone()));
        } else {
            errors.push(ReadError {
                path: p.display().to_string(),
                reason: "no such file or folder".into(),
            });
        }
    }
    (inputs, errors)
}

/// Reads an input's bytes, refusing files over `max_bytes`.
/// Consecutive inputs read together: at most `max_files`, and no more than
/// about `max_bytes` by size on disk (a bigger file is a chunk of its own;
/// standard input counts as empty). Reading chunk by chunk keeps memory flat
/// on a night's worth of files.
pub fn input_chunks(inputs: &[Input], max_files: usize, max_bytes: u64) -> Vec<&[Input]> {
    let size = |i: &Input| match i {
        Input::File(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
        Input::Stdin => 0,
    };
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, input) in inputs.iter().enumerate() {
        let b = size(input);
        if i > start && (i - start >= max_files.max(1) || bytes + b > max_bytes) {
            chunks.push(&inputs[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += b;
    }
    if start < inputs.len() {
        chunks.push(&inputs[start..]);
    }
    chunks
}

pub fn read_bytes(input: &Input, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let label = input.label();
    let e = |reason: String| ReadError {
        path: label.clone(),
        reason,
    };
    let mut buf = Vec::new();
    match input {
        Input::Stdin => {
            std::io::stdin()
                .lock()
                .take(max_bytes + 1)
                .read_to_end(&mut buf)
                .map_err(|x| e(x.to_string()))?;
        }
        Input::File(p) => {
            let f = std::fs::File::open(p).map_err(|x| e(x.to_string()))?;
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            if len > max_bytes {
                return Err(e(format!(
                    "{len} bytes is over the {max_bytes}-byte limit (--max-file-bytes)"
                )));
            }
            f.take(max_bytes + 1)
                .read_to_end(&mut buf)
                .map_err(|x| e(x.to_string()))?;
        }
    }
    if buf.len() as u64 > max_bytes {
        return Err(e(format!(
            "over the {max_bytes}-byte limit (--max-file-bytes)"
        )));
    }
    Ok(buf)
}
