//! The config loader every side shares: one `[section]` of a TOML file with the
//! environment over it. Strict: a key of the file no loader asked for, a table no side
//! reads, a value of the wrong kind or out of its range is an error, and every error of
//! the file is reported at once. A secret is never printed (its `Debug` and `Display` show
//! `***`) and no error repeats a value.
//!
//! A side's loader is one function over a [`Section`] that asks for each of its keys
//! (every key, whatever the others hold) and builds its settings:
//!
//! ```
//! # use bondmap::config::{load_section, Section};
//! fn read(s: &Section) -> (String, u64) {
//!     (s.url("X_URL", "url", "https://x.example/"), s.int(None, "tries", 1..=9, 3))
//! }
//! let loaded = load_section(&|_: &str| None, None, "cainiao", read);
//! assert_eq!(loaded.into_result().unwrap(), ("https://x.example/".to_string(), 3));
//! ```
//!
//! The section records what it was asked, so the keys a loader knows are known without a
//! second list: what the file holds beyond them is an error naming the key ("did you
//! mean"), and `bondmap config check` prints each setting with where it came from. A
//! getter never stops at a mistake: it records it and returns a stand-in, and
//! [`load_section`] hands out the settings only when nothing was recorded.

mod error;

pub use error::{ConfigError, ConfigErrors};

use std::cell::RefCell;
use std::ops::RangeInclusive;
use std::path::Path;

/// Every `[table]` a loader reads. A new side adds its table here (and its loader to
/// `bondmap config check`, which a test holds to this list).
pub const TABLES: &[&str] = &["cainiao", "console", "customs", "red"];

/// The environment as a lookup, so tests need no process environment.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A value that must never reach any output, log or error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The value, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Environment(&'static str),
    File(String),
    Default,
    /// Not set, and it has no default (a mistake when it is required).
    Unset,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Environment(v) => write!(f, "environment {v}"),
            Origin::File(p) => write!(f, "file {p}"),
            Origin::Default => f.write_str("default"),
            Origin::Unset => f.write_str("unset"),
        }
    }
}

/// One setting as loaded (`bondmap config check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub section: &'static str,
    pub key: &'static str,
    /// The variable that sets it, if one does.
    pub env: Option<&'static str>,
    pub origin: Origin,
    /// The value as it may be shown: `***` for a secret, an address without its user or
    /// query; `None` when unset or wrong.
    pub shown: Option<String>,
    /// The default as the config file would write it (`None`: no default).
    pub default: Option<String>,
    pub secret: bool,
    pub required: bool,
}

/// A loaded section: the settings only when nothing was wrong, what was asked either way.
pub struct Loaded<T> {
    /// Built from stand-ins where something was wrong: never handed out then.
    value: T,
    pub settings: Vec<Setting>,
    pub errors: ConfigErrors,
}

impl<T> Loaded<T> {
    pub fn into_result(self) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(self.value)
        } else {
            Err(self.errors)
        }
    }
}

/// One `[name]` table of the config file with the environment over it; each side asks
/// it for its own keys. Not `Debug`: it holds the secrets unmasked.
pub struct Section<'a> {
    name: &'static str,
    table: toml::Table,
    /// The file, as errors show it (`None` without one: then no key can be wrong in it).
    file: Option<String>,
    env: Env<'a>,
    settings: RefCell<Vec<Setting>>,
    errors: RefCell<ConfigErrors>,
}

