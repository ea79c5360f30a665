//! The config loader both API sides share: one `[section]` of a TOML file with the
//! environment over it; a secret is never printed (its `Debug` and `Display` show `***`)
//! and no error repeats a value.

use std::ops::RangeInclusive;
use std::path::Path;

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

/// Why a config could not be loaded. No variant carries a value read from the config:
/// any of them may be a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no {what}: set {env} or `{key}` under [{section}] in the config file")]
    Missing {
        what: &'static str,
        env: &'static str,
        key: &'static str,
        section: &'static str,
    },
    #[error("cannot read config file {path}: {message}")]
    File { path: String, message: String },
    /// The address is not an http(s) URL (the value is not repeated: it may hold a token).
    #[error("`{key}` (set by {env} or `{key}` under [{section}]) is not an http(s) URL: {why}")]
    BadUrl {
        key: &'static str,
        env: &'static str,
        section: &'static str,
        why: String,
    },
    #[error("config file {path}: `{key}` must be {what}")]
    Bad {
        path: String,
        key: &'static str,
        what: &'static str,
    },
}

/// The environment of the process, an empty variable counting as unset.
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// One `[name]` table of the config file with the environment over it; each side asks
/// it for its own keys. Not `Debug`: it holds the secrets unmasked.
pub struct Section<E> {
    name: &'static str,
    table: toml::Table,
    /// The file, as errors show it (empty without one: then no key can be wrong in it).
    shown: String,
    env: E,
}

impl<E: Fn(&str) -> Option<String>> Section<E> {
    /// The `[name]` table of `file` (none without a file) under the lookup `env`.
    pub fn load(
        env: E,
        file: Option<&Path>,
        name: &'static str,
    ) -> Result<Section<E>, ConfigError> {
        let table = match file {
            Some(p) => read_table(p, name)?,
            None => toml::Table::new(),
        };
        Ok(Section {
            name,
            table,
            shown: file.map(|p| p.display().to_string()).unwrap_or_default(),
            env,
        })
    }

    fn bad(&self, key: &'static str, what: &'static str) -> ConfigError {
        ConfigError::Bad {
            path: self.shown.clone(),
            key,
            what,
        }
    }

    /// A text value: the variable `env` (when one is given) over `key` of the file,
    /// which must be a string.
    pub fn text(
        &self,
        env: Option<&'static str>,
        key: &'static str,
    ) -> Result<Option<String>, ConfigError> {
        if let Some(v) = env.and_then(|k| (self.env)(k)) {
            return Ok(Some(v));
        }
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.bad(key, "a string")),
        }
    }

    /// A text value that must be set; the error names the variable and the key.
    pub fn required(
        &self,
        env: &'static str,
        key: &'static str,
        what: &'static str,
    ) -> Result<String, ConfigError> {
        self.text(Some(env), key)?.ok_or(ConfigError::Missing {
            what,
            env,
            key,
            section: self.name,
        })
    }

    /// A required value kept as a [`Secret`].
    pub fn secret(
        &self,
        env: &'static str,
        key: &'static str,
        what: &'static str,
    ) -> Result<Secret, ConfigError> {
        self.required(env, key, what).map(Secret::new)
    }

    /// An http(s) address with a host, `default` when unset; checked here rather than
    /// once per call.
    pub fn url(
        &self,
        env: &'static str,
        key: &'static str,
        default: &str,
    ) -> Result<String, ConfigError> {
        let url = self
            .text(Some(env), key)?
            .unwrap_or_else(|| default.to_string());
        check_url(&url, key, env, self.name)?;
        Ok(url)
    }

    /// A whole number of the file (`key`), at least 0.
    pub fn int(&self, key: &'static str) -> Result<Option<u64>, ConfigError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
            Some(_) => Err(self.bad(key, "a whole number")),
        }
    }

    /// A whole number in `range`: the variable `env` (when one is given) over `key` of
    /// the file; `what` says the range in the error.
    pub fn int_in(
        &self,
        env: Option<&'static str>,
        key: &'static str,
        range: RangeInclusive<u64>,
        what: &'static str,
    ) -> Result<Option<u64>, ConfigError> {
        if let Some(envk) = env {
            if let Some(v) = (self.env)(envk) {
                // The variable is named where the file would be: that is where to look.
                return v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| range.contains(n))
                    .map(Some)
                    .ok_or_else(|| ConfigError::Bad {
                        path: envk.to_string(),
                        key,
                        what,
                    });
            }
        }
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(i)) if *i >= 0 && range.contains(&(*i as u64)) => {
                Ok(Some(*i as u64))
            }
            Some(_) => Err(self.bad(key, what)),
        }
    }
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

