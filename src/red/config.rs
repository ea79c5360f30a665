//! RED open API credentials: `RED_APP_ID`, `RED_APP_SECRET`, `RED_ACCESS_TOKEN`,
//! `RED_API_URL`, `RED_MAX_REQUESTS_PER_SECOND` from the environment, else the `[red]`
//! table of the config file (`app_id`, `app_secret`, `access_token`, `api_url`,
//! `max_requests_per_second`).

use crate::gateway::config::{check_url, read_table, ConfigError};
use crate::gateway::Secret;
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_URL: &str = "https://ark.xiaohongshu.com/ark/open_api/v3/common_controller";

#[derive(Debug, Clone)]
pub struct RedConfig {
    /// Sent with every call, never shown.
    pub app_id: Secret,
    pub app_secret: Secret,
    pub access_token: Secret,
    pub url: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    /// RED calls a second of one client, retries included (RED allows 100 an app).
    pub max_requests_per_second: u32,
}

/// Below RED's default of 100 calls a second per app, leaving room for other tools.
pub const DEFAULT_MAX_REQUESTS_PER_SECOND: u32 = 80;

impl RedConfig {
    pub fn load(file: Option<&Path>) -> Result<RedConfig, ConfigError> {
        RedConfig::from_sources(|k| std::env::var(k).ok().filter(|v| !v.is_empty()), file)
    }

    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<RedConfig, ConfigError> {
        let table = match file {
            Some(p) => read_table(p, "red")?,
            None => toml::Table::new(),
        };
        let text = |k: &str| table.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let get = |envk: &'static str, key: &'static str, what: &'static str| {
            env(envk).or_else(|| text(key)).ok_or(ConfigError::Missing {
                what,
                env: envk,
                key,
                section: "red",
            })
        };
        let url = env("RED_API_URL")
            .or_else(|| text("api_url"))
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        check_url(&url, "api_url", "RED_API_URL", "red")?;
        let shown = file.map(|p| p.display().to_string()).unwrap_or_default();
        let bad_rate = |path: String| ConfigError::Bad {
            path,
            key: "max_requests_per_second",
            what: "a whole number from 1 to 10000",
        };
        let rate = match env("RED_MAX_REQUESTS_PER_SECOND") {
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=10_000).contains(n))
                .ok_or_else(|| bad_rate("RED_MAX_REQUESTS_PER_SECOND".into()))?,
            None => match table.get("max_requests_per_second") {
                None => DEFAULT_MAX_REQUESTS_PER_SECOND,
                Some(toml::Value::Integer(n)) if (1..=10_000).contains(n) => *n as u32,
                Some(_) => return Err(bad_rate(shown)),
            },
        };
        Ok(RedConfig {
            app_id: Secret::new(get("RED_APP_ID", "app_id", "RED app id")?),
            app_secret: Secret::new(get("RED_APP_SECRET", "app_secret", "RED app secret")?),
            access_token: Secret::new(get("RED_ACCESS_TOKEN", "access_token", "RED access token")?),
            url,
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            max_requests_per_second: rate,
        })
    }
}
