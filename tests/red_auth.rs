//! RED authorization that lasts (issue 26 §1), on loopback against the RED simulator with
//! tokens that expire in seconds: `sync` over many rounds and a restart (every order sent
//! once, RED told of every shipment once, the rotated tokens of the state used after the
//! restart), an expired refresh token (one clear line, no RED work, nothing lost, going on
//! after `bondmap auth --code`), a token used alone, a customs failure taken by the
//! callback after the configured tokens rotated away, and no token in any output or in the
//! state outside its tokens table.

mod common;

use bondmap::gateway::sim::{SimHandle, SimOptions};
use bondmap::red::sim::{RedSimHandle, RedSimOptions};
use bondmap::red::sim_auth::SimAuthOptions;
use bondmap::red::{AuthState, RedClient, RedConfig, RedError, TokenKeeper, Tokens};
use bondmap::store::{Stage, Store};
use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP: &str = "auth-app";
const RED_SECRET: &str = "red-SECRET-71";
const TOKEN: &str = "tok-SECRET-72";
const REFRESH: &str = "ref-SECRET-73";
const GW_SECRET: &str = "gw-SECRET-74";
const ROUTES: &str = "mappings/routes.map";
/// The line a person reads once RED's authorization is over.
const EXPIRED_LINE: &str =
    "RED authorization expired: authorize the app again, then `bondmap auth --code CODE`";

fn red_sim(access_lifetime: Duration, refresh: &str) -> RedSimHandle {
    bondmap::red::sim::spawn(
        0,
        RedSimOptions {
            app_id: APP.into(),
            app_secret: RED_SECRET.into(),
            access_token: TOKEN.into(),
            auth: SimAuthOptions {
                refresh_token: refresh.into(),
                access_lifetime: Some(access_lifetime),
                ..SimAuthOptions::default()
            },
            ..RedSimOptions::default()
        },
    )
    .unwrap()
}

/// A valid order for the Hangzhou warehouse, updated a minute ago.
fn order(i: usize, id: &str) -> Value {
    let mut d = valid_order(i, id, chrono::Utc::now().timestamp() - 60);
    d["detail"]["whcode"] = "HZXS".into();
    d["detail"]["logisticsMode"] = 2.into();
    d
}

/// The environment of a `bondmap` run against both simulators (`refresh`: the configured
/// refresh token, if any).
fn env(red: &RedSimHandle, gw: &SimHandle, refresh: Option<&str>) -> Vec<(&'static str, String)> {
    let mut e = vec![
        ("RED_APP_ID", APP.to_string()),
        ("RED_APP_SECRET", RED_SECRET.into()),
        ("RED_ACCESS_TOKEN", TOKEN.into()),
        ("RED_API_URL", red.url()),
        ("RED_MAX_REQUESTS_PER_SECOND", "10000".into()),
        ("CAINIAO_APP_KEY", "CP".into()),
        ("CAINIAO_SECRET_KEY", GW_SECRET.into()),
        ("CAINIAO_GATEWAY_URL", gw.url()),
        ("RUST_LOG", "info".into()),
    ];
    if let Some(r) = refresh {
        e.push(("RED_REFRESH_TOKEN", r.into()));
    }
    e
}

