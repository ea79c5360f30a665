// Orders are parsed into JSON trees and dropped one after another: a faster allocator pays.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tune_allocator();
    quiet_broken_pipe();
    bondmap::cli::main()
}

/// The commands that print and end: a reader that stops early (`bondmap map … | head`)
/// ends them quietly, as it ends any Unix filter, instead of a panic on the next line.
/// Not the servers and the pipeline (sync, lsp, play, the simulators, send, retry, demo),
/// whose writes to a peer that left must stay errors they handle.
fn quiet_broken_pipe() {
    let filter = matches!(
        command().as_deref(),
        Some(
            "map"
                | "check"
                | "explain"
                | "request"
                | "status"
                | "history"
                | "schema"
                | "test"
                | "config"
                | "fmt"
        )
    );
    #[cfg(unix)]
    if filter {
        // SAFETY: restores the default action of one signal before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// The command asked for (its first argument), before the command line is parsed.
fn command() -> Option<String> {
    std::env::args_os().nth(1)?.into_string().ok()
}

/// mimalloc's `mi_option_purge_delay` (its index in `mimalloc.h`, the same in v2 and v3;
/// the Rust bindings give it no name).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory settings for what bondmap runs. Measured with the pipeline benchmark
/// (benches/README.md, "Memory"): a `sync` round of 3,000 orders peaked at 75 MB as mimalloc
/// comes, 43 MB without huge pages, 31 MB with freed memory also returned at once.
/// A setting given in the environment (`MIMALLOC_ALLOW_THP`, `MIMALLOC_PURGE_DELAY`) wins:
/// mimalloc has read it before `main`.
fn tune_allocator() {
    // Only the commands that run the pipeline, long-lived and many-threaded, trade speed for
    // a flat, small footprint: on `map --ndjson` (a batch over one stream) huge pages off
    // cost 8 times the page faults and about 10 % more time, and the immediate purge 7 %
    // more CPU (benches/README.md, "Memory").
    let pipeline = matches!(command().as_deref(), Some("sync" | "retry" | "demo"));
    #[cfg(target_os = "linux")]
    if pipeline && std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // Transparent huge pages off: mimalloc asks for them on its 2 MiB-aligned memory, so
        // each thread's half-used cache counted as whole 2 MiB pages. The kernel checks the
        // flag at each page fault, so it holds for memory mapped before `main` too.
        // SAFETY: PR_SET_THP_DISABLE reads only its integer arguments and touches no memory
        // of this process; a failure (an old kernel) only leaves huge pages on.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
    // The pipeline's ~30 threads (fetchers, their RED calls, gateway workers) free whole
    // chunks of documents; mimalloc holds freed memory 1 s by default before giving it back,
    // which let a long round grow. Returned at once it stays flat.
    if pipeline && std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first thing in `main`, before any thread of ours exists (the call
        // is not thread-safe); it sets one integer of mimalloc's option table.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}
