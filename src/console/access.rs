//! Who may use the console: the holder of its token, sent as `Authorization: Bearer …`
//! (scripts, the JSON API) or once in the login form, which opens a session held by a
//! cookie (`HttpOnly`, `SameSite=Strict`, `Secure` and `__Host-` behind TLS; a random id,
//! compared in constant time, as the token is). Without either every page and API answer
//! is 401 and shows nothing ([`super::gate::require`]).
//!
//! A POST a session makes (a resolve, logging out) must carry the session's CSRF token
//! (a form field, or `X-CSRF-Token` from a script) and come from the console's own origin
//! (`Origin`, else `Referer`): a page of another site can neither read the token nor
//! pass the origin check. A bearer request needs neither: no browser attaches that
//! header to a request another site makes. The handlers that use this are in
//! [`super::gate`].

use crate::config::Secret;
use crate::swap::Swap;
use axum::http::{header, HeaderMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// How long a session lasts after the login.
pub const SESSION_LIFE: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at once; a login past it ends the oldest.
const MAX_SESSIONS: usize = 64;
/// The form field and the header a session's POST carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Who made a request that got in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The token as a bearer header.
    Bearer,
    /// A session of the login form.
    Session {
        /// Its CSRF token, put in each form of its pages.
        csrf: String,
        /// A short name of the session for the history (not its id, which is secret).
        tag: String,
    },
}

impl Who {
    /// The CSRF token the pages of this request put in their forms (none for a bearer).
    pub fn csrf(&self) -> &str {
        match self {
            Who::Bearer => "",
            Who::Session { csrf, .. } => csrf,
        }
    }

    /// Who a resolve is recorded as, from `peer` (behind a proxy: the proxy's address).
    pub fn user(&self, peer: Option<std::net::IpAddr>) -> String {
        let from = peer.map_or_else(|| "an unknown address".to_string(), |p| p.to_string());
        match self {
            Who::Bearer => format!("console from {from} (bearer token)"),
            Who::Session { tag, .. } => format!("console from {from} (session {tag})"),
        }
    }
}

struct Session {
    id: String,
    csrf: String,
    tag: String,
    until: Instant,
}

/// The token and the open sessions.
pub struct Access {
    /// `None` once a reload took the token away: nobody gets in.
    token: Swap<Option<Secret>>,
    /// Reached through TLS: the cookie is `Secure`, origins are `https://`.
    tls: bool,
    sessions: Mutex<Vec<Session>>,
}