/// Loads `[name]` of `file` (none without a file) under `env` with `read`, then refuses
/// what the file holds that `read` did not ask for. A file that cannot be read or parsed
/// is an error, and `read` still runs over the environment alone, so every setting is
/// listed all the same.
pub fn load_section<T>(
    env: Env,
    file: Option<&Path>,
    name: &'static str,
    read: impl FnOnce(&Section) -> T,
) -> Loaded<T> {
    let mut errors = ConfigErrors::default();
    let mut table = toml::Table::new();
    let mut shown = None;
    if let Some(p) = file {
        match read_document(p) {
            Ok(doc) => {
                errors.extend(outside_tables(&doc, &p.display().to_string()));
                match doc.get(name) {
                    Some(toml::Value::Table(t)) => table = t.clone(),
                    Some(_) => errors.extend([ConfigError::Bad {
                        place: format!("config file {}", p.display()),
                        key: name,
                        what: "a table ([…])".into(),
                    }]),
                    None => {}
                }
                shown = Some(p.display().to_string());
            }
            Err(e) => errors.extend([e]),
        }
    }
    let s = Section {
        name,
        table,
        file: shown,
        env,
        settings: RefCell::new(Vec::new()),
        errors: RefCell::new(errors),
    };
    let value = read(&s);
    s.unknown_keys();
    Loaded {
        value,
        settings: s.settings.into_inner(),
        errors: s.errors.into_inner(),
    }
}

/// The file's tables no side reads and its keys outside any table.
fn outside_tables(doc: &toml::Table, path: &str) -> Vec<ConfigError> {
    doc.iter()
        .filter(|(k, _)| !TABLES.contains(&k.as_str()))
        .map(|(k, v)| match v {
            toml::Value::Table(_) => ConfigError::UnknownTable {
                path: path.to_string(),
                table: shown_name(k),
                suggestion: closest(k, TABLES.iter().copied()),
            },
            _ => ConfigError::Loose {
                path: path.to_string(),
                key: shown_name(k),
            },
        })
        .collect()
}

/// The known name a misspelt one likely meant: the checker's likeness, or for short
/// names (`rde`) one or two letters off.
fn closest<'a>(name: &str, known: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    crate::diag::closest(name, known.clone())
        .or_else(|| {
            known
                .map(|k| (strsim::osa_distance(name, k), k))
                .filter(|(d, k)| *d <= 2 && *d < k.len().min(name.len()))
                .min_by_key(|(d, _)| *d)
                .map(|(_, k)| k)
        })
        .map(str::to_string)
}

/// A key of the file as an error shows it: a name, cut short (a secret pasted as a key
/// is not repeated whole).
fn shown_name(k: &str) -> String {
    let mut s: String = k.chars().take(40).collect();
    if s.len() < k.len() {
        s.push('…');
    }
    s
}

/// A value found, and where.
enum Found {
    Env(&'static str, String),
    File(toml::Value),
    None,
}

impl Section<'_> {
    fn record(&self, s: Setting) {
        self.settings.borrow_mut().push(s);
    }

    fn fail(&self, e: ConfigError) {
        self.errors.borrow_mut().extend([e]);
    }

    fn file_source(&self) -> String {
        format!("config file {}", self.file.as_deref().unwrap_or("?"))
    }

    /// The variable `env` (when one is given) over `key` of the file.
    fn find(&self, env: Option<&'static str>, key: &'static str) -> Found {
        if let Some(v) = env.and_then(|k| (self.env)(k).map(|v| (k, v))) {
            return Found::Env(v.0, v.1);
        }
        match self.table.get(key) {
            Some(v) => Found::File(v.clone()),
            None => Found::None,
        }
    }

    fn origin(&self, f: &Found) -> Origin {
        match f {
            Found::Env(v, _) => Origin::Environment(v),
            Found::File(_) => Origin::File(self.file.clone().unwrap_or_default()),
            Found::None => Origin::Unset,
        }
    }

    fn source(&self, f: &Found) -> String {
        match f {
            Found::Env(v, _) => format!("environment variable {v}"),
            _ => self.file_source(),
        }
    }

    /// A text of `key`: `Ok(None)` when unset, `Err` (recorded) when the file holds
    /// another kind.
    fn text_of(&self, f: &Found, key: &'static str) -> Result<Option<String>, ()> {
        match f {
            Found::Env(_, v) => Ok(Some(v.clone())),
            Found::File(toml::Value::String(s)) => Ok(Some(s.clone())),
            Found::File(_) => {
                self.fail(ConfigError::Bad {
                    place: self.file_source(),
                    key,
                    what: "a string".into(),
                });
                Err(())
            }
            Found::None => Ok(None),
        }
    }

