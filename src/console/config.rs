//! The `[console]` settings of the shared loader ([`crate::config`]): the token that opens
//! the operator's console (`token`, `CONSOLE_TOKEN`: at least [`MIN_TOKEN_CHARS`]
//! characters, refused shorter; unset, the console is not served) and whether it is
//! reached through TLS (`behind_tls`, `CONSOLE_BEHIND_TLS`: its cookie is then `Secure`
//! and the pages expect `https://` origins).

use crate::config::{load_section, process_env, ConfigErrors, Secret, Section};
use std::path::Path;

/// The config file's table of these settings.
pub const SECTION: &str = "console";

/// The shortest token taken: a token anyone can guess opens every order and every resolve.
pub const MIN_TOKEN_CHARS: usize = 24;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConsoleConfig {
    /// `None`: the console is not served.
    pub token: Option<Secret>,
    /// The operator reaches the console through TLS (a reverse proxy in front).
    pub behind_tls: bool,
}

impl ConsoleConfig {
    pub fn load(file: Option<&Path>) -> Result<ConsoleConfig, ConfigErrors> {
        ConsoleConfig::from_sources(process_env, file)
    }

    /// The same with the environment given as a lookup (tests need no process env).
    pub fn from_sources(
        env: impl Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<ConsoleConfig, ConfigErrors> {
        load_section(&env, file, SECTION, ConsoleConfig::read).into_result()
    }

    /// Every key of `[console]`, asked of `s`.
    pub fn read(s: &Section) -> ConsoleConfig {
        let token =
            s.optional_secret_min("CONSOLE_TOKEN", "token", "console token", MIN_TOKEN_CHARS);
        let behind_tls = s.flag(Some("CONSOLE_BEHIND_TLS"), "behind_tls", false);
        ConsoleConfig { token, behind_tls }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_is_no_console_and_a_short_token_is_refused_without_repeating_it() {
        let c = ConsoleConfig::from_sources(|_| None, None).unwrap();
        assert_eq!(c, ConsoleConfig::default());
        let short = |k: &str| (k == "CONSOLE_TOKEN").then(|| "only-twenty-three-chars".to_string());
        let e = ConsoleConfig::from_sources(short, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("shorter than 24") && e.contains("CONSOLE_TOKEN"),
            "{e}"
        );
        assert!(!e.contains("only-twenty-three-chars"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[console]\ntoken = \"twenty-four-characters-x\"\nbehind_tls = true\n",
        )
        .unwrap();
        let c = ConsoleConfig::from_sources(|_| None, Some(&f)).unwrap();
        assert_eq!(
            c.token.as_ref().map(Secret::expose),
            Some("twenty-four-characters-x")
        );
        assert!(c.behind_tls);
        assert_eq!(format!("{c:?}").matches("***").count(), 1, "{c:?}");
    }
}
