//! The one walk of a mapping repo's folders (`check`, `fmt`, `test`, and the language
//! server through them): it never follows a symlink out of the root, never reads what is
//! not a regular file, walks each real folder once (a symlink loop ends), and stops at a
//! depth and a number of entries no real repo reaches.

use super::fs::display_name;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Deepest folder walked below the starting one.
const MAX_DEPTH: usize = 32;
/// Most entries read in one walk.
const MAX_ENTRIES: usize = 200_000;

/// What a walk found: the files, and the entries it would not take, each with why.
#[derive(Debug, Default)]
pub struct Found {
    /// Regular files ending in the extension, sorted, each once (by its real path).
    pub files: Vec<PathBuf>,
    /// Entries of that extension refused (a symlink out of the root, a FIFO, a device,
    /// a broken link): reading them could hang, leak or exhaust memory.
    pub refused: Vec<Refused>,
    /// Symlinks to a folder already walked (a loop), left alone.
    pub loops: Vec<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Refused {
    pub path: PathBuf,
    pub why: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", display_name(&self.path), self.why)
    }
}

/// Files ending in `.ext` at `start` (a file, or a folder walked, with its subfolders when
/// `deep`), none outside `root`. A `start` that cannot be read is an error.
pub fn walk(start: &Path, root: &Path, ext: &str, deep: bool) -> Result<Found, String> {
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot read {}: {e}", display_name(root)))?;
    let mut w = Walker {
        root,
        ext: ext.to_string(),
        deep,
        seen_dirs: HashSet::new(),
        seen_files: HashSet::new(),
        entries: 0,
        found: Found::default(),
    };
    let meta = std::fs::symlink_metadata(start)
        .map_err(|e| format!("cannot read {}: {e}", display_name(start)))?;
    if meta.is_dir() || meta.file_type().is_symlink() && start.is_dir() {
        let canon = start
            .canonicalize()
            .map_err(|e| format!("cannot read {}: {e}", display_name(start)))?;
        w.seen_dirs.insert(canon);
        w.dir(start, 0)?;
    } else {
        // A file named by the user: taken whatever its extension, if it is a regular file.
        w.file(start, true);
    }
    w.found.files.sort();
    Ok(w.found)
}

/// The `.map` files of the paths given to `check` or `fmt` (none: the mapping root of the
/// `bondmap.toml` above the working folder, else `mappings/`), each folder walked within
/// `root` when given, else within itself. A file named directly is taken if it is a
/// regular file.
pub fn mapping_files(paths: &[PathBuf], root: Option<&Path>) -> Result<Found, String> {
    files_of(paths, root, "map")
}

/// [`mapping_files`] for files ending in `.ext` (the customs tables `check` reads, `csv`).
pub fn files_of(paths: &[PathBuf], root: Option<&Path>, ext: &str) -> Result<Found, String> {
    let given: Vec<PathBuf> = if paths.is_empty() {
        let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
        match super::Repo::find(&cwd)? {
            Some(r) => vec![r.root()],
            None => vec![PathBuf::from("mappings")],
        }
    } else {
        paths.to_vec()
    };
    let mut all = Found::default();
    for p in &given {
        let within = match root {
            Some(r) => r.to_path_buf(),
            None if p.is_dir() => p.clone(),
            None => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        let within = if within.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            within
        };
        let f = walk(p, &within, ext, true)?;
        all.files.extend(f.files);
        all.refused.extend(f.refused);
        all.loops.extend(f.loops);
    }
    all.files.sort();
    all.files.dedup();
    Ok(all)
}

struct Walker {
    root: PathBuf,
    ext: String,
    deep: bool,
    seen_dirs: HashSet<PathBuf>,
    seen_files: HashSet<PathBuf>,
    entries: usize,
    found: Found,
}

impl Walker {
    fn refuse(&mut self, path: &Path, why: impl Into<String>) {
        self.found.refused.push(Refused {
            path: path.to_path_buf(),
            why: why.into(),
        });
    }

    fn dir(&mut self, dir: &Path, depth: usize) -> Result<(), String> {
        let rd = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", display_name(dir)))?;
        let mut entries: Vec<PathBuf> = Vec::new();
        for e in rd {
            self.entries += 1;
            if self.entries > MAX_ENTRIES {
                return Err(format!(
                    "more than {MAX_ENTRIES} entries under {}: not a mapping repo",
                    display_name(dir)
                ));
            }
            entries.push(
                e.map_err(|e| format!("cannot read {}: {e}", display_name(dir)))?
                    .path(),
            );
        }
        entries.sort();
        for p in entries {
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let ours = p.extension().is_some_and(|x| *x == *self.ext);
            if meta.file_type().is_symlink() {
                self.link(&p, ours, depth)?;
            } else if meta.is_dir() {
                if self.deep {
                    self.sub(&p, depth)?;
                }
            } else if ours {
                self.file(&p, false);
            }
        }
        Ok(())
    }

    /// A folder below: walked once, however many links lead to it.
    fn sub(&mut self, p: &Path, depth: usize) -> Result<(), String> {
        if depth + 1 > MAX_DEPTH {
            return Err(format!(
                "{} is more than {MAX_DEPTH} folders deep: not a mapping repo",
                display_name(p)
            ));
        }
        let canon = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        if !self.seen_dirs.insert(canon) {
            self.found.loops.push(p.to_path_buf());
            return Ok(());
        }
        self.dir(p, depth + 1)
    }

    fn link(&mut self, p: &Path, ours: bool, depth: usize) -> Result<(), String> {
        let Ok(target) = p.canonicalize() else {
            if ours {
                self.refuse(p, "a symlink that leads nowhere (or into a loop)");
            }
            return Ok(());
        };
        if !target.starts_with(&self.root) {
            if ours || target.is_dir() {
                self.refuse(
                    p,
                    format!(
                        "a symlink to a place outside the mapping root {}: not read",
                        display_name(&self.root)
                    ),
                );
            }
            return Ok(());
        }
        if target.is_dir() {
            if self.deep {
                self.sub(p, depth)?;
            }
        } else if ours {
            self.file(p, false);
        }
        Ok(())
    }

    /// A file of the extension (or one named by the user): a regular one, once.
    fn file(&mut self, p: &Path, named: bool) {
        let meta = match std::fs::metadata(p) {
            Ok(m) => m,
            Err(e) => {
                self.refuse(p, e.to_string());
                return;
            }
        };
        if !meta.is_file() {
            if named && meta.is_dir() {
                return;
            }
            self.refuse(
                p,
                "it is not a regular file (a FIFO, a device or a folder): not read",
            );
            return;
        }
        let canon = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        if self.seen_files.insert(canon) {
            self.found.files.push(p.to_path_buf());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loop_is_walked_once_and_a_link_out_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("m");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::write(root.join("a/x.map"), "").unwrap();
        std::fs::write(t.path().join("secret.map"), "").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("..", root.join("a/up")).unwrap();
            std::os::unix::fs::symlink(t.path().join("secret.map"), root.join("out.map")).unwrap();
            std::os::unix::fs::symlink("a/x.map", root.join("same.map")).unwrap();
        }
        let f = walk(&root, &root, "map", true).unwrap();
        assert_eq!(f.files.len(), 1, "{f:?}");
        #[cfg(unix)]
        {
            assert_eq!(f.refused.len(), 1, "{f:?}");
            assert!(f.refused[0].why.contains("outside"), "{f:?}");
            assert_eq!(f.loops.len(), 1, "{f:?}");
        }
    }
}
