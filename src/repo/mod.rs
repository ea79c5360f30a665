//! An integrator's own mapping repository: its `bondmap.toml` (the mapping root, where the
//! base set comes from, which examples each mapping is tested over), the one walk of its
//! folders ([`walk`]), the hostile-proof reads and writes of its files ([`fs`]) and the base
//! set bundled in the binary ([`bundled`]).
//!
//! ```toml
//! [mappings]
//! root = "mappings"
//!
//! [base]
//! bundled = "1"          # `use "base:cainiao/bonded_whs.map"` reads bondmap's bundled set 1
//! # path = "../bondmap/mappings"   # or a folder
//!
//! [test]
//! snapshots = "snapshots"
//!
//! [[test.mapping]]
//! file = "mappings/warehouses/guangzhou_nansha.map"
//! examples = "examples/orders"
//! ```

pub mod bundled;
pub mod derive;
pub mod fs;
pub mod init;
pub mod walk;

pub use fs::display_name;

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The name of the file that makes a folder a mapping repo.
pub const FILE: &str = "bondmap.toml";

/// What `use`, `target`, `source` and `table … from` write to name a file of the base set.
pub const BASE_SCHEME: &str = "base:";

/// A mapping repo: the folder of its `bondmap.toml` and what the file says.
#[derive(Debug, Clone)]
pub struct Repo {
    pub dir: PathBuf,
    pub config: Config,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub mappings: MappingsConfig,
    #[serde(default)]
    pub base: BaseConfig,
    #[serde(default)]
    pub test: TestConfig,
    #[serde(default)]
    pub sync: SyncConfig,
}

/// What the shop runs: the default `--mapping` of `sync`, `retry`, `map`, `send`,
/// `request` and `explain` run in the repo.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// The routes file (or a warehouse mapping), relative to the repo.
    pub mapping: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingsConfig {
    /// The mapping root: no file a mapping names is read outside it.
    #[serde(default = "default_root")]
    pub root: PathBuf,
}

impl Default for MappingsConfig {
    fn default() -> Self {
        MappingsConfig {
            root: default_root(),
        }
    }
}

fn default_root() -> PathBuf {
    PathBuf::from("mappings")
}

/// Where `base:` reads from: exactly one of the two.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseConfig {
    /// The version of bondmap's bundled set.
    pub bundled: Option<String>,
    /// A folder laid out as bondmap's `mappings/` (relative to the repo).
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestConfig {
    #[serde(default = "default_snapshots")]
    pub snapshots: PathBuf,
    /// The examples of a mapping that names none.
    #[serde(default = "default_examples")]
    pub examples: PathBuf,
    /// An empty examples folder is no examples, nothing to test (not an error).
    #[serde(default)]
    pub allow_empty: bool,
    /// The mappings tested and the examples of each; none: every mapping under the root
    /// that maps RED orders, over `examples`.
    #[serde(default)]
    pub mapping: Vec<TestedMapping>,
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            snapshots: default_snapshots(),
            examples: default_examples(),
            allow_empty: false,
            mapping: Vec::new(),
        }
    }
}

fn default_snapshots() -> PathBuf {
    PathBuf::from("snapshots")
}

fn default_examples() -> PathBuf {
    PathBuf::from("examples/orders")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestedMapping {
    /// A mapping or routes file.
    pub file: PathBuf,
    /// Its example inputs (`*.json`); default: `[test] examples`.
    pub examples: Option<PathBuf>,
    /// Overrides `[test] allow_empty` for this mapping.
    pub allow_empty: Option<bool>,
}

/// Where the base set is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The set bundled in this binary ([`bundled::root`]).
    Bundled,
    /// A folder on disk (canonical).
    Folder(PathBuf),
}

impl Repo {
    /// The `bondmap.toml` in `start` or the nearest folder above it; `Ok(None)` when there
    /// is none, an error when there is one that cannot be read or says something wrong.
    pub fn find(start: &Path) -> Result<Option<Repo>, String> {
        let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
        for dir in start.ancestors() {
            let file = dir.join(FILE);
            match std::fs::symlink_metadata(&file) {
                Ok(_) => return Repo::read(dir).map(Some),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot read {}: {e}", display_name(&file))),
            }
        }
        Ok(None)
    }

    /// The repo whose `bondmap.toml` is in `dir`.
    pub fn read(dir: &Path) -> Result<Repo, String> {
        let file = dir.join(FILE);
        let shown = display_name(&file);
        let text = fs::read_regular_text(&file, fs::MAX_TEXT_BYTES)
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        let config: Config = toml::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
        let repo = Repo {
            dir: dir.to_path_buf(),
            config,
        };
        repo.base()?;
        Ok(repo)
    }

