//! `PATCH /interventions/v2/rs/{interventionId}/verify`: a client's site
//! manager accepts or rejects a finished intervention.
//!
//! The map, one room each:
//! - [`edge`]: the Lambda event ↔ an HTTP request and response; the request
//!   checks, problem+json ([`edge::response`], the one error → status table)
//!   and CORS ([`edge::cors`], which answers preflights itself);
//! - [`auth`]: both tokens → the caller; [`keys`]: keys that live elsewhere
//!   and when to read them again;
//! - [`domain`]: the intervention, its lifecycle, the decision rules (pure);
//! - [`store`]: DynamoDB's conditional writes; [`aws`]: the clients' shared
//!   HTTPS and SDK setup (it depends on the adapters' policies, never the
//!   reverse);
//! - [`config`]: the environment, parsed once; [`error`]: every failure,
//!   typed; [`telemetry`]: the log line and its metrics;
//! - [`handler`]: one request through them all, on lambda_http's request
//!   type; [`process`]: start-up and the runtime loop ([`run`], all that
//!   `main` calls).
//!
//! Public: [`run`] for `main`; [`https_connector`], the SigV4 signer
//! ([`SigningKeys`]) and the answer's reader ([`read_answer`]) for the
//! floor bench.
//! The rooms themselves are open only to the test kit's builds (`cfg(test)`,
//! the `testing` feature) for the integration tests and the bench; in the
//! deployed build they are private, so the dead-code lint sees all of them.

// The start-up future nests deeper than rustc's default layout depth.
#![recursion_limit = "256"]

/// Declares each room: public in test-kit builds, private in the Lambda.
macro_rules! rooms {
    ($($room:ident),* $(,)?) => {$(
        #[cfg(any(test, feature = "testing"))]
        pub mod $room;
        #[cfg(not(any(test, feature = "testing")))]
        mod $room;
    )*};
}

rooms!(
    auth, aws, config, domain, edge, error, handler, keys, process, store, telemetry, timer
);

pub use aws::sigv4::{Canonical, Scope, SigningKeys};
pub use keys::https_connector;
pub use process::run;
pub use store::read_answer;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