/// 32 random bytes from the OS, as hex.
fn random_hex() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn same(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl Access {
    pub fn new(token: Secret, tls: bool) -> Access {
        Access {
            token: Swap::new(Some(token)),
            tls,
            sessions: Mutex::new(Vec::new()),
        }
    }

    /// The session cookie's name: `__Host-` behind TLS, so no other host or path can set it.
    pub fn cookie_name(&self) -> &'static str {
        if self.tls {
            "__Host-bondmap_console"
        } else {
            "bondmap_console"
        }
    }

    /// Whether `token` is the console's.
    pub fn is_token(&self, token: &str) -> bool {
        match &*self.token.load() {
            Some(t) => same(token, t.expose()),
            None => false,
        }
    }

    /// The token a reload gave (`None`: the console's token was taken away): when it is
    /// another, every session ends, since they were opened with the old one. Whether it
    /// changed.
    pub fn set_token(&self, token: Option<Secret>) -> bool {
        if *self.token.load() == token {
            return false;
        }
        self.token.store(token);
        match self.sessions.lock() {
            Ok(mut s) => s.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
        true
    }

    /// Who sent `headers`, if the token or a live session came with them. A wrong
    /// bearer token lets nothing in, whatever cookie comes beside it.
    pub fn who(&self, headers: &HeaderMap) -> Option<Who> {
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            let token = auth.to_str().ok()?.strip_prefix("Bearer ")?;
            return self.is_token(token.trim()).then_some(Who::Bearer);
        }
        let id = cookie(headers, self.cookie_name())?;
        let now = Instant::now();
        let mut sessions = self.sessions.lock().ok()?;
        sessions.retain(|s| s.until > now);
        // Every id compared, each in constant time: the time tells nothing of which.
        let mut found = None;
        for s in sessions.iter() {
            if same(&id, &s.id) {
                found = Some(Who::Session {
                    csrf: s.csrf.clone(),
                    tag: s.tag.clone(),
                });
            }
        }
        found
    }

    /// A new session: its `Set-Cookie` value, or `None` when the OS gave no randomness.
    pub fn open_session(&self) -> Option<String> {
        let (id, csrf, tag) = (random_hex()?, random_hex()?, random_hex()?);
        let mut sessions = self.sessions.lock().ok()?;
        let now = Instant::now();
        sessions.retain(|s| s.until > now);
        if sessions.len() >= MAX_SESSIONS {
            sessions.remove(0);
        }
        sessions.push(Session {
            id: id.clone(),
            csrf,
            tag: tag[..8].to_string(),
            until: now + SESSION_LIFE,
        });
        Some(self.set_cookie(&id, SESSION_LIFE.as_secs()))
    }

    /// Ends the session whose CSRF token is `csrf`; the `Set-Cookie` value that clears it.
    pub fn close_session(&self, csrf: &str) -> String {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|s| !same(&s.csrf, csrf));
        }
        self.set_cookie("", 0)
    }

    fn set_cookie(&self, value: &str, max_age: u64) -> String {
        let secure = if self.tls { "; Secure" } else { "" };
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
            self.cookie_name()
        )
    }

    /// Whether a request came from a page of the console itself: its `Origin`, else the
    /// origin of its `Referer`, is the console's (the scheme by `behind_tls`, the host
    /// the request names). Neither sent: not shown to be, so no.
    pub fn same_origin(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let scheme = if self.tls { "https" } else { "http" };
        let Some(ours) = origin_of(&format!("{scheme}://{host}/")) else {
            return false;
        };
        let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
        let theirs = match (text(header::ORIGIN), text(header::REFERER)) {
            (Some(o), _) => origin_of(o),
            (None, Some(r)) => origin_of(r),
            (None, None) => None,
        };
        theirs.is_some_and(|t| t == ours)
    }

    /// The check of a POST: a bearer passes; a session must come from the console's
    /// origin with its CSRF token (`sent`). The reason when refused.
    pub fn check_post(
        &self,
        who: &Who,
        headers: &HeaderMap,
        sent: Option<&str>,
    ) -> Result<(), &'static str> {
        let Who::Session { csrf, .. } = who else {
            return Ok(());
        };
        if !self.same_origin(headers) {
            return Err(
                "refused: the request did not come from the console's own pages (Origin/Referer)",
            );
        }
        match sent {
            Some(s) if same(s, csrf) => Ok(()),
            Some(_) => {
                Err("refused: the form's CSRF token is not this session's (reload the page)")
            }
            None => Err("refused: the form carries no CSRF token (reload the page)"),
        }
    }
}

/// `scheme://host[:port]` of a URL, the default port left out; `None` for no URL or an
/// opaque origin (`null`).
fn origin_of(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url.trim()).ok()?;
    let o = u.origin();
    o.is_tuple().then(|| o.ascii_serialization())
}

