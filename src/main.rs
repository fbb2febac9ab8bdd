//! The Lambda's entry point; the wiring is `intervention_verify::run`.

// Start-up's future (the key sources' first fetches joined with the table
// warm-up) nests deeper than rustc's default layout depth in release builds.
#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), lambda_runtime::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // A reconnect resolves the endpoint on the blocking pool. Its thread
        // outlives the idle gaps between clicks (tokio's default is 10 s),
        // so the invocation after one does not start a thread first.
        .thread_keep_alive(std::time::Duration::from_secs(3600))
        .build()?
        .block_on(intervention_verify::run())
}
