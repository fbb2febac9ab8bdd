//! Every integration test, in the crate's test build (one build, one link,
//! one engine): the function against the real local engine (moto), a real
//! issuer and the real `bootstrap` under a stand-in Runtime API, plus the
//! template as CloudFormation receives it. `helpers` holds the only
//! scaffolding; the fixtures shared with unit tests and the bench are the
//! crate's test kit (`crate::testing`).

mod helpers;

mod alarms;
mod deployment;
mod faults;
mod fuzz;
mod logs;
mod providers;
mod race;
mod request_count;
mod rotation;
mod sample_events;
mod template;
mod tls;
mod verify_api;
