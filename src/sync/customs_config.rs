//! The `[customs]` settings of the shared loader ([`crate::config`]): whether RED is told
//! of each customs result (`tell_red`, `CUSTOMS_TELL_RED`: `order.modifycustomstatus` is
//! in RED's Java SDK only, so an app that lacks it turns the step off), and how long after
//! the first payment-record re-push the second may go (`repush_after_secs`,
//! `CUSTOMS_REPUSH_AFTER_SECS`).

use crate::config::{load_section, process_env, ConfigErrors, Section};
use std::path::Path;
use std::time::Duration;

/// The config file's table of these settings.
pub const SECTION: &str = "customs";

/// The floor: the second re-push at least ten minutes after the first.
pub const DEFAULT_REPUSH_AFTER_SECS: u64 = 600;

/// Re-pushes of the payment record bondmap makes on its own: at once, then once more.
pub const REPUSHES: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomsConfig {
    /// RED is told of each customs result (`order.modifycustomstatus`).
    pub tell_red: bool,
    /// The wait after a re-push before the next step (the second re-push, then a person).
    pub repush_after: Duration,
}

impl Default for CustomsConfig {
    fn default() -> CustomsConfig {
        CustomsConfig {
            tell_red: true,
            repush_after: Duration::from_secs(DEFAULT_REPUSH_AFTER_SECS),
        }
    }
}

impl CustomsConfig {
    pub fn load(file: Option<&Path>) -> Result<CustomsConfig, ConfigErrors> {
        CustomsConfig::from_sources(process_env, file)
    }

    /// The same with the environment given as a lookup (tests need no process env).
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<CustomsConfig, ConfigErrors> {
        load_section(&env, file, SECTION, CustomsConfig::read).into_result()
    }

    /// Every key of `[customs]`, asked of `s`.
    pub fn read(s: &Section) -> CustomsConfig {
        let tell_red = s.flag(Some("CUSTOMS_TELL_RED"), "tell_red", true);
        let after = s.int(
            Some("CUSTOMS_REPUSH_AFTER_SECS"),
            "repush_after_secs",
            1..=7 * 24 * 3600,
            DEFAULT_REPUSH_AFTER_SECS,
        );
        CustomsConfig {
            tell_red,
            repush_after: Duration::from_secs(after),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_the_file_the_environment_and_mistakes() {
        assert_eq!(
            CustomsConfig::from_sources(|_| None, None).unwrap(),
            CustomsConfig::default()
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(&f, "[customs]\ntell_red = false\nrepush_after_secs = 900\n").unwrap();
        let c = CustomsConfig::from_sources(|_| None, Some(&f)).unwrap();
        assert_eq!((c.tell_red, c.repush_after.as_secs()), (false, 900));
        let env = |k: &str| (k == "CUSTOMS_TELL_RED").then(|| "1".to_string());
        assert!(CustomsConfig::from_sources(env, Some(&f)).unwrap().tell_red);
        std::fs::write(&f, "[customs]\ntell_red = \"no\"\nrepush_afer_secs = 1\n").unwrap();
        let e = CustomsConfig::from_sources(|_| None, Some(&f))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tell_red") && e.contains("true or false"), "{e}");
        assert!(e.contains("did you mean `repush_after_secs`"), "{e}");
    }
}
