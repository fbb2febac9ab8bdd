//! `PATCH /interventions/v2/rs/{interventionId}/verify`: a client's site
//! manager accepts or rejects a finished intervention.
//!
//! Layers, outermost first: [`edge`] (the only place HTTP is known),
//! [`auth`] (tokens → caller), [`domain`] (pure rules), [`store`] (DynamoDB),
//! wired by [`handler`] and `main`.

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
