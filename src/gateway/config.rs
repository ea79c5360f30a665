//! Gateway credentials and settings: from the environment, else a TOML config file.
//! The `[cainiao]` section of the shared loader ([`crate::config`]); a secret is never
//! printed: [`Secret`] shows `***`.

use crate::config::{load_section, process_env, Section};
use std::path::Path;
use std::time::Duration;

pub use crate::config::{check_url, ConfigError, ConfigErrors, Secret};

pub const DEFAULT_URL: &str = "https://link.cainiao.com/gateway/link.do";

/// The config file's table of these settings.
pub const SECTION: &str = "cainiao";

/// The shortest Cainiao secret key taken: the callback trusts a notice signed with it, so
/// a blank or short one would let anyone sign a shipment notice.
pub const MIN_SECRET_CHARS: usize = 8;

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

impl GatewayConfig {
    /// Environment (`CAINIAO_APP_KEY`, `CAINIAO_SECRET_KEY`, `CAINIAO_GATEWAY_URL`) over the
    /// `[cainiao]` table of `file`.
    pub fn load(file: Option<&Path>) -> Result<GatewayConfig, ConfigErrors> {
        GatewayConfig::from_sources(process_env, file)
    }

    /// The same with the environment given as a lookup (tests need no process env).
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<GatewayConfig, ConfigErrors> {
        load_section(&env, file, SECTION, GatewayConfig::read).into_result()
    }

    /// Every key of `[cainiao]`, asked of `s` (the loader's one list of them).
    pub fn read(s: &Section) -> GatewayConfig {
        let app_key = s.secret("CAINIAO_APP_KEY", "app_key", "Cainiao app key");
        let secret_key = s.secret_min(
            "CAINIAO_SECRET_KEY",
            "secret_key",
            "Cainiao secret key",
            MIN_SECRET_CHARS,
        );
        let url = s.url("CAINIAO_GATEWAY_URL", "gateway_url", DEFAULT_URL);
        let timeout = s.int(None, "timeout_secs", 1..=600, 30);
        let max_attempts = s.int(None, "max_attempts", 1..=20, 4);
        let concurrency = s.int(None, "concurrency", 1..=64, DEFAULT_CONCURRENCY as u64);
        GatewayConfig {
            app_key,
            secret_key,
            url,
            connect_timeout: Duration::from_secs(10.min(timeout)),
            read_timeout: Duration::from_secs(timeout),
            max_attempts: max_attempts as u32,
            backoff_base: Duration::from_millis(500),
            backoff_cap: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(60),
            concurrency: concurrency as usize,
        }
    }
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
        let env = |k: &str| (k != "CAINIAO_GATEWAY_URL").then(|| "x-secret".to_string());
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
        for bad in ["0", "-1", "\"8\"", "65", "8.5"] {
            std::fs::write(&f, format!("[cainiao]\nconcurrency = {bad}\n")).unwrap();
            let e = GatewayConfig::from_sources(env, Some(&f)).unwrap_err();
            assert!(
                e.to_string()
                    .contains("`concurrency` must be a whole number from 1 to 64"),
                "{bad}: {e}"
            );
        }
        // Every range is checked the same way: out of it is an error, never clamped.
        for (key, bad) in [
            ("max_attempts", "0"),
            ("max_attempts", "21"),
            ("timeout_secs", "0"),
        ] {
            std::fs::write(&f, format!("[cainiao]\n{key} = {bad}\n")).unwrap();
            let e = GatewayConfig::from_sources(env, Some(&f)).unwrap_err();
            assert!(e.to_string().contains(&format!("`{key}` must be")), "{e}");
        }
    }

    #[test]
    fn a_blank_or_short_secret_key_is_refused_on_load() {
        for v in ["", " ", "1234567"] {
            let env = |k: &str| match k {
                "CAINIAO_SECRET_KEY" => Some(v.to_string()),
                "CAINIAO_APP_KEY" => Some("CP".to_string()),
                _ => None,
            };
            let e = GatewayConfig::from_sources(env, None).unwrap_err();
            assert!(e.to_string().contains("CAINIAO_SECRET_KEY"), "{v:?}: {e}");
        }
        let env = |k: &str| match k {
            "CAINIAO_SECRET_KEY" => Some("12345678".to_string()),
            "CAINIAO_APP_KEY" => Some("CP".to_string()),
            _ => None,
        };
        assert!(GatewayConfig::from_sources(env, None).is_ok());
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
