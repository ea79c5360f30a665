//! Reading and writing the files of a mapping repo as a hostile pull request may have laid
//! them out: a file is read only when it is a regular file (never a FIFO, a device or a
//! folder), of bounded size, inside the folder it must be in; a snapshot is written only
//! where no symlink stands, into a file created new (never through a link).

use super::bundled::{self, fold};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Largest CSV table a mapping may read.
pub const MAX_CSV_BYTES: u64 = 64 << 20;
/// Largest mapping, schema, example order or snapshot file.
pub const MAX_TEXT_BYTES: u64 = 8 << 20;

/// How a file is shown to users: relative to the working folder when it is below it,
/// with `..` folded, so messages read the same on every machine.
pub fn display_name(path: &Path) -> String {
    let clean = fold(path);
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| clean.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(clean)
        .display()
        .to_string();
    // The working folder itself.
    if shown.is_empty() {
        ".".into()
    } else {
        shown
    }
}

/// The folders a mapping may read files from: its mapping root and, when `bondmap.toml`
/// takes the base from a folder, that folder. The bundled base is always readable: it is
/// in the binary.
#[derive(Debug, Clone, Default)]
pub struct Roots {
    pub root: PathBuf,
    pub base: Option<PathBuf>,
}

impl Roots {
    /// Roots of one folder.
    pub fn of(root: PathBuf) -> Roots {
        Roots { root, base: None }
    }

    /// The bytes of a file a mapping names: a bundled file, or a regular file (symlinks
    /// followed) inside one of the roots, of at most `cap` bytes. The error says why (the
    /// caller names the file) and never quotes what is in it.
    pub fn read(&self, path: &Path, cap: u64) -> Result<Vec<u8>, String> {
        if let Some(b) = bundled::lookup(path) {
            return b.map(|t| t.as_bytes().to_vec());
        }
        let (mut r, _) = self.open(path, cap)?;
        let mut buf = Vec::new();
        r.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        capped(buf, cap)
    }

    /// [`Roots::read`] for a text file: UTF-8, a byte order mark dropped.
    pub fn read_text(&self, path: &Path, cap: u64) -> Result<String, String> {
        text(self.read(path, cap)?)
    }

    /// A reader of a file a mapping names (checked as [`Roots::read`]) and its size, for
    /// reading it in pieces: a goods table of 60 MB is never held whole.
    pub fn open(&self, path: &Path, cap: u64) -> Result<(Box<dyn Read>, u64), String> {
        if let Some(b) = bundled::lookup(path) {
            return b.map(|t| (Box::new(t.as_bytes()) as Box<dyn Read>, t.len() as u64));
        }
        let canon = path.canonicalize().map_err(|e| e.to_string())?;
        let in_base = self.base.as_ref().is_some_and(|b| canon.starts_with(b));
        // The base folder holds mappings and contracts: nothing else is read from it (a
        // `path` in a hostile bondmap.toml must not open any file below it to a table).
        if in_base && !canon.starts_with(&self.root) && !mapping_or_contract(&canon) {
            return Err(
                "only mappings (.map) and contracts (.json) are read from the base folder".into(),
            );
        }
        if !(in_base || canon.starts_with(&self.root)) {
            return Err(format!(
                "it is outside the mapping root {} (a mapping reads only files below it; `--root` names another)",
                display_name(&self.root)
            ));
        }
        let f = open_regular(&canon, cap)?;
        let len = f.metadata().map_or(0, |m| m.len());
        Ok((Box::new(f.take(cap + 1)), len))
    }
}

fn mapping_or_contract(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "map" || x == "json")
}

/// Opens a regular file of at most `cap` bytes (a file the user names on the command
/// line: any regular file, never a device, a FIFO, a folder or a giant). The check is
/// made on the opened file, and opening never blocks on a FIFO.
pub fn open_regular(path: &Path, cap: u64) -> Result<File, String> {
    let f = open_nonblocking(path, false).map_err(|e| e.to_string())?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > cap {
        return Err(too_big(cap));
    }
    Ok(f)
}

/// Reads a regular file of at most `cap` bytes (see [`open_regular`]).
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    let f = open_regular(path, cap)?;
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    capped(buf, cap)
}

