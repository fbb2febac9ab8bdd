//! The suites that run the function against real parts, inside the crate so
//! they reach its rooms without making them public.
//!
//! - [`api`]: the function against the real local engine (moto), a real
//!   issuer and the real `bootstrap` under a stand-in Runtime API, plus the
//!   template as CloudFormation receives it.

mod api;
