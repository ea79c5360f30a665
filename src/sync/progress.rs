//! How far a round is: on a terminal an indicatif bar (orders listed, done, rejected,
//! failed); without one a log line every few seconds.

use super::OrderLine;
use crate::store::Stage;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Seconds between two log lines when stderr is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    listed: u64,
    done: u64,
    rejected: u64,
    failed: u64,
    /// Log lines instead of a bar (stderr is not a terminal).
    log: bool,
    bar: Option<ProgressBar>,
    last_log: Instant,
}

impl Progress {
    /// `show`: false for callers that report on their own (tests, the demo).
    pub fn start(listed: usize, show: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (show && terminal).then(|| {
            let b =
                ProgressBar::with_draw_target(Some(listed as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} orders {msg} ({per_sec}, eta {eta})",
            ) {
                b.set_style(style);
            }
            b
        });
        Progress {
            listed: listed as u64,
            done: 0,
            rejected: 0,
            failed: 0,
            log: show && !terminal,
            bar,
            last_log: Instant::now(),
        }
    }

    /// `n` more orders to take (a listing read page by page).
    pub fn more(&mut self, n: usize) {
        self.listed += n as u64;
        if let Some(b) = &self.bar {
            b.inc_length(n as u64);
        }
    }

    pub fn order(&mut self, line: &OrderLine) {
        self.done += 1;
        match line.stage {
            Stage::Rejected => self.rejected += 1,
            Stage::Failed => self.failed += 1,
            _ => {}
        }
        if let Some(b) = &self.bar {
            b.set_position(self.done);
            b.set_message(format!(
                "({} rejected, {} failed)",
                self.rejected, self.failed
            ));
        } else if self.log && self.last_log.elapsed() >= LOG_EVERY {
            self.last_log = Instant::now();
            self.log();
        }
    }

    fn log(&self) {
        tracing::info!(
            listed = self.listed,
            done = self.done,
            rejected = self.rejected,
            failed = self.failed,
            "round in progress"
        );
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
