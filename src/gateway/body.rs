//! Reading an HTTP answer as if it were hostile: a body over a cap is refused without
//! being read to its end, a redirect is never followed and is described by its status and
//! target host only (a URL's path and query may carry tokens), `Retry-After` is read.

use reqwest::blocking::Response;
use std::io::Read;
use std::time::Duration;

/// The body, at most `cap` bytes; a longer one is an error, read no further than the cap.
pub fn read_capped(resp: Response, cap: u64) -> Result<Vec<u8>, String> {
    let over = || format!("answer body over {} MiB, not read", cap >> 20);
    // A declared length over the cap is refused before any byte is read.
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(over());
    }
    let mut buf = Vec::new();
    resp.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("reading the answer: {e}"))?;
    if buf.len() as u64 > cap {
        return Err(over());
    }
    Ok(buf)
}

/// "HTTP 307 redirect to 127.0.0.1:8081, not followed": the host, never the path or query.
pub fn redirect_error(resp: &Response) -> String {
    let target = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| resp.url().join(l).ok())
        .and_then(|u| {
            let host = u.host_str()?.to_string();
            Some(match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            })
        });
    match target {
        Some(h) => format!(
            "HTTP {} redirect to {h}, not followed",
            resp.status().as_u16()
        ),
        None => format!(
            "HTTP {} redirect without a usable Location, not followed",
            resp.status().as_u16()
        ),
    }
}

/// The server's `Retry-After`: whole seconds or an HTTP date.
pub fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = (at.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0);
    Some(Duration::from_millis(ms as u64))
}
