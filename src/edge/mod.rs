//! The only place HTTP is known: events in, responses out.

pub mod cors;
pub mod lambda;
pub mod request;
pub mod response;
