//! `bondmap config check`: the settings in force, each with where it came from, every
//! mistake at once (exit 2).

use crate::config::{load_section, process_env, ConfigErrors, Env, Section, Setting};
use crate::gateway::GatewayConfig;
use crate::red::config::RedConfig;
use std::path::{Path, PathBuf};

// The arguments (the command's help is its doc comment in `Command`).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(clap::Subcommand, Clone, Debug)]
pub enum Cmd {
    /// Load the settings as `sync` would (the environment over the config file): print
    /// each with where it came from (environment, file, default), secrets as ***; every
    /// mistake (an unknown key or table, a value out of range, a blank or short secret,
    /// a missing credential) at once, exit 2.
    Check(CheckArgs),
}

#[derive(clap::Args, Clone, Debug)]
pub struct CheckArgs {
    /// TOML file with [red] and [cainiao] tables; the environment wins.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// One JSON object per setting (section, key, env, origin, value, default, secret,
    /// required) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// A section's loader, its settings dropped (`config check` keeps what it recorded).
type ReadSection = fn(&Section);

/// Every section's loader, by its table: `config check` loads each (held to
/// [`crate::config::TABLES`] by a test).
const SECTIONS: &[(&str, ReadSection)] = &[
    (crate::gateway::config::SECTION, read_gateway),
    (crate::console::config::SECTION, read_console),
    (crate::sync::customs_config::SECTION, read_customs),
    (crate::red::config::SECTION, read_red),
];

fn read_console(s: &Section) {
    crate::console::config::ConsoleConfig::read(s);
}

fn read_customs(s: &Section) {
    crate::sync::customs_config::CustomsConfig::read(s);
}

fn read_gateway(s: &Section) {
    GatewayConfig::read(s);
}

fn read_red(s: &Section) {
    RedConfig::read(s);
}

pub fn run(a: &Args) -> u8 {
    match &a.cmd {
        Cmd::Check(c) => check(c),
    }
}

/// Every setting of every section and every mistake, under `env` and `file`.
fn load_all(env: Env, file: Option<&Path>) -> (Vec<Setting>, ConfigErrors) {
    let mut settings = Vec::new();
    let mut errors = ConfigErrors::default();
    for (name, read) in SECTIONS {
        let l = load_section(env, file, name, read);
        settings.extend(l.settings);
        errors.extend(l.errors.0);
    }
    (settings, errors)
}

fn check(a: &CheckArgs) -> u8 {
    let (settings, errors) = load_all(&process_env, a.config.as_deref());
    if a.json {
        for s in &settings {
            let v = serde_json::json!({
                "section": s.section,
                "key": s.key,
                "env": s.env,
                "origin": s.origin.to_string(),
                "value": s.shown,
                "default": s.default,
                "secret": s.secret,
                "required": s.required,
            });
            println!("{v}");
        }
    } else {
        print!("{}", table(&settings));
    }
    if errors.is_empty() {
        return 0;
    }
    for l in errors.lines() {
        eprintln!("error: {l}");
    }
    let n = errors.0.len();
    eprintln!(
        "{n} mistake{} in the settings",
        if n == 1 { "" } else { "s" }
    );
    2
}

/// The settings by section, one a line: key, value, where it came from.
fn table(settings: &[Setting]) -> String {
    let mut out = String::new();
    let mut section = "";
    for s in settings {
        if s.section != section {
            if !section.is_empty() {
                out.push('\n');
            }
            section = s.section;
            out.push_str(&format!("[{section}]\n"));
        }
        let value = match (&s.shown, &s.origin) {
            (Some(v), _) => v.clone(),
            (None, crate::config::Origin::Unset) => "(unset)".into(),
            (None, _) => "(wrong: see below)".into(),
        };
        out.push_str(&format!("{:<24} {:<44} {}\n", s.key, value, s.origin));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_the_loader_knows_is_checked_and_no_other() {
        let mut checked: Vec<&str> = SECTIONS.iter().map(|(n, _)| *n).collect();
        let mut known = crate::config::TABLES.to_vec();
        checked.sort_unstable();
        known.sort_unstable();
        assert_eq!(checked, known);
    }

    #[test]
    fn the_table_masks_secrets_and_says_where_each_value_came_from() {
        let env = |k: &str| match k {
            "CAINIAO_SECRET_KEY" => Some("a-long-secret".to_string()),
            "RED_API_URL" => Some("https://u:pw@red.example/api?token=t0k".to_string()),
            _ => None,
        };
        let (settings, errors) = load_all(&env, None);
        let t = table(&settings);
        assert!(
            !t.contains("a-long-secret") && !t.contains("t0k") && !t.contains("pw"),
            "{t}"
        );
        let line = |k: &str| {
            t.lines()
                .find(|l| l.starts_with(k))
                .unwrap_or("")
                .to_string()
        };
        assert!(line("secret_key").contains("***"), "{t}");
        assert!(
            line("secret_key").ends_with("environment CAINIAO_SECRET_KEY"),
            "{t}"
        );
        assert!(line("app_key").contains("(unset)"), "{t}");
        assert!(
            line("timeout_secs").contains("30") && line("timeout_secs").ends_with("default"),
            "{t}"
        );
        // The missing credentials are the mistakes (RED's tokens may come from the state).
        assert_eq!(errors.0.len(), 3, "{errors}");
    }
}