    fn missing(&self, env: &'static str, key: &'static str, what: &'static str) -> ConfigError {
        ConfigError::Missing {
            what,
            env,
            key,
            section: self.name,
        }
    }

    /// A text value that must be set and not blank; the error names the variable and
    /// the key.
    pub fn required(&self, env: &'static str, key: &'static str, what: &'static str) -> String {
        let f = self.find(Some(env), key);
        let got = self.text_of(&f, key);
        let ok = match &got {
            Ok(Some(v)) if v.trim().is_empty() => {
                self.fail(ConfigError::Bad {
                    place: self.source(&f),
                    key,
                    what: format!("the {what}, not blank"),
                });
                false
            }
            Ok(Some(_)) => true,
            Ok(None) => {
                self.fail(self.missing(env, key, what));
                false
            }
            Err(()) => false,
        };
        let value = got.ok().flatten().unwrap_or_default();
        self.record(Setting {
            section: self.name,
            key,
            env: Some(env),
            origin: self.origin(&f),
            shown: ok.then(|| value.clone()),
            default: None,
            secret: false,
            required: true,
        });
        value
    }

    /// A secret that must be set: blank, or with white space at either end (a slip of
    /// the copy: it would sign every request wrong), it is refused; so is one shorter
    /// than `min_chars`.
    pub fn secret_min(
        &self,
        env: &'static str,
        key: &'static str,
        what: &'static str,
        min_chars: usize,
    ) -> Secret {
        match self.secret_of(env, key, what, min_chars, true) {
            Some(s) => s,
            None => Secret::new(""),
        }
    }

    /// A secret that must be set and not blank ([`Section::secret_min`] with no length).
    pub fn secret(&self, env: &'static str, key: &'static str, what: &'static str) -> Secret {
        self.secret_min(env, key, what, 1)
    }

    /// A secret that may be unset; when set it is checked as [`Section::secret`].
    pub fn optional_secret(
        &self,
        env: &'static str,
        key: &'static str,
        what: &'static str,
    ) -> Option<Secret> {
        self.secret_of(env, key, what, 1, false)
    }

    /// A secret that may be unset; when set it is checked as [`Section::secret_min`].
    pub fn optional_secret_min(
        &self,
        env: &'static str,
        key: &'static str,
        what: &'static str,
        min_chars: usize,
    ) -> Option<Secret> {
        self.secret_of(env, key, what, min_chars, false)
    }

    fn secret_of(
        &self,
        env: &'static str,
        key: &'static str,
        what: &'static str,
        min_chars: usize,
        required: bool,
    ) -> Option<Secret> {
        let f = self.find(Some(env), key);
        let got = self.text_of(&f, key);
        let why = match &got {
            Ok(Some(v)) if v.trim().is_empty() => Some("is blank".to_string()),
            Ok(Some(v)) if v.trim() != v => {
                Some("has white space at its start or end (a slip of the copy?)".to_string())
            }
            Ok(Some(v)) if v.chars().count() < min_chars => Some(format!(
                "is shorter than {min_chars} characters: a secret that short can be guessed"
            )),
            _ => None,
        };
        let refused = why.is_some();
        if let Some(why) = why {
            self.fail(ConfigError::BadSecret {
                place: self.source(&f),
                key,
                what,
                why,
            });
        }
        let value = match got {
            Ok(Some(v)) if !refused => Some(Secret::new(v)),
            Ok(None) if required => {
                self.fail(self.missing(env, key, what));
                None
            }
            _ => None,
        };
        self.record(Setting {
            section: self.name,
            key,
            env: Some(env),
            origin: self.origin(&f),
            shown: value.as_ref().map(|_| "***".to_string()),
            default: None,
            secret: true,
            required,
        });
        value
    }