/// The value of cookie `name` among the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const TOKEN: &str = "a-console-token-of-24-chars";

    #[test]
    fn a_new_token_ends_every_session_and_the_old_token_and_none_lets_nobody_in() {
        let a = Access::new(Secret::new(TOKEN), false);
        let set = a.open_session().unwrap();
        let c = set.split(';').next().unwrap().to_string();
        assert!(a.who(&headers(&[("cookie", &c)])).is_some());
        assert!(
            !a.set_token(Some(Secret::new(TOKEN))),
            "the same token: no change"
        );
        assert!(a.who(&headers(&[("cookie", &c)])).is_some());
        let new = "another-console-token-24-chars";
        assert!(a.set_token(Some(Secret::new(new))));
        assert_eq!(
            a.who(&headers(&[("cookie", &c)])),
            None,
            "the session ended"
        );
        assert!(!a.is_token(TOKEN) && a.is_token(new));
        assert!(a.set_token(None));
        assert!(!a.is_token(new) && !a.is_token(""));
    }

    #[test]
    fn the_token_or_a_live_session_lets_in_and_nothing_else() {
        let a = Access::new(Secret::new(TOKEN), false);
        assert_eq!(a.who(&headers(&[])), None);
        let bearer = format!("Bearer {TOKEN}");
        assert_eq!(
            a.who(&headers(&[("authorization", &bearer)])),
            Some(Who::Bearer)
        );
        assert_eq!(a.who(&headers(&[("authorization", "Bearer nope")])), None);
        assert_eq!(a.who(&headers(&[("authorization", TOKEN)])), None);
        let set = a.open_session().unwrap();
        assert!(
            set.contains("HttpOnly; SameSite=Strict") && !set.contains("Secure"),
            "{set}"
        );
        let id = set
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_string();
        assert_eq!(id.len(), 64);
        let c = format!("other=1; bondmap_console={id}");
        let who = a.who(&headers(&[("cookie", &c)])).unwrap();
        assert!(matches!(&who, Who::Session { csrf, .. } if csrf.len() == 64 && csrf != &id));
        // A wrong bearer beside a good cookie: out.
        assert_eq!(
            a.who(&headers(&[
                ("cookie", &c),
                ("authorization", "Bearer nope")
            ])),
            None
        );
        assert_eq!(a.who(&headers(&[("cookie", "bondmap_console=0000")])), None);
        // Logged out: the cookie opens nothing.
        a.close_session(who.csrf());
        assert_eq!(a.who(&headers(&[("cookie", &c)])), None);
        // Behind TLS: Secure, and a name no other path or host can set.
        let t = Access::new(Secret::new(TOKEN), true);
        let set = t.open_session().unwrap();
        assert!(
            set.starts_with("__Host-bondmap_console=") && set.ends_with("; Secure"),
            "{set}"
        );
    }

    #[test]
    fn a_sessions_post_needs_its_csrf_token_and_the_consoles_origin() {
        let a = Access::new(Secret::new(TOKEN), false);
        let who = Who::Session {
            csrf: "c".repeat(64),
            tag: "t".into(),
        };
        let good = "c".repeat(64);
        let ours = headers(&[
            ("host", "127.0.0.1:8790"),
            ("origin", "http://127.0.0.1:8790"),
        ]);
        assert!(a.check_post(&who, &ours, Some(&good)).is_ok());
        assert!(a.check_post(&who, &ours, Some("wrong")).is_err());
        assert!(a.check_post(&who, &ours, None).is_err());
        let foreign = headers(&[
            ("host", "127.0.0.1:8790"),
            ("origin", "http://evil.example"),
        ]);
        assert!(a.check_post(&who, &foreign, Some(&good)).is_err());
        let referer = headers(&[
            ("host", "127.0.0.1:8790"),
            ("referer", "http://127.0.0.1:8790/orders/P1"),
        ]);
        assert!(a.check_post(&who, &referer, Some(&good)).is_ok());
        let neither = headers(&[("host", "127.0.0.1:8790")]);
        assert!(a.check_post(&who, &neither, Some(&good)).is_err());
        let null = headers(&[("host", "127.0.0.1:8790"), ("origin", "null")]);
        assert!(a.check_post(&who, &null, Some(&good)).is_err());
        // Behind TLS the page's origin is https, the default port left out.
        let t = Access::new(Secret::new(TOKEN), true);
        let proxied = headers(&[("host", "ops.example"), ("origin", "https://ops.example")]);
        assert!(t.check_post(&who, &proxied, Some(&good)).is_ok());
        let plain = headers(&[("host", "ops.example"), ("origin", "http://ops.example")]);
        assert!(t.check_post(&who, &plain, Some(&good)).is_err());
        // A bearer needs neither.
        assert!(a.check_post(&Who::Bearer, &neither, None).is_ok());
    }
}
