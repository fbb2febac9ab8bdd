//! Everything the function does per request except the DynamoDB round trip:
//! the invocation payload parsed into an event and a request, both tokens
//! verified, the path and body validated, the conditional update built, the
//! returned item mapped to the response, the log line formatted, and the
//! response serialised for the runtime. One figure per access-token kind.
//! The path and its stages are the test kit's (`src/testing/bench.rs`).
//!
//! `cargo bench --bench cpu_path` (or `make bench`).

use divan::{Bencher, black_box};
use intervention_verify::testing::bench::{
    Path, Stages, access_token, event, fresh_session, stored_item,
};
use intervention_verify::testing::tokens;
use jsonwebtoken::Algorithm;

fn main() {
    divan::main();
}

fn alg(name: &str) -> Algorithm {
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The whole request path with tokens seen for the first time (each
/// iteration's session token is new, so both are verified in full).
#[divan::bench(args = ["HS256", "RS256", "ES256", "EdDSA"])]
fn request(bencher: Bencher, name: &str) {
    let access = access_token(alg(name));
    let n = std::cell::Cell::new(0);
    bench_path(bencher, || {
        n.set(n.get() + 1);
        event(&access, &fresh_session(n.get()))
    });
}

/// The same path with a token pair the instance verified before (a user
/// deciding several interventions): the verified-token cache answers.
#[divan::bench(args = ["HS256", "RS256"])]
fn request_same_tokens(bencher: Bencher, name: &str) {
    let payload = event(&access_token(alg(name)), &tokens::session(42));
    bench_path(bencher, || payload.clone());
}

/// Times payload → runtime response; `payload` makes each iteration's input.
/// DynamoDB's answer is handed in per iteration outside the timing, as the
/// SDK hands it over.
fn bench_path(bencher: Bencher, payload: impl Fn() -> String) {
    let path = Path::new();
    let stored = stored_item();
    // Once outside the timing, with this bench's own tokens: the request
    // must decide, or the figure times a refusal.
    let first = path.run(stored.clone(), &payload());
    assert!(first.contains("\"statusCode\":200"), "{first}");
    bencher
        .with_inputs(|| (stored.clone(), payload()))
        .bench_local_values(|(item, payload)| path.run(item, black_box(&payload)));
}

/// The same path, stage by stage, to see where the time goes.
mod stages {
    use super::*;

    /// Both tokens verified in full (a session token never seen before).
    #[divan::bench(args = ["HS256", "RS256", "ES256", "EdDSA"])]
    fn authenticate(bencher: Bencher, name: &str) {
        let stages = Stages::new();
        let authorization = format!("Bearer {}", access_token(alg(name)));
        let n = std::cell::Cell::new(0);
        bencher
            .with_inputs(|| {
                n.set(n.get() + 1);
                fresh_session(n.get())
            })
            .bench_local_values(|session| stages.authenticate(black_box(&authorization), &session));
    }

    /// A pair verified before: the cache lookup.
    #[divan::bench]
    fn authenticate_again(bencher: Bencher) {
        let stages = Stages::new();
        let authorization = format!("Bearer {}", tokens::access(42, &[1, 2, 3]));
        let session = tokens::session(42);
        bencher.bench_local(|| stages.authenticate(black_box(&authorization), &session));
    }

    /// One bench per stage that needs no input but the stages' own.
    macro_rules! stages {
        ($($stage:ident),*) => {$(
            #[divan::bench]
            fn $stage(bencher: Bencher) {
                let stages = Stages::new();
                bencher.bench_local(|| black_box(&stages).$stage());
            }
        )*};
    }

    stages!(
        parse_event,
        validate_request,
        build_update,
        map_item,
        respond,
        log_line
    );
}