    /// An http(s) address with a host, `default` when unset; checked here rather than
    /// once per call.
    pub fn url(&self, env: &'static str, key: &'static str, default: &str) -> String {
        let f = self.find(Some(env), key);
        let got = self.text_of(&f, key);
        let (url, origin) = match (&got, self.origin(&f)) {
            (Ok(Some(u)), o) => (u.clone(), o),
            (_, Origin::Unset) => (default.to_string(), Origin::Default),
            (_, o) => (default.to_string(), o),
        };
        let ok = got.is_ok()
            && match check_url(&url, key, env, self.name) {
                Ok(()) => true,
                Err(e) => {
                    self.fail(e);
                    false
                }
            };
        self.record(Setting {
            section: self.name,
            key,
            env: Some(env),
            origin,
            shown: ok.then(|| shown_url(&url)),
            default: Some(format!("\"{default}\"")),
            secret: false,
            required: false,
        });
        url
    }

    /// A whole number in `range`, `default` when unset: the variable `env` (when one is
    /// given) over `key` of the file.
    pub fn int(
        &self,
        env: Option<&'static str>,
        key: &'static str,
        range: RangeInclusive<u64>,
        default: u64,
    ) -> u64 {
        let what = format!("a whole number from {} to {}", range.start(), range.end());
        self.typed(env, key, default, what, |f| {
            let n = match f {
                Found::Env(_, v) => v.trim().parse::<u64>().ok(),
                Found::File(toml::Value::Integer(i)) => u64::try_from(*i).ok(),
                Found::File(_) => None,
                Found::None => return None,
            };
            Some(n.filter(|n| range.contains(n)))
        })
    }

    /// A yes/no setting, `default` when unset: `true`/`false` in the file, `true`,
    /// `false`, `1` or `0` in the variable `env` (when one is given); anything else is
    /// an error naming the key.
    pub fn flag(&self, env: Option<&'static str>, key: &'static str, default: bool) -> bool {
        self.typed(env, key, default, "true or false".into(), |f| match f {
            Found::Env(_, v) => Some(match v.trim() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            }),
            Found::File(toml::Value::Boolean(b)) => Some(Some(*b)),
            Found::File(_) => Some(None),
            Found::None => None,
        })
    }

    /// A setting read by `read`: `None` when unset (then `default`), `Some(None)` when
    /// set to something that is not `what` (an error naming the key, then `default`).
    fn typed<T: Copy + std::fmt::Display>(
        &self,
        env: Option<&'static str>,
        key: &'static str,
        default: T,
        what: String,
        read: impl Fn(&Found) -> Option<Option<T>>,
    ) -> T {
        let f = self.find(env, key);
        let (value, origin, ok) = match read(&f) {
            None => (default, Origin::Default, true),
            Some(Some(v)) => (v, self.origin(&f), true),
            Some(None) => {
                self.fail(ConfigError::Bad {
                    place: self.source(&f),
                    key,
                    what,
                });
                (default, self.origin(&f), false)
            }
        };
        self.record(Setting {
            section: self.name,
            key,
            env,
            origin,
            shown: ok.then(|| value.to_string()),
            default: Some(default.to_string()),
            secret: false,
            required: false,
        });
        value
    }

    /// The keys of the file's table that no getter asked for, each an error with the
    /// closest known key.
    fn unknown_keys(&self) {
        let Some(path) = &self.file else { return };
        let asked: Vec<&'static str> = self.settings.borrow().iter().map(|s| s.key).collect();
        for k in self.table.keys() {
            if !asked.contains(&k.as_str()) {
                self.fail(ConfigError::UnknownKey {
                    path: path.clone(),
                    section: self.name.to_string(),
                    key: shown_name(k),
                    suggestion: closest(k, asked.iter().copied()),
                });
            }
        }
    }
}