    /// Where `base:` reads from; `Ok(None)` when the file names no base.
    pub fn base(&self) -> Result<Option<Base>, String> {
        let shown = display_name(&self.dir.join(FILE));
        match (&self.config.base.bundled, &self.config.base.path) {
            (Some(_), Some(_)) => Err(format!(
                "{shown}: [base] names both `bundled` and `path`: the base comes from one of them"
            )),
            (Some(v), None) if v == bundled::VERSION => Ok(Some(Base::Bundled)),
            (Some(v), None) => Err(format!(
                "{shown}: [base] bundled = \"{v}\", but this bondmap carries the bundled base {} \
                 only: review what changed (`bondmap test` shows each field), then set \
                 bundled = \"{}\", or take a bondmap that carries base {v}",
                bundled::VERSION,
                bundled::VERSION
            )),
            (None, Some(p)) => {
                let dir = self.dir.join(p);
                dir.canonicalize()
                    .map(|d| Some(Base::Folder(d)))
                    .map_err(|e| {
                        format!(
                            "{shown}: [base] path = {}: cannot read {}: {e}",
                            p.display(),
                            display_name(&dir)
                        )
                    })
            }
            (None, None) => Ok(None),
        }
    }

    /// Why `[sync] mapping = m` cannot be the default mapping: no such regular file, or
    /// one outside the mapping root (through `..` or a link).
    fn sync_mapping_problem(&self, m: &Path) -> Option<String> {
        let file = self.path(m);
        if !std::fs::metadata(&file).is_ok_and(|f| f.is_file()) {
            return Some(format!("there is no such file ({})", display_name(&file)));
        }
        let inside = match (file.canonicalize(), self.root().canonicalize()) {
            (Ok(f), Ok(r)) => f.starts_with(r),
            _ => false,
        };
        (!inside).then(|| {
            format!(
                "not a file of the mapping root {} (a default mapping is read from there only)",
                display_name(&self.root())
            )
        })
    }

    /// The mapping root, absolute.
    pub fn root(&self) -> PathBuf {
        self.dir.join(&self.config.mappings.root)
    }

    /// A path of the config, absolute.
    pub fn path(&self, p: &Path) -> PathBuf {
        self.dir.join(p)
    }
}

/// `[sync] mapping` of the `bondmap.toml` in `dir` or above: relative when the repo is
/// `dir` itself (as a person would type it), else whole. `None` without one, or when the
/// file cannot be read (the commands that read it say why).
pub fn sync_mapping(dir: &Path) -> Option<PathBuf> {
    let repo = Repo::find(dir).ok()??;
    let m = repo.config.sync.mapping.as_ref()?;
    // Only a file of the mapping root: a pull request cannot point it at another file.
    if repo.sync_mapping_problem(m).is_some() {
        return None;
    }
    let here = std::path::absolute(dir).ok();
    Some(if here.as_deref() == Some(repo.dir.as_path()) {
        m.clone()
    } else {
        repo.path(m)
    })
}

/// What is wrong with the `bondmap.toml` in `dir` or above beyond its form (which
/// reading it checks): a `[sync] mapping` that names no file would stop `sync` at start.
pub fn config_problems(dir: &Path) -> Vec<String> {
    let repo = match Repo::find(dir) {
        Ok(Some(r)) => r,
        Ok(None) => return Vec::new(),
        Err(e) => return vec![e],
    };
    let shown = display_name(&repo.dir.join(FILE));
    let mut problems = Vec::new();
    if let Some(m) = &repo.config.sync.mapping {
        if let Some(why) = repo.sync_mapping_problem(m) {
            problems.push(format!(
                "{shown}: [sync] mapping = \"{}\": {why}",
                m.display()
            ));
        }
    }
    problems
}

/// The file a `base:` name stands for, read from the `bondmap.toml` above `dir`.
pub fn resolve_base(dir: &Path, name: &str) -> Result<(PathBuf, Option<PathBuf>), String> {
    let rel = name.strip_prefix(BASE_SCHEME).unwrap_or(name);
    let repo = Repo::find(dir)?.ok_or_else(|| {
        format!(
            "`{BASE_SCHEME}` names the base set of a {FILE}, and there is none in {} or above \
             (`bondmap init` writes one)",
            display_name(dir)
        )
    })?;
    match repo.base()? {
        Some(Base::Bundled) => Ok((bundled::root().join(rel), None)),
        Some(Base::Folder(d)) => Ok((d.join(rel), Some(d))),
        None => Err(format!(
            "`{BASE_SCHEME}` names the base set, and {} has no [base] (bundled = \"{}\" or path = \"…\")",
            display_name(&repo.dir.join(FILE)),
            bundled::VERSION
        )),
    }
}

/// The base folder the `bondmap.toml` above `path` names (`[base] path`), if any.
pub fn base_folder(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    match Repo::find(dir).ok()??.base().ok()? {
        Some(Base::Folder(d)) => Some(d),
        _ => None,
    }
}

/// A message mapping's path for `sync` (`--cancel-mapping`, `--deliver-mapping`): the
/// path given when it is there; in a repo whose `bondmap.toml` names a base, the default
/// `mappings/…` path that the repo does not have is the base set's file.
pub fn message_mapping(given: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    message_mapping_in(&cwd, given)
}

/// [`message_mapping`] with relative paths taken from `dir`.
pub fn message_mapping_in(dir: &Path, given: &Path) -> PathBuf {
    if dir.join(given).exists() {
        return given.to_path_buf();
    }
    let Some(rel) = given.strip_prefix("mappings").ok().and_then(Path::to_str) else {
        return given.to_path_buf();
    };
    match resolve_base(dir, rel) {
        Ok((p, _)) => p,
        Err(_) => given.to_path_buf(),
    }
}
