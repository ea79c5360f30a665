//! A bondmap command that serves pages (`play`, `sync --listen`), run in the repo's root
//! for a test: started, its address read from the first line it prints, stopped when
//! the test drops it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

pub struct Served {
    child: Child,
    /// The address it printed, e.g. `http://127.0.0.1:41234/`.
    pub url: String,
}

impl Served {
    /// Runs `bondmap ARGS` and waits for the first line of its stdout, which must start
    /// with `prefix` followed by the address (`playground: http://…/`).
    pub fn start(args: &[&str], prefix: &str) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bondmap"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("bondmap runs");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        let Some(url) = line.trim().strip_prefix(prefix) else {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("bondmap {args:?} did not print `{prefix}ADDRESS`: {line:?}\n{err}");
        };
        Served {
            url: url.trim().to_string(),
            child,
        }
    }

    /// The URL of `path` (`api/start`) on the server.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path.trim_start_matches('/'))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
