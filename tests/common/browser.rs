//! The browser rig of the page tests (the playground's, the console's): Debian's headless
//! Chromium (`apt-get install chromium`, `/usr/bin/chromium`; `BONDMAP_CHROMIUM` names
//! another) driven over the DevTools protocol. A missing browser fails the test with what
//! to install: a page test never passes without a browser.
//!
//! ```ignore
//! let b = Browser::start();
//! let page = b.open(&served.url);
//! page.wait_for("#request .field", SLOW);
//! page.click(r#"[data-field="receiverInfo.city"]"#);
//! assert!(page.wait_for_text("#explain", "receiverCityName", SLOW).is_ok());
//! ```
#![allow(dead_code)]

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{LaunchOptions, Tab};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A wait for what a page does at once (a first load, a click's answer). Generous: CI is
/// a shared 2-core machine; a test asserting a tighter bound passes its own.
pub const SLOW: Duration = Duration::from_secs(20);

/// The browser the tests drive.
pub fn chromium() -> PathBuf {
    std::env::var_os("BONDMAP_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// A headless Chromium with a fresh profile of its own, ended when dropped.
pub struct Browser {
    browser: headless_chrome::Browser,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium (1400×900); fails the test, saying what to install, without one.
    pub fn start() -> Browser {
        let path = chromium();
        assert!(
            path.is_file(),
            "no browser at {}: the page tests need Debian's Chromium \
             (`apt-get install -y chromium`, as .ci/run does) or BONDMAP_CHROMIUM=/path/to/chrome",
            path.display()
        );
        let profile = tempfile::tempdir().expect("a profile folder");
        // Beside the rig's defaults (--headless, --disable-gpu, --no-sandbox,
        // --no-first-run, --disable-background-networking, --disable-sync): nothing
        // reaches out of the machine.
        let args: Vec<&OsStr> = ["--disable-quic", "--disable-component-update"]
            .iter()
            .map(OsStr::new)
            .collect();
        let opts = LaunchOptions::default_builder()
            .path(Some(path.clone()))
            .headless(true)
            .sandbox(false)
            .window_size(Some((1400, 900)))
            .user_data_dir(Some(profile.path().to_path_buf()))
            .args(args)
            .idle_browser_timeout(Duration::from_secs(120))
            .build()
            .expect("launch options");
        let browser = headless_chrome::Browser::new(opts)
            .unwrap_or_else(|e| panic!("{} did not start: {e}", path.display()));
        Browser {
            browser,
            _profile: profile,
        }
    }

    /// A new tab at `url`, once its document has loaded.
    pub fn open(&self, url: &str) -> Page {
        let tab = self.browser.new_tab().expect("a tab");
        tab.set_default_timeout(SLOW);
        tab.navigate_to(url)
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        let page = Page { tab };
        // The rig's own wait for navigation misses Chromium 156's events; the document
        // says when it is loaded.
        let loaded = format!(
            "location.href === {} && document.readyState === 'complete'",
            js_str(url)
        );
        if let Err(t) = page.wait_until(&loaded, SLOW) {
            panic!("{url} not loaded after {t:?}");
        }
        page
    }
}

/// One tab.
pub struct Page {
    pub tab: Arc<Tab>,
}

impl Page {
    /// Runs `js` (an expression; a promise is awaited) and gives its value as JSON.
    pub fn eval(&self, js: &str) -> serde_json::Value {
        // The protocol hands objects back as references: the value comes back as JSON text.
        let wrapped = format!("(async () => JSON.stringify(await ({js})))()");
        let r = self
            .tab
            .evaluate(&wrapped, true)
            .unwrap_or_else(|e| panic!("evaluating {js}: {e}"));
        match r.value {
            Some(serde_json::Value::String(s)) => {
                serde_json::from_str(&s).unwrap_or_else(|e| panic!("{js} gave {s}: {e}"))
            }
            _ => serde_json::Value::Null,
        }
    }

    /// Waits until the JS expression `cond` is true, up to `limit`: how long it took, or
    /// `Err` with the time waited.
    pub fn wait_until(&self, cond: &str, limit: Duration) -> Result<Duration, Duration> {
        let t0 = Instant::now();
        loop {
            if self.eval(&format!("Boolean({cond})")) == serde_json::Value::Bool(true) {
                return Ok(t0.elapsed());
            }
            if t0.elapsed() > limit {
                return Err(t0.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until an element matches `selector`; panics after `limit`.
    pub fn wait_for(&self, selector: &str, limit: Duration) {
        let cond = format!("document.querySelector({})", js_str(selector));
        if let Err(t) = self.wait_until(&cond, limit) {
            panic!(
                "no `{selector}` after {t:?}; the page shows:\n{}",
                self.text("body")
            );
        }
    }

    /// Waits until the text of the first element matching `selector` contains `want`.
    pub fn wait_for_text(
        &self,
        selector: &str,
        want: &str,
        limit: Duration,
    ) -> Result<Duration, Duration> {
        let cond = format!(
            "(document.querySelector({s})?.innerText ?? '').includes({w})",
            s = js_str(selector),
            w = js_str(want)
        );
        self.wait_until(&cond, limit)
    }

    /// The text of the first element matching `selector` (as shown: `innerText`); empty
    /// when there is none.
    pub fn text(&self, selector: &str) -> String {
        let v = self.eval(&format!(
            "document.querySelector({})?.innerText ?? ''",
            js_str(selector)
        ));
        v.as_str().unwrap_or_default().to_string()
    }

    /// How many elements match `selector`.
    pub fn count(&self, selector: &str) -> usize {
        let v = self.eval(&format!(
            "document.querySelectorAll({}).length",
            js_str(selector)
        ));
        v.as_u64().unwrap_or(0) as usize
    }

    /// Clicks the first element matching `selector` with the mouse, as a person would.
    pub fn click(&self, selector: &str) {
        self.tab
            .find_element(selector)
            .and_then(|e| {
                e.scroll_into_view()?;
                e.click().map(|_| ())
            })
            .unwrap_or_else(|e| panic!("cannot click `{selector}`: {e}"));
    }

    /// Chooses `value` in the `<select>` matching `selector` (as a person picking it:
    /// the value set and a `change` event).
    pub fn choose(&self, selector: &str, value: &str) {
        let done = self.eval(&format!(
            "(() => {{ const s = document.querySelector({s}); if (!s) return false; \
             s.value = {v}; s.dispatchEvent(new Event('change', {{bubbles: true}})); \
             return s.value === {v}; }})()",
            s = js_str(selector),
            v = js_str(value)
        ));
        assert_eq!(
            done,
            serde_json::Value::Bool(true),
            "no `{value}` in `{selector}`"
        );
    }

    /// Types `text` with the keyboard into what has the focus (`\n` presses Enter).
    pub fn type_text(&self, text: &str) {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.tab.press_key("Enter").expect("Enter");
            }
            if !line.is_empty() {
                self.tab.type_str(line).expect("typing");
            }
        }
    }

    /// Presses a key with modifiers (`"End"`, `["Control"]`).
    pub fn press(&self, key: &str, modifiers: &[&str]) {
        use headless_chrome::browser::tab::ModifierKey;
        let mods: Vec<ModifierKey> = modifiers
            .iter()
            .map(|m| match *m {
                "Control" => ModifierKey::Ctrl,
                "Shift" => ModifierKey::Shift,
                "Alt" => ModifierKey::Alt,
                _ => ModifierKey::Meta,
            })
            .collect();
        self.tab
            .press_key_with_modifiers(key, Some(&mods))
            .unwrap_or_else(|e| panic!("pressing {key}: {e}"));
    }

    /// A PNG of the page as shown, written to `path`.
    pub fn screenshot(&self, path: &Path) {
        let png = self
            .tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .expect("a screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot's folder");
        }
        std::fs::write(path, png).expect("the screenshot written");
    }
}

/// `s` as a JS string literal.
pub fn js_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}
