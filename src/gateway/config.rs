//! Gateway credentials and settings: from the environment, else a TOML config file.
//! A secret is never printed: [`Secret`] shows `***`.

use std::path::Path;
use std::time::Duration;

pub const DEFAULT_URL: &str = "https://link.cainiao.com/gateway/link.do";

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

#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The CP code / app key (`logistic_provider_id` unless the mapping sets one). Kept as
    /// a secret: it is sent, never shown.
    pub app_key: Secret,
    pub secret_key: Secret,
    pub url: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    /// Tries per order, the first included.
    pub max_attempts: u32,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// The longest a gateway's `Retry-After` is waited for.
    pub retry_after_cap: Duration,
    /// Orders sent at once (`[cainiao] concurrency`, default 8, at most 64 as `send_batch`).
    pub concurrency: usize,
}

pub const DEFAULT_CONCURRENCY: usize = 8;

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

impl GatewayConfig {
    /// Environment (`CAINIAO_APP_KEY`, `CAINIAO_SECRET_KEY`, `CAINIAO_GATEWAY_URL`) over the
    /// `[cainiao]` table of `file`.
    pub fn load(file: Option<&Path>) -> Result<GatewayConfig, ConfigError> {
        GatewayConfig::from_sources(|k| std::env::var(k).ok().filter(|v| !v.is_empty()), file)
    }

    /// The same with the environment given as a lookup (tests need no process env).
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<GatewayConfig, ConfigError> {
        let table = match file {
            Some(p) => read_table(p, "cainiao")?,
            None => toml::Table::new(),
        };
        let shown = file.map(|p| p.display().to_string()).unwrap_or_default();
        let text = |key: &'static str| -> Result<Option<String>, ConfigError> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ConfigError::Bad {
                    path: shown.clone(),
                    key,
                    what: "a string",
                }),
            }
        };
        let int = |key: &'static str| -> Result<Option<u64>, ConfigError> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::Integer(i)) if *i >= 0 => Ok(Some(*i as u64)),
                Some(_) => Err(ConfigError::Bad {
                    path: shown.clone(),
                    key,
                    what: "a whole number",
                }),
            }
        };
        let app_key = env("CAINIAO_APP_KEY")
            .or(text("app_key")?)
            .ok_or(ConfigError::Missing {
                what: "Cainiao app key",
                env: "CAINIAO_APP_KEY",
                key: "app_key",
                section: "cainiao",
            })?;
        let secret =
            env("CAINIAO_SECRET_KEY")
                .or(text("secret_key")?)
                .ok_or(ConfigError::Missing {
                    what: "Cainiao secret key",
                    env: "CAINIAO_SECRET_KEY",
                    key: "secret_key",
                    section: "cainiao",
                })?;
        let url = env("CAINIAO_GATEWAY_URL")
            .or(text("gateway_url")?)
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        check_url(&url, "gateway_url", "CAINIAO_GATEWAY_URL", "cainiao")?;
        let timeout = int("timeout_secs")?.unwrap_or(30);
        Ok(GatewayConfig {
            app_key: Secret::new(app_key),
            secret_key: Secret::new(secret),
            url,
            connect_timeout: Duration::from_secs(10.min(timeout.max(1))),
            read_timeout: Duration::from_secs(timeout.max(1)),
            max_attempts: int("max_attempts")?.map_or(4, |n| n.clamp(1, 20) as u32),
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            concurrency: match int("concurrency")? {
                None => DEFAULT_CONCURRENCY,
                Some(n @ 1..=64) => n as usize,
                Some(_) => {
                    return Err(ConfigError::Bad {
                        path: shown.clone(),
                        key: "concurrency",
                        what: "a whole number from 1 to 64",
                    })
                }
            },
        })
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

    #[test]
    fn environment_wins_and_missing_secret_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[cainiao]\napp_key = \"FILEKEY\"\nsecret_key = \"file-secret\"\n",
        )
        .unwrap();
        let c = GatewayConfig::from_sources(
            |k| (k == "CAINIAO_APP_KEY").then(|| "ENVKEY".to_string()),
            Some(&f),
        )
        .unwrap();
        assert_eq!(c.app_key.expose(), "ENVKEY");
        assert_eq!(c.secret_key.expose(), "file-secret");
        assert_eq!(c.url, DEFAULT_URL);
        let e = GatewayConfig::from_sources(
            |k| (k == "CAINIAO_APP_KEY").then(|| "K".to_string()),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("CAINIAO_SECRET_KEY"), "{e}");
    }

    #[test]
    fn concurrency_defaults_to_8_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        let env = |k: &str| (k != "CAINIAO_GATEWAY_URL").then(|| "x".to_string());
        assert_eq!(
            GatewayConfig::from_sources(env, None).unwrap().concurrency,
            8
        );
        std::fs::write(&f, "[cainiao]\nconcurrency = 32\n").unwrap();
        assert_eq!(
            GatewayConfig::from_sources(env, Some(&f))
                .unwrap()
                .concurrency,
            32
        );
        for bad in ["0", "-1", "\"8\"", "65"] {
            std::fs::write(&f, format!("[cainiao]\nconcurrency = {bad}\n")).unwrap();
            let e = GatewayConfig::from_sources(env, Some(&f)).unwrap_err();
            assert!(e.to_string().contains("concurrency"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        let c = GatewayConfig::from_sources(
            |k| match k {
                "CAINIAO_GATEWAY_URL" => Some("http://127.0.0.1:1/gw".to_string()),
                _ => Some(format!("{k}-hunter2")),
            },
            None,
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("CAINIAO_SECRET_KEY-hunter2"));
    }

    #[test]
    fn a_bad_config_file_does_not_echo_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[cainiao]\nsecret_key = \"top-secret\n").unwrap();
        let e = GatewayConfig::from_sources(|_| None, Some(&f)).unwrap_err();
        assert!(!e.to_string().contains("top-secret"), "{e}");
    }
}
