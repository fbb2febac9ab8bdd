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
//! floor bench, which writes its request through the test kit.
//! The rooms are private and their items `pub(crate)` (fields as visible as
//! their struct), so the dead-code lint sees all of them: the integration
//! suites are compiled into the crate's test build (`tests/api`), and the
//! bench reaches the path through the test kit (`testing`, the `testing`
//! feature), which also serves `dev-tokens`.

// The start-up future nests deeper than rustc's default layout depth.
#![recursion_limit = "256"]

mod auth;
mod aws;
mod config;
mod domain;
mod edge;
mod error;
mod handler;
mod keys;
mod process;
mod store;
mod telemetry;
mod timer;

pub use aws::sigv4::{Canonical, Scope, SigningKeys};
pub use keys::web::https_connector;
pub use process::run;
pub use store::answer::read_answer;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

/// The integration suites (`tests/api`, one binary with one `helpers`):
/// compiled into the crate's test build, so they reach the rooms while the
/// rooms stay `pub(crate)`. The one `#[path]` in the crate: a `tests/`
/// target could only see public items, and the suites need the rooms'.
#[cfg(test)]
#[path = "../tests/api/mod.rs"]
mod integration;
