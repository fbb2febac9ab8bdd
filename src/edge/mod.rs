//! HTTP's shape: Lambda events in, requests checked, responses (problem+json,
//! CORS) out. The handler reads lambda_http's request, but never decides a
//! status or a header.

pub mod cors;
pub mod lambda;
pub mod request;
pub mod response;