/// The environment of the process, an empty variable counting as unset.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// Refuses an address that is not an absolute http(s) URL with a host, at load time
/// rather than once per order.
pub fn check_url(
    url: &str,
    key: &'static str,
    env: &'static str,
    section: &'static str,
) -> Result<(), ConfigError> {
    let bad = |why: String| ConfigError::BadUrl {
        key,
        env,
        section,
        why,
    };
    let u = reqwest::Url::parse(url).map_err(|e| bad(e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(bad(format!("scheme `{}`, not http or https", u.scheme())));
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host".into()));
    }
    Ok(())
}

/// An address as it may be shown: a user, a password or a query (which may hold a
/// token) become `***`.
pub fn shown_url(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return "***".into();
    };
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("***");
        let _ = u.set_password(None);
    }
    if u.query().is_some() {
        u.set_query(Some("***"));
    }
    u.set_fragment(None);
    u.to_string()
}

/// A config file, parsed.
pub fn read_document(p: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(p).map_err(|e| ConfigError::File {
        path: p.display().to_string(),
        message: e.to_string(),
    })?;
    // The parser's message could quote a line holding a secret: say only where it failed.
    text.parse().map_err(|e: toml::de::Error| {
        let at = e.span().map_or(0, |s| s.start);
        let line = text[..at.min(text.len())].matches('\n').count() + 1;
        ConfigError::File {
            path: p.display().to_string(),
            message: format!("not valid TOML (line {line}, byte {at})"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, text).unwrap();
        (dir, f)
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_environment_beats_the_file_and_each_setting_says_where_it_came_from() {
        let (_d, f) = file("[red]\ntoken = \"from-file\"\nother = \"kept\"\nn = 3\n");
        let env = |k: &str| match k {
            "S_TOKEN" => Some("from-env".to_string()),
            "S_N" => Some("7".to_string()),
            _ => None,
        };
        let l = load_section(&env, Some(&f), "red", |s| {
            (
                s.required("S_TOKEN", "token", "token"),
                s.required("S_OTHER", "other", "other"),
                s.int(Some("S_N"), "n", 1..=10, 2),
                s.int(None, "m", 1..=10, 2),
            )
        });
        let origins: Vec<String> = l.settings.iter().map(|s| s.origin.to_string()).collect();
        assert_eq!(
            origins,
            [
                "environment S_TOKEN".to_string(),
                format!("file {}", f.display()),
                "environment S_N".to_string(),
                "default".to_string()
            ]
        );
        assert_eq!(
            l.into_result().unwrap(),
            ("from-env".into(), "kept".into(), 7, 2)
        );
        // Another table of the same file is not read.
        let t = load_section(&none, Some(&f), "cainiao", |s| {
            s.optional_secret("T", "token", "token")
        });
        assert!(t.into_result().unwrap().is_none());
    }

    #[test]
    fn a_missing_required_key_is_named_with_its_variable_and_section() {
        let l = load_section(&none, None, "red", |s| {
            s.secret("RED_APP_ID", "app_id", "RED app id")
        });
        let m = l.into_result().unwrap_err().to_string();
        for part in ["RED app id", "RED_APP_ID", "`app_id`", "[red]"] {
            assert!(m.contains(part), "{part} not in {m}");
        }
    }

    #[test]
    fn every_mistake_is_reported_at_once_and_no_value_is_handed_out() {
        let (_d, f) = file("[red]\ntoken = 5\nn = \"8\"\nm = 0\nmax_attempt = 3\n[rde]\nx = 1\n");
        // A key before any table belongs to the top level, whatever order TOML writes.
        let (_d2, f2) = file("loose = 1\n[red]\n");
        let l = load_section(&none, Some(&f), "red", |s| {
            (
                s.required("S_TOKEN", "token", "token"),
                s.int(None, "n", 1..=9, 1),
                s.int(None, "m", 1..=9, 1),
                s.int(None, "max_attempts", 1..=20, 4),
            )
        });
        let errors = l.into_result().unwrap_err().lines();
        let want = [
            "`token` must be a string",
            "`n` must be a whole number from 1 to 9",
            "`m` must be a whole number from 1 to 9",
            "unknown key `max_attempt` under [red] (did you mean `max_attempts`?)",
            "unknown table [rde] (did you mean [red]?)",
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for w in want {
            assert!(
                errors.iter().any(|e| e.contains(w)),
                "{w} not in {errors:#?}"
            );
        }
        let l = load_section(&none, Some(&f2), "red", |_| ());
        let e = l.into_result().unwrap_err().to_string();
        assert!(e.contains("`loose` is outside any table"), "{e}");
        // The environment's mistakes name the variable, never its value.
        let many = |_: &str| Some("many".to_string());
        let e = load_section(&many, None, "red", |s| s.int(Some("S_M"), "m", 1..=9, 1))
            .into_result()
            .unwrap_err()
            .to_string();
        assert!(e.contains("environment variable S_M"), "{e}");
        assert!(!e.contains("many"), "{e}");
    }

    #[test]
    fn a_blank_short_or_padded_secret_is_refused() {
        for (v, why) in [
            ("", "is blank"),
            ("   ", "is blank"),
            ("\t\n", "is blank"),
            ("short7!", "shorter than 8"),
            (" padded-secret", "white space"),
            ("padded-secret\n", "white space"),
        ] {
            let (_d, f) = file(&format!("[cainiao]\nsecret_key = {v:?}\n"));
            let e = load_section(&none, Some(&f), "cainiao", |s| {
                s.secret_min("C_SECRET", "secret_key", "Cainiao secret key", 8)
            })
            .into_result()
            .unwrap_err()
            .to_string();
            assert!(e.contains(why) && e.contains("`secret_key`"), "{v:?}: {e}");
            if !v.trim().is_empty() {
                assert!(!e.contains(v.trim()), "{e}");
            }
        }
        let ok = |k: &str| (k == "C_SECRET").then(|| "eight-ch".to_string());
        let s = load_section(&ok, None, "cainiao", |s| {
            s.secret_min("C_SECRET", "secret_key", "Cainiao secret key", 8)
        });
        assert_eq!(s.settings[0].shown.as_deref(), Some("***"));
        assert_eq!(s.into_result().unwrap().expose(), "eight-ch");
    }

    #[test]
    fn a_secret_is_in_no_debug_and_no_error() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        // Wrong type, broken TOML, bad URL: none repeats what the file or variable held.
        let (_d, f) = file("[red]\nkey = [\"hunter2\"]\n");
        let e = load_section(&none, Some(&f), "red", |s| s.secret("S_KEY", "key", "key"))
            .into_result()
            .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");
        let (_d2, f2) = file("[red]\nkey = \"hunter2\n");
        let e = load_section(&none, Some(&f2), "red", |s| s.secret("S_KEY", "key", "key"))
            .into_result()
            .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");
        assert!(e.to_string().contains("not valid TOML (line 2"), "{e}");
        let env = |_: &str| Some("ftp://user:hunter2@host/".to_string());
        let l = load_section(&env, None, "red", |s| s.url("S_URL", "url", "http://x/"));
        assert!(l.settings[0].shown.is_none());
        let e = l.into_result().unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");
        assert_eq!(
            shown_url("https://me:hunter2@h.example:8/p?token=hunter2#x"),
            "https://***@h.example:8/p?***"
        );
    }

    #[test]
    fn a_url_is_checked_and_defaults() {
        let l = load_section(&none, None, "red", |s| {
            s.url("S_URL", "url", "https://a.example/x")
        });
        assert_eq!(l.settings[0].origin, Origin::Default);
        assert_eq!(l.into_result().unwrap(), "https://a.example/x");
        let env = |_: &str| Some("not a url".to_string());
        let e = load_section(&env, None, "red", |s| s.url("S_URL", "url", "https://a/"))
            .into_result()
            .unwrap_err();
        assert!(e.to_string().contains("S_URL"), "{e}");
    }
}
