//! What can be wrong with the settings, each said without the value (any may be a secret).

use super::TABLES;

/// One mistake in the settings. No variant carries a value read from the config: any of
/// them may be a secret. `place` says where the value was read ("config file F",
/// "environment variable V").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    #[error("{place}: `{key}` must be {what}")]
    Bad {
        place: String,
        key: &'static str,
        what: String,
    },
    #[error("{place}: {what} (`{key}`) {why}")]
    BadSecret {
        place: String,
        key: &'static str,
        what: &'static str,
        why: String,
    },
    #[error("config file {path}: unknown key `{key}` under [{section}]{}", did_you_mean(.suggestion))]
    UnknownKey {
        path: String,
        section: String,
        key: String,
        suggestion: Option<String>,
    },
    #[error("config file {path}: unknown table [{table}]{}; the tables are {}", did_you_mean_table(.suggestion), tables_list())]
    UnknownTable {
        path: String,
        table: String,
        suggestion: Option<String>,
    },
    #[error(
        "config file {path}: `{key}` is outside any table; every key goes under one of {}",
        tables_list()
    )]
    Loose { path: String, key: String },
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
}

fn did_you_mean_table(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean [{s}]?)"))
        .unwrap_or_default()
}

fn tables_list() -> String {
    let t: Vec<String> = TABLES.iter().map(|t| format!("[{t}]")).collect();
    t.join(", ")
}

/// Every mistake of a load, in the order found, each said once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Adds `more`, leaving out what is said already (two sides loading the same file
    /// both find its unknown table).
    pub fn extend(&mut self, more: impl IntoIterator<Item = ConfigError>) {
        for e in more {
            if !self.0.contains(&e) {
                self.0.push(e);
            }
        }
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// One line per mistake, as the commands print them.
    pub fn lines(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }
}

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lines().join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> ConfigErrors {
        ConfigErrors(vec![e])
    }
}
