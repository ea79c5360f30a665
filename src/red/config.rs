//! RED open API credentials, the `[red]` section of the shared loader ([`crate::config`]):
//! `RED_APP_ID`, `RED_APP_SECRET`, `RED_ACCESS_TOKEN`, `RED_REFRESH_TOKEN`, `RED_API_URL`,
//! `RED_MAX_REQUESTS_PER_SECOND` from the environment, else the `[red]` table of the config
//! file (`app_id`, `app_secret`, `access_token`, `refresh_token`, `api_url`,
//! `max_requests_per_second`).
//!
//! Both tokens are optional here: `bondmap auth --code` needs neither, and `sync` may run
//! on the tokens kept in its state (the configured ones only seed the first run); `sync`
//! refuses to start with no token at all ([`super::auth`]).

use crate::config::{load_section, process_env, ConfigErrors, Secret, Section};
use std::path::Path;
use std::time::Duration;

pub const DEFAULT_URL: &str = "https://ark.xiaohongshu.com/ark/open_api/v3/common_controller";

/// The config file's table of these settings.
pub const SECTION: &str = "red";

#[derive(Debug, Clone)]
pub struct RedConfig {
    /// Sent with every call, never shown.
    pub app_id: Secret,
    pub app_secret: Secret,
    /// The shop's access token, when configured.
    pub access_token: Option<Secret>,
    /// The refresh token that renews it, when configured.
    pub refresh_token: Option<Secret>,
    pub url: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub backoff_base: Duration,
    /// The longest wait between tries.
    pub backoff_cap: Duration,
    /// The longest a `Retry-After` from RED is waited for.
    pub retry_after_cap: Duration,
    /// RED calls a second of one client, retries included (RED allows 100 an app).
    pub max_requests_per_second: u32,
}

/// Below RED's default of 100 calls a second per app, leaving room for other tools.
pub const DEFAULT_MAX_REQUESTS_PER_SECOND: u32 = 80;

impl RedConfig {
    pub fn load(file: Option<&Path>) -> Result<RedConfig, ConfigErrors> {
        RedConfig::from_sources(process_env, file)
    }

    /// The same with the environment given as a lookup (tests need no process env).
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<RedConfig, ConfigErrors> {
        load_section(&env, file, SECTION, RedConfig::read).into_result()
    }

    /// Every key of `[red]`, asked of `s` (the loader's one list of them).
    pub fn read(s: &Section) -> RedConfig {
        let app_id = s.secret("RED_APP_ID", "app_id", "RED app id");
        let app_secret = s.secret("RED_APP_SECRET", "app_secret", "RED app secret");
        let access_token =
            s.optional_secret("RED_ACCESS_TOKEN", "access_token", "RED access token");
        let refresh_token =
            s.optional_secret("RED_REFRESH_TOKEN", "refresh_token", "RED refresh token");
        let url = s.url("RED_API_URL", "api_url", DEFAULT_URL);
        let rate = s.int(
            Some("RED_MAX_REQUESTS_PER_SECOND"),
            "max_requests_per_second",
            1..=10_000,
            DEFAULT_MAX_REQUESTS_PER_SECOND.into(),
        );
        RedConfig {
            app_id,
            app_secret,
            access_token,
            refresh_token,
            url,
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            max_requests_per_second: rate as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_over_the_red_table_and_the_rate_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[red]\napp_id = \"file-id\"\napp_secret = \"file-secret\"\naccess_token = \"t\"\nmax_requests_per_second = 20\n",
        )
        .unwrap();
        let env = |k: &str| (k == "RED_APP_ID").then(|| "env-id".to_string());
        let c = RedConfig::from_sources(env, Some(&f)).unwrap();
        assert_eq!(c.app_id.expose(), "env-id");
        assert_eq!(c.app_secret.expose(), "file-secret");
        assert_eq!(c.max_requests_per_second, 20);
        assert_eq!(c.url, DEFAULT_URL);
        assert!(!format!("{c:?}").contains("file-secret"));
        let e = RedConfig::from_sources(|_| None, None).unwrap_err();
        assert!(e.to_string().contains("RED_APP_ID"), "{e}");
        let bad_rate = |k: &str| match k {
            "RED_MAX_REQUESTS_PER_SECOND" => Some("0".to_string()),
            "RED_API_URL" => None,
            _ => Some("x".to_string()),
        };
        let e = RedConfig::from_sources(bad_rate, None).unwrap_err();
        assert!(e.to_string().contains("RED_MAX_REQUESTS_PER_SECOND"), "{e}");
        // Every missing credential at once, not only the first (the tokens may come from
        // the state: neither is required here).
        let e = RedConfig::from_sources(|_| None, None).unwrap_err().lines();
        assert_eq!(e.len(), 2, "{e:?}");
        let tokens = |k: &str| match k {
            "RED_ACCESS_TOKEN" => Some("acc".to_string()),
            "RED_REFRESH_TOKEN" => Some("ref".to_string()),
            "RED_APP_ID" | "RED_APP_SECRET" => Some("x".to_string()),
            _ => None,
        };
        let c = RedConfig::from_sources(tokens, None).unwrap();
        assert_eq!(
            (
                c.access_token.unwrap().expose(),
                c.refresh_token.unwrap().expose()
            ),
            ("acc", "ref")
        );
        let blank = |k: &str| (k == "RED_REFRESH_TOKEN").then(|| " ".to_string());
        let e = RedConfig::from_sources(blank, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("RED refresh token (`refresh_token`) is blank"),
            "{e}"
        );
    }

    #[test]
    fn a_blank_app_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[red]\napp_secret = \"  \"\n").unwrap();
        let env = |k: &str| (k == "RED_APP_ID" || k == "RED_ACCESS_TOKEN").then(|| "x".to_string());
        let e = RedConfig::from_sources(env, Some(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("RED app secret (`app_secret`) is blank"), "{e}");
    }

    #[test]
    fn a_token_that_is_not_text_is_refused_not_taken_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[red]\naccess_token = 12345\n").unwrap();
        let env = |k: &str| {
            (k != "RED_ACCESS_TOKEN" && k != "RED_API_URL" && k != "RED_MAX_REQUESTS_PER_SECOND")
                .then(|| "x".to_string())
        };
        let e = RedConfig::from_sources(env, Some(&f)).unwrap_err();
        assert!(
            e.to_string().contains("`access_token` must be a string"),
            "{e}"
        );
        assert!(!e.to_string().contains("12345"), "{e}");
    }
}