fn command(args: &[&str], env: &[(&'static str, String)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bondmap"));
    c.args(args).current_dir(root());
    for (k, _) in std::env::vars() {
        if k.starts_with("RED_") || k.starts_with("CAINIAO_") {
            c.env_remove(k);
        }
    }
    c.envs(env.iter().map(|(k, v)| (k, v)));
    c
}

/// A `bondmap sync` running in the background, its output gathered as it comes.
struct Sync {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Sync {
    fn start(db: &Path, env: &[(&'static str, String)], extra: &[&str]) -> Sync {
        let mut args = vec![
            "sync",
            "--mapping",
            ROUTES,
            "--state",
            db.to_str().unwrap(),
            "--interval",
            "1",
        ];
        args.extend_from_slice(extra);
        let mut child = command(&args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out: Arc<Mutex<String>> = Arc::default();
        for mut pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = out.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Sync { child, out }
    }

    /// SIGTERM, then the whole output once it exited.
    fn stop(mut self) -> String {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(t.elapsed() < Duration::from_secs(20), "still running");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The readers finish with the pipes.
        std::thread::sleep(Duration::from_millis(100));
        let out = self.out.lock().unwrap().clone();
        out
    }

    fn output(&self) -> String {
        self.out.lock().unwrap().clone()
    }
}

fn stages(db: &Path) -> HashMap<String, Stage> {
    Store::open_read_only(db)
        .map(|s| s.all().unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.order_id, r.stage))
        .collect()
}

/// Waits (bounded) until `ids` are all in `stage`.
fn wait_for(db: &Path, ids: &[String], stage: Stage, what: &str) {
    let t = Instant::now();
    loop {
        let s = stages(db);
        if ids.iter().all(|id| s.get(id) == Some(&stage)) {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "{what}: {s:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every text value of the state's tables but `red_tokens`, the one place a token may be.
fn state_text(db: &Path) -> String {
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'red_tokens'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut all = String::new();
    for t in tables {
        let mut st = c.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = st.column_count();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                if let Ok(Some(s)) = r.get::<_, Option<String>>(i) {
                    all.push_str(&s);
                    all.push('\n');
                }
            }
        }
    }
    all
}

fn assert_no_token(tokens: &[String], text: &str, what: &str) {
    assert!(tokens.len() >= 2, "{tokens:?}");
    for t in tokens {
        assert!(!text.contains(t.as_str()), "a token in {what}");
    }
}

#[test]
fn tokens_expiring_every_few_seconds_over_many_rounds_and_a_restart_lose_nothing_and_never_show() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // Access tokens live 4 s (renewed under 2 s left), refresh tokens 8 s.
    let red = red_sim(Duration::from_secs(4), REFRESH);
    let port = free_port();
    let gw = gw_sim_with(
        GW_SECRET,
        SimOptions {
            callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
            ship_after: Duration::from_millis(200),
            ..SimOptions::default()
        },
    );
    let env = env(&red, &gw, Some(REFRESH));
    let listen = format!("127.0.0.1:{port}");
    let run = Sync::start(&db, &env, &["--listen", &listen]);
    let mut ids = Vec::new();
    // Orders come over eight seconds: their rounds run on tokens renewed under them.
    for wave in 0..4 {
        for i in 0..3 {
            let id = format!("A{wave}{i}");
            red.add_order(order(wave * 3 + i, &id));
            ids.push(id);
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    wait_for(&db, &ids, Stage::Delivered, "first run");
    let first = run.stop();
    let (refreshes, renewals, _) = red.token_counts();
    assert!(renewals >= 3, "{refreshes} refreshes, {renewals} renewals");
    // The configured tokens are dead now (expired, rotated away): a restart that used them
    // would stop. It takes the state's.
    let mut more = Vec::new();
    for i in 0..3 {
        let id = format!("B0{i}");
        red.add_order(order(i, &id));
        more.push(id);
    }
    let run = Sync::start(&db, &env, &["--listen", &listen]);
    wait_for(&db, &more, Stage::Delivered, "after the restart");
    std::thread::sleep(Duration::from_secs(4));
    let second = run.stop();
    assert!(!second.contains("authorization expired"), "{second}");
    assert!(
        second.contains("using the RED tokens kept in the state"),
        "{second}"
    );
    // Every order sent once, RED told of every shipment once.
    ids.extend(more);
    let created = gw.created();
    assert_eq!(created.len(), ids.len());
    assert!(created.values().all(|n| *n == 1), "{created:?}");
    assert_eq!(red.delivered().len(), ids.len());
    assert_eq!(red.calls("order.orderDeliver") as usize, ids.len());
    assert!(
        red.token_counts().1 > renewals,
        "renewed after the restart too"
    );
    // No token in any output, in `status`, or in the state but its tokens table.
    let tokens = red.issued_tokens();
    assert!(tokens.len() >= 8, "{}", tokens.len());
    assert_no_token(&tokens, &first, "the first run's output");
    assert_no_token(&tokens, &second, "the second run's output");
    let status = bondmap(&["status", "--all", "--state", db.to_str().unwrap()]);
    assert_no_token(&tokens, &text(&status.stdout), "status");
    // When they end, at +08:00, and nothing of the tokens themselves.
    assert!(
        text(&status.stdout).contains("RED tokens: kept in the state; the access token until 20"),
        "{}",
        text(&status.stdout)
    );
    let json = bondmap(&[
        "status",
        "--format",
        "json",
        "--state",
        db.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["red_tokens"]["refresh_expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "{v}"
    );
    assert_no_token(&tokens, &text(&json.stdout), "status as JSON");
    assert_no_token(&tokens, &state_text(&db), "the state");
    // The state's tokens are RED's newest.
    let kept = Store::open_read_only(&db)
        .unwrap()
        .red_tokens()
        .unwrap()
        .unwrap();
    assert!(tokens.contains(&kept.access.expose().to_string()));
    assert_ne!(kept.refresh.expose(), REFRESH);
}

#[test]
fn a_customs_failure_after_the_tokens_rotated_is_masked_with_the_rounds_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // Access tokens live 2 s: by the time the warehouse reports, the configured tokens
    // are expired and rotated away; only those the rounds renewed answer.
    let red = red_sim(Duration::from_secs(2), REFRESH);
    let port = free_port();
    let id = "K01".to_string();
    // Example 01's buyer, quoted by the warehouse in its reason.
    let reason = "订购人张三身份证号330106199001011234与姓名不一致".to_string();
    let gw = gw_sim_with(
        GW_SECRET,
        SimOptions {
            callback_url: Some(format!("http://127.0.0.1:{port}/cainiao/callback")),
            customs: [(id.clone(), vec![("CUSTOMS_FAILED".to_string(), reason)])]
                .into_iter()
                .collect(),
            ..SimOptions::default()
        },
    );
    let env = env(&red, &gw, Some(REFRESH));
    let listen = format!("127.0.0.1:{port}");
    let run = Sync::start(&db, &env, &["--listen", &listen]);
    let t = Instant::now();
    while red.token_counts().1 < 2 {
        assert!(t.elapsed() < Duration::from_secs(30), "{}", run.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    red.add_order(order(0, &id));
    wait_for(
        &db,
        std::slice::from_ref(&id),
        Stage::CustomsFailed,
        "the customs failure",
    );
    let out = run.stop();
    let row = Store::open_read_only(&db)
        .unwrap()
        .get(&id)
        .unwrap()
        .unwrap();
    assert_eq!(row.customs_class.as_deref(), Some("buyer_identity"));
    let kept = row.customs_reason.unwrap_or_default();
    assert!(kept.contains("张*"), "{kept}");
    assert!(!kept.contains("张三") && !kept.contains("1990"), "{kept}");
    assert!(!out.contains("cannot check the customs reason"), "{out}");
    assert_no_token(&red.issued_tokens(), &out, "the output");
}

#[test]
fn an_expired_refresh_token_stops_red_work_with_one_line_and_auth_code_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let red = red_sim(Duration::from_secs(2), REFRESH);
    let gw = gw_sim_with(GW_SECRET, SimOptions::default());
    let env = env(&red, &gw, Some(REFRESH));
    red.add_order(order(0, "C01"));
    let run = Sync::start(&db, &env, &[]);
    wait_for(&db, &["C01".to_string()], Stage::Accepted, "first order");
    // The shop was away two weeks: the refresh token is dead, the access token soon.
    red.expire_refresh_token();
    let t = Instant::now();
    while !run.output().contains(EXPIRED_LINE) {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", run.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    red.add_order(order(1, "C02"));
    // Several rounds go by: no RED call at all, the order waits, nothing is lost.
    let calls = red.total_calls();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(red.total_calls(), calls, "RED work while unauthorized");
    assert!(!stages(&db).contains_key("C02"));
    // The merchant authorizes the app again; the running sync takes the new tokens.
    let code = red.issue_code();
    let auth = command(
        &["auth", "--code", &code, "--state", db.to_str().unwrap()],
        &env,
    )
    .output()
    .unwrap();
    let said = format!("{}{}", text(&auth.stdout), text(&auth.stderr));
    assert_eq!(auth.status.code(), Some(0), "{said}");
    assert!(said.contains("RED authorized the app"), "{said}");
    wait_for(&db, &["C02".to_string()], Stage::Accepted, "after auth");
    let out = run.stop();
    // The line once, however many rounds it waited.
    assert_eq!(out.matches(EXPIRED_LINE).count(), 1, "{out}");
    assert!(
        out.contains("new RED tokens are kept in the state"),
        "{out}"
    );
    assert_eq!(gw.created().len(), 2);
    let tokens = red.issued_tokens();
    assert_no_token(&tokens, &out, "sync's output");
    assert_no_token(&tokens, &said, "auth's output");
    // A code used up (or unknown) is RED's refusal: exit 1, RED's words.
    let again = command(
        &[
            "auth",
            "--code",
            "no-such-code",
            "--state",
            db.to_str().unwrap(),
        ],
        &env,
    )
    .output()
    .unwrap();
    let e = text(&again.stderr);
    assert_eq!(again.status.code(), Some(1), "{e}");
    assert!(
        e.contains("RED refused the code") && e.contains("授权码"),
        "{e}"
    );
}

#[test]
fn one_round_without_any_token_or_with_an_expired_authorization_says_so_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let red = red_sim(Duration::from_secs(1), "");
    let gw = gw_sim_with(GW_SECRET, SimOptions::default());
    let no_token: Vec<_> = env(&red, &gw, None)
        .into_iter()
        .filter(|(k, _)| *k != "RED_ACCESS_TOKEN")
        .collect();
    let args = [
        "sync",
        "--once",
        "--mapping",
        ROUTES,
        "--state",
        db.to_str().unwrap(),
    ];
    let out = command(&args, &no_token).output().unwrap();
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(
        e.contains("no RED access token") && e.contains("bondmap auth --code"),
        "{e}"
    );
    assert_eq!(red.total_calls(), 0);
    // The access token alone, expired by now: RED's token error, no refresh token to
    // renew it: the round stops with the line, the order is still to be taken.
    red.add_order(order(0, "N01"));
    // The simulator issues its tokens at its first call.
    assert!(client(&red, None).order_detail("X").is_err());
    std::thread::sleep(Duration::from_millis(1200));
    let out = command(&args, &env(&red, &gw, None)).output().unwrap();
    let e = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("no RED refresh token"), "{e}");
    assert!(e.contains(EXPIRED_LINE), "{e}");
    assert!(gw.created().is_empty());
}

/// A keeper in memory: what the state keeps for `sync`.
#[derive(Default)]
struct Kept {
    tokens: Mutex<Option<Tokens>>,
    first_use: Mutex<Option<i64>>,
}

impl TokenKeeper for Kept {
    fn load(&self) -> Result<Option<Tokens>, String> {
        Ok(self.tokens.lock().unwrap().clone())
    }
    fn save(&self, t: &Tokens) -> Result<(), String> {
        *self.tokens.lock().unwrap() = Some(t.clone());
        Ok(())
    }
    fn first_use(&self, _: &bondmap::config::Secret, now_ms: i64) -> Result<i64, String> {
        Ok(*self.first_use.lock().unwrap().get_or_insert(now_ms))
    }
}

fn client(red: &RedSimHandle, refresh: Option<&str>) -> RedClient {
    let url = red.url();
    let mut c = RedConfig::from_sources(
        |k| match k {
            "RED_APP_ID" => Some(APP.into()),
            "RED_APP_SECRET" => Some(RED_SECRET.into()),
            "RED_ACCESS_TOKEN" => Some(TOKEN.into()),
            "RED_REFRESH_TOKEN" => refresh.map(str::to_string),
            "RED_API_URL" => Some(url.clone()),
            _ => None,
        },
        None,
    )
    .unwrap();
    c.backoff_base = Duration::from_millis(5);
    RedClient::new(c).unwrap()
}

#[test]
fn a_token_used_alone_is_warned_about_from_a_day_before_and_ends_in_an_expired_authorization() {
    let red = red_sim(Duration::from_millis(800), "");
    // First used six and a half days ago: RED's 7 days end within a day.
    let kept = Arc::new(Kept::default());
    let day = 24 * 3600 * 1000;
    *kept.first_use.lock().unwrap() =
        Some(chrono::Utc::now().timestamp_millis() - 6 * day - day / 2);
    let c = client(&red, None);
    c.keep_tokens(kept).unwrap();
    match c.auth_state() {
        AuthState::NotRenewed {
            expires_by: Some(_),
            warn: true,
        } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(c.token_expires_at(), None, "RED never said");
    assert!(c.authorized().is_ok());
    assert!(
        c.order_detail("X").is_err(),
        "no such order, but the token works"
    );
    std::thread::sleep(Duration::from_millis(900));
    // Expired at RED: no refresh token to renew it with.
    let e = c.order_detail("X").unwrap_err();
    assert!(matches!(e, RedError::Unauthorized), "{e}");
    assert_eq!(c.auth_state(), AuthState::Expired);
    let calls = red.total_calls();
    assert!(c.order_detail("X").is_err());
    assert_eq!(red.total_calls(), calls, "a call made while unauthorized");
}

#[test]
fn a_refresh_token_learns_the_expiry_keeps_the_tokens_and_renews_under_half_the_lifetime() {
    let red = red_sim(Duration::from_secs(2), REFRESH);
    let kept = Arc::new(Kept::default());
    let c = client(&red, Some(REFRESH));
    c.keep_tokens(kept.clone()).unwrap();
    assert_eq!(c.token_expires_at(), None);
    // The first call refreshes to learn the expiry: the same tokens (more than half left).
    assert!(c.order_detail("X").is_err());
    let (refreshes, renewals, _) = red.token_counts();
    assert_eq!((refreshes, renewals), (1, 0));
    let first = kept.load().unwrap().unwrap();
    assert_eq!(first.access.expose(), TOKEN);
    assert_eq!(c.token_expires_at(), Some(first.access_expires_at));
    assert!(matches!(
        c.auth_state(),
        AuthState::Renewed {
            expires_at: Some(_)
        }
    ));
    // Under half its lifetime left: renewed before a call, the new ones kept.
    std::thread::sleep(Duration::from_millis(1100));
    assert!(c.order_detail("X").is_err());
    assert_eq!(red.token_counts().1, 1);
    let second = kept.load().unwrap().unwrap();
    assert_ne!(second.access, first.access);
    assert_ne!(second.refresh.expose(), REFRESH);
    assert_eq!(red.token_counts().2, 0, "no call with an expired token");
}