/// [`read_regular`] of a text: UTF-8, a byte order mark dropped.
pub fn read_regular_text(path: &Path, cap: u64) -> Result<String, String> {
    text(read_regular(path, cap)?)
}

/// Reads a file of the repo that must not be a symlink (a snapshot): refused when it
/// is one, `None` when there is no such file.
pub fn read_own(path: &Path, cap: u64) -> Result<Option<String>, String> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
        Ok(m) if m.file_type().is_symlink() => return Err(SYMLINK.into()),
        Ok(_) => {}
    }
    let f = open_nonblocking(path, true).map_err(|e| no_follow(&e))?;
    let meta = f.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    text(capped(buf, cap)?).map(Some)
}

const SYMLINK: &str = "it is a symlink: bondmap reads and writes no snapshot through one";

/// Writes `content` to `path`, a file of the repo: refused when a symlink stands there;
/// written to a file created new beside it (never following a link) and renamed over
/// the old one, so nothing outside the folder is ever written.
pub fn write_own(path: &Path, content: &[u8]) -> Result<(), String> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(SYMLINK.into());
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.unwrap_or_default(),
        std::process::id()
    ));
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = o.open(&tmp).map_err(|e| e.to_string())?;
    let written = f.write_all(content).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

/// Makes `dir` (and the folders above it, up to `top`, which must exist) as real folders:
/// refused where a symlink or a file stands on the way.
pub fn own_dirs(top: &Path, dir: &Path) -> Result<(), String> {
    let rel = dir.strip_prefix(top).unwrap_or(dir);
    let mut at = top.to_path_buf();
    let mut steps = vec![at.clone()];
    for c in rel.components() {
        at.push(c);
        steps.push(at.clone());
    }
    for p in steps {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symlink: bondmap writes no snapshot through one",
                    display_name(&p)
                ))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(format!("{} is not a folder", display_name(&p))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir(&p)
                    .map_err(|e| format!("cannot make {}: {e}", display_name(&p)))?;
            }
            Err(e) => return Err(format!("cannot read {}: {e}", display_name(&p))),
        }
    }
    Ok(())
}

/// Opens for reading without blocking on a FIFO (`O_NONBLOCK`, cleared is not needed: a
/// FIFO is refused right after) and, when `no_follow`, without following a symlink.
fn open_nonblocking(path: &Path, no_follow: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let follow = if no_follow { libc::O_NOFOLLOW } else { 0 };
        o.custom_flags(libc::O_NONBLOCK | follow);
    }
    #[cfg(not(unix))]
    let _ = no_follow;
    o.open(path)
}

fn no_follow(e: &io::Error) -> String {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::ELOOP) {
        return SYMLINK.into();
    }
    e.to_string()
}

fn too_big(cap: u64) -> String {
    format!("it is larger than {} MiB", cap >> 20)
}

/// The file may have grown since it was measured.
fn capped(buf: Vec<u8>, cap: u64) -> Result<Vec<u8>, String> {
    if buf.len() as u64 > cap {
        return Err(too_big(cap));
    }
    Ok(buf)
}

fn text(bytes: Vec<u8>) -> Result<String, String> {
    let text = String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_string())?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// The bundled set written out under `cache` (once per version and digest), for an editor
/// to open a bundled file: `cache/base-1-83aa2b1a/cainiao/bonded_whs.map`. Returns the
/// folder. A file already there is kept; nothing is written through a symlink.
pub fn bundled_on_disk(cache: &Path) -> Result<PathBuf, String> {
    let digest = bundled::digest();
    let dir = cache.join(format!(
        "base-{}-{}",
        bundled::VERSION,
        &digest[..8.min(digest.len())]
    ));
    std::fs::create_dir_all(cache).map_err(|e| e.to_string())?;
    for (name, text) in bundled::FILES {
        let p = dir.join(name);
        if std::fs::symlink_metadata(&p).is_ok() {
            continue;
        }
        if let Some(parent) = p.parent() {
            own_dirs(cache, parent)?;
        }
        write_own(&p, text.as_bytes())?;
    }
    Ok(dir)
}
