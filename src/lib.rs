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
//!   type; `main` wires the process.

pub mod auth;
pub mod aws;
pub mod config;
pub mod domain;
pub mod edge;
pub mod error;
pub mod handler;
pub mod keys;
pub mod store;
pub mod telemetry;

#[cfg(any(test, feature = "testing"))]
pub mod testing;