/// One `[name]` table of a TOML file (empty when the file has none).
pub fn read_table(p: &Path, name: &str) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(p).map_err(|e| ConfigError::File {
        path: p.display().to_string(),
        message: e.to_string(),
    })?;
    // The parser's message could quote a line holding a secret: say only where it failed.
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::File {
            path: p.display().to_string(),
            message: format!(
                "not valid TOML (at byte {})",
                e.span().map_or(0, |s| s.start)
            ),
        })?;
    Ok(match doc.get(name) {
        Some(toml::Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
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

    #[test]
    fn the_environment_beats_the_file() {
        let (_d, f) = file("[s]\ntoken = \"from-file\"\nother = \"kept\"\nn = 3\n");
        let env = |k: &str| match k {
            "S_TOKEN" => Some("from-env".to_string()),
            "S_N" => Some("7".to_string()),
            _ => None,
        };
        let s = Section::load(env, Some(&f), "s").unwrap();
        assert_eq!(s.required("S_TOKEN", "token", "token").unwrap(), "from-env");
        assert_eq!(s.required("S_OTHER", "other", "other").unwrap(), "kept");
        assert_eq!(
            s.int_in(Some("S_N"), "n", 1..=10, "1 to 10").unwrap(),
            Some(7)
        );
        assert_eq!(s.int_in(None, "n", 1..=10, "1 to 10").unwrap(), Some(3));
        // Another section of the same file is not read.
        let t = Section::load(|_: &str| None, Some(&f), "t").unwrap();
        assert_eq!(t.text(None, "token").unwrap(), None);
    }

    #[test]
    fn a_missing_required_key_is_named_with_its_variable_and_section() {
        let s = Section::load(|_: &str| None, None, "red").unwrap();
        let e = s
            .required("RED_APP_ID", "app_id", "RED app id")
            .unwrap_err();
        let m = e.to_string();
        for part in ["RED app id", "RED_APP_ID", "`app_id`", "[red]"] {
            assert!(m.contains(part), "{part} not in {m}");
        }
    }

    #[test]
    fn a_value_of_the_wrong_kind_is_refused_not_ignored() {
        let (_d, f) = file("[s]\ntoken = 5\nn = \"8\"\nm = 0\n");
        let s = Section::load(|_: &str| None, Some(&f), "s").unwrap();
        let e = s.required("S_TOKEN", "token", "token").unwrap_err();
        assert!(e.to_string().contains("`token` must be a string"), "{e}");
        assert!(s.int("n").is_err());
        let e = s
            .int_in(None, "m", 1..=9, "a whole number from 1 to 9")
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("`m` must be a whole number from 1 to 9"),
            "{e}"
        );
        let bad_env = Section::load(|_: &str| Some("many".to_string()), None, "s").unwrap();
        let e = bad_env
            .int_in(Some("S_M"), "m", 1..=9, "1 to 9")
            .unwrap_err();
        assert!(e.to_string().contains("S_M"), "{e}");
        assert!(!e.to_string().contains("many"), "{e}");
    }

    #[test]
    fn a_secret_is_in_no_debug_and_no_error() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        // Wrong type, broken TOML, bad URL: none repeats what the file or variable held.
        let (_d, f) = file("[s]\nkey = [\"hunter2\"]\n");
        let sec = Section::load(|_: &str| None, Some(&f), "s").unwrap();
        let e = sec.secret("S_KEY", "key", "key").unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");
        let (_d2, f2) = file("[s]\nkey = \"hunter2\n");
        let e = Section::load(|_: &str| None, Some(&f2), "s").err().unwrap();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");
        let env = |_: &str| Some("ftp://user:hunter2@host/".to_string());
        let e = Section::load(env, None, "s")
            .unwrap()
            .url("S_URL", "url", "http://x/")
            .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("hunter2"), "{e}");
    }

    #[test]
    fn a_url_is_checked_and_defaults() {
        let s = Section::load(|_: &str| None, None, "s").unwrap();
        assert_eq!(
            s.url("S_URL", "url", "https://a.example/x").unwrap(),
            "https://a.example/x"
        );
        let env = |_: &str| Some("not a url".to_string());
        let e = Section::load(env, None, "s")
            .unwrap()
            .url("S_URL", "url", "https://a/")
            .unwrap_err();
        assert!(e.to_string().contains("S_URL"), "{e}");
    }
}
