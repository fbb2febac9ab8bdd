//! HTTP's shape: Lambda events in, requests checked, responses (problem+json,
//! CORS) out. The handler reads lambda_http's request, but never decides a
//! status or a header.

pub(crate) mod cors;
pub(crate) mod lambda;
pub(crate) mod request;
pub(crate) mod response;
