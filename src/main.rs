//! The Lambda's entry point; the wiring is `intervention_verify::run`.

// Start-up's future (the key sources' first fetches joined with the table
// warm-up) nests deeper than rustc's default layout depth in release builds.
#![recursion_limit = "256"]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    intervention_verify::run().await
}
