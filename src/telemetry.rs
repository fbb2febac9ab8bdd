//! Logs and metrics. One JSON line per request, which is also a CloudWatch
//! Embedded Metric Format document: the log and the metrics cannot disagree,
//! and a request costs one write. No token, secret or comment text is ever a
//! field here; the types below cannot carry them.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// Every metric and dimension the function emits, in one place: the
/// template's alarms and dashboard read these names, and `tests/api/template.rs`
/// checks that they read nothing else, so renaming one breaks a test, not an
/// alarm.
pub(crate) mod metrics {
    /// Declares each name as a constant and, for the tests, `$all`: every
    /// one of them, so a name added here cannot be left out of the checks.
    macro_rules! names {
        ($all:ident: $($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
            $($(#[$doc])* pub(crate) const $name: &str = $value;)*
            #[cfg(test)]
            pub(crate) const $all: &[&str] = &[$($name),*];
        };
    }

    pub(crate) const NAMESPACE: &str = "InterventionVerify";

    names!(DIMENSIONS:
        /// The function (`AWS_LAMBDA_FUNCTION_NAME`), in every dimension set:
        /// two stacks in one account and region never share a series.
        FUNCTION_NAME = "functionName",
        /// A field of the log line.
        OUTCOME = "outcome",
        /// A field of the log line.
        STATUS_CLASS = "statusClass",
        /// The Lambda version that served the request
        /// (`AWS_LAMBDA_FUNCTION_VERSION`), so a canary's metrics can be
        /// judged apart from the stable version's.
        FUNCTION_VERSION = "functionVersion",
    );

    names!(NAMES:
        /// Per request: 1 each.
        REQUESTS = "Requests",
        /// Per request: 1 when the answer is a 5xx, else 0 (sum / Requests = share).
        SERVER_ERRORS = "ServerErrors",
        /// Per request: 1 when the answer is a 401, else 0.
        UNAUTHORIZED = "Unauthorized",
        /// Per request: 1 when the answer is a 503 (a dependency), else 0.
        UNAVAILABLE = "Unavailable",
        /// Per request, by outcome (`applied`, `replayed`, or the error code).
        DECISIONS = "Decisions",
        /// Per request, milliseconds inside the function.
        LATENCY = "Latency",
        /// Per answer that cannot fail a user (a CORS preflight, a plain
        /// `OPTIONS`, a 405): 1. Such answers count in nothing else, so they
        /// never dilute a share or a latency percentile an alarm judges.
        OTHER_ANSWERS = "OtherAnswers",
        /// Per cold start: 1.
        COLD_STARTS = "ColdStarts",
        /// Per cold start: the process's own init in milliseconds.
        INIT_DURATION = "InitDuration",
    );
}

use metrics as m;

static FUNCTION_VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static FUNCTION_NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The name metrics carry: Lambda's `AWS_LAMBDA_FUNCTION_NAME`, `local`
/// when run outside Lambda.
pub(crate) fn function_name() -> &'static str {
    from_env(&FUNCTION_NAME, "AWS_LAMBDA_FUNCTION_NAME", "local")
}

/// `name` from the environment, read once into `cell`; `default` when unset.
fn from_env(cell: &'static std::sync::OnceLock<String>, name: &str, default: &str) -> &'static str {
    cell.get_or_init(|| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| default.to_owned())
    })
}

/// The version metrics carry: Lambda's `AWS_LAMBDA_FUNCTION_VERSION`,
/// `$LATEST` when run outside Lambda.
pub(crate) fn function_version() -> &'static str {
    from_env(&FUNCTION_VERSION, "AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
}

/// JSON lines on stdout for everything logged through `tracing`. `RUST_LOG`
/// holds a level and per-target levels (`warn`, `info,hyper=warn`; default
/// `info`): a `Targets` filter, decided once per callsite, rather than
/// `EnvFilter`'s regular expressions and span matching (docs/PERFORMANCE.md).
pub(crate) fn init() {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    tracing_subscriber::fmt()
        // The builder's own limit (info) would cap `RUST_LOG`: the filter decides.
        .with_max_level(LevelFilter::TRACE)
        .json()
        .flatten_event(true)
        // A request's span gives its lines `"span": {"requestId": …}`.
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .finish()
        .with(filter)
        .init();
}

/// What one request did, as the log line tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestRecord<'a> {
    pub request_id: &'a str,
    pub intervention_id: Option<i64>,
    pub decision: Option<i64>,
    /// `applied`, `replayed`, or the error `code`.
    pub outcome: &'static str,
    pub status: u16,
    pub latency: Duration,
    /// A decision attempt (`true`), or an answer that cannot fail a user
    /// (preflight, plain `OPTIONS`, 405), counted apart.
    pub counted: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    level: &'static str,
    message: &'static str,
    request_id: &'a str,
    intervention_id: Option<i64>,
    decision: Option<i64>,
    outcome: &'static str,
    status: u16,
    status_class: &'static str,
    function_version: &'a str,
    function_name: &'a str,
    latency_ms: f64,
    #[serde(flatten)]
    metrics: Counts,
    #[serde(rename = "_aws")]
    aws: Emf,
}

/// The metric members of a line: a decision attempt's, or the one count of
/// an answer kept apart.
#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "PascalCase")]
enum Counts {
    Decision {
        requests: u32,
        server_errors: u32,
        unauthorized: u32,
        unavailable: u32,
        decisions: u32,
        latency: f64,
    },
    Apart {
        other_answers: u32,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Emf {
    timestamp: u128,
    /// The directives, serialised once: they never change.
    cloud_watch_metrics: &'static serde_json::value::RawValue,
}

/// `directives` as JSON, computed on first use and kept.
fn directives_json(
    cell: &'static std::sync::OnceLock<Box<serde_json::value::RawValue>>,
    directives: &'static [Directive],
) -> &'static serde_json::value::RawValue {
    cell.get_or_init(|| {
        serde_json::value::to_raw_value(directives)
            .unwrap_or_else(|_| serde_json::value::RawValue::NULL.to_owned())
    })
}

static REQUEST_METRICS_JSON: std::sync::OnceLock<Box<serde_json::value::RawValue>> =
    std::sync::OnceLock::new();
static APART_METRICS_JSON: std::sync::OnceLock<Box<serde_json::value::RawValue>> =
    std::sync::OnceLock::new();
static INIT_METRICS_JSON: std::sync::OnceLock<Box<serde_json::value::RawValue>> =
    std::sync::OnceLock::new();

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive {
    namespace: &'static str,
    dimensions: &'static [&'static [&'static str]],
    metrics: &'static [Metric],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    name: &'static str,
    unit: &'static str,
}

const fn count(name: &'static str) -> Metric {
    Metric {
        name,
        unit: "Count",
    }
}

const fn millis(name: &'static str) -> Metric {
    Metric {
        name,
        unit: "Milliseconds",
    }
}

/// A series for the function over all its versions, and one per version
/// (what a canary's alarms judge).
const PER_FUNCTION_AND_VERSION: &[&[&str]] = &[
    &[m::FUNCTION_NAME],
    &[m::FUNCTION_NAME, m::FUNCTION_VERSION],
];

/// What each decision attempt's line publishes, always per function: all
/// versions and per version (the canary's alarms), decisions by outcome,
/// requests by status class.
static REQUEST_METRICS: [Directive; 3] = [
    Directive {
        namespace: m::NAMESPACE,
        dimensions: PER_FUNCTION_AND_VERSION,
        metrics: &[
            count(m::REQUESTS),
            count(m::SERVER_ERRORS),
            count(m::UNAUTHORIZED),
            count(m::UNAVAILABLE),
            millis(m::LATENCY),
        ],
    },
    Directive {
        namespace: m::NAMESPACE,
        dimensions: &[&[m::FUNCTION_NAME, m::OUTCOME]],
        metrics: &[count(m::DECISIONS)],
    },
    Directive {
        namespace: m::NAMESPACE,
        dimensions: &[&[m::FUNCTION_NAME, m::STATUS_CLASS]],
        metrics: &[count(m::REQUESTS)],
    },
];

/// What an answer kept apart publishes: its own count, nothing else.
static APART_METRICS: [Directive; 1] = [Directive {
    namespace: m::NAMESPACE,
    dimensions: PER_FUNCTION_AND_VERSION,
    metrics: &[count(m::OTHER_ANSWERS)],
}];

static INIT_METRICS: [Directive; 1] = [Directive {
    namespace: m::NAMESPACE,
    dimensions: PER_FUNCTION_AND_VERSION,
    metrics: &[count(m::COLD_STARTS), millis(m::INIT_DURATION)],
}];

fn epoch_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// The request's log line, without the trailing newline.
pub(crate) fn request_line(r: &RequestRecord<'_>) -> String {
    let ms = (r.latency.as_secs_f64() * 1e6).round() / 1e3;
    let line = Line {
        level: if r.status >= 500 { "ERROR" } else { "INFO" },
        message: "request",
        request_id: r.request_id,
        intervention_id: r.intervention_id,
        decision: r.decision,
        outcome: r.outcome,
        status: r.status,
        status_class: status_class(r.status),
        function_version: function_version(),
        function_name: function_name(),
        latency_ms: ms,
        metrics: if r.counted {
            Counts::Decision {
                requests: 1,
                server_errors: u32::from(r.status >= 500),
                unauthorized: u32::from(r.status == 401),
                unavailable: u32::from(r.status == 503),
                decisions: 1,
                latency: ms,
            }
        } else {
            Counts::Apart { other_answers: 1 }
        },
        aws: Emf {
            timestamp: epoch_millis(),
            cloud_watch_metrics: if r.counted {
                directives_json(&REQUEST_METRICS_JSON, &REQUEST_METRICS)
            } else {
                directives_json(&APART_METRICS_JSON, &APART_METRICS)
            },
        },
    };
    serde_json::to_string(&line).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InitLine<'a> {
    level: &'static str,
    message: &'static str,
    function_version: &'a str,
    function_name: &'a str,
    #[serde(rename = "ColdStarts")]
    cold_starts: u32,
    #[serde(rename = "InitDuration")]
    init_duration: f64,
    #[serde(rename = "_aws")]
    aws: Emf,
}

/// The cold start's metrics line: one per process, `init` in milliseconds
/// from `main` to ready.
pub(crate) fn init_metrics_line(init: Duration) -> String {
    let line = InitLine {
        level: "INFO",
        message: "cold start",
        function_version: function_version(),
        function_name: function_name(),
        cold_starts: 1,
        init_duration: (init.as_secs_f64() * 1e6).round() / 1e3,
        aws: Emf {
            timestamp: epoch_millis(),
            cloud_watch_metrics: directives_json(&INIT_METRICS_JSON, &INIT_METRICS),
        },
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// Writes one log line to stdout in a single call, so lines stay whole; a
/// closed stdout is not the client's problem.
pub(crate) fn stdout_sink(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the table's timestamp format.
pub(crate) fn iso_millis(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_carries_spec_fields_and_an_emf_directive() -> Result<(), serde_json::Error> {
        let line = request_line(&RequestRecord {
            request_id: "req-1",
            intervention_id: Some(12),
            decision: Some(2),
            outcome: "applied",
            status: 200,
            latency: Duration::from_micros(1500),
            counted: true,
        });
        assert!(!line.contains('\n'));
        let v: serde_json::Value = serde_json::from_str(&line)?;
        assert_eq!(v["requestId"], "req-1");
        assert_eq!(v["interventionId"], 12);
        assert_eq!(v["decision"], 2);
        assert_eq!(v["outcome"], "applied");
        assert_eq!(v["status"], 200);
        assert_eq!(v["latencyMs"], 1.5);
        assert_eq!(v["Latency"], 1.5);
        assert_eq!(v["Decisions"], 1);
        assert_eq!(v["Requests"], 1);
        assert_eq!(v["ServerErrors"], 0);
        assert_eq!(v["statusClass"], "2xx");
        assert_eq!(v["functionVersion"], function_version());
        assert_eq!(v["functionName"], function_name());
        assert_emf_is_complete(&v);
        assert!(
            v["_aws"]["Timestamp"]
                .as_u64()
                .is_some_and(|t| t > 1_600_000_000_000)
        );
        Ok(())
    }

    /// Every metric a directive names is a number in the line, every
    /// dimension a string field, and every name comes from `metrics`.
    fn assert_emf_is_complete(v: &serde_json::Value) {
        let directives = v["_aws"]["CloudWatchMetrics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!directives.is_empty());
        for d in directives {
            assert_eq!(d["Namespace"], m::NAMESPACE);
            for set in d["Dimensions"].as_array().into_iter().flatten() {
                assert_eq!(set[0], m::FUNCTION_NAME, "every set is per function");
                for dim in set.as_array().into_iter().flatten() {
                    let dim = dim.as_str().unwrap_or_default();
                    assert!(m::DIMENSIONS.contains(&dim), "{dim}");
                    assert!(v[dim].is_string(), "{dim} is not a field: {v}");
                }
            }
            for metric in d["Metrics"].as_array().into_iter().flatten() {
                let name = metric["Name"].as_str().unwrap_or_default();
                assert!(m::NAMES.contains(&name), "{name}");
                assert!(v[name].is_number(), "{name} is not a number: {v}");
            }
        }
    }

    #[test]
    fn each_status_counts_in_its_metric() -> Result<(), serde_json::Error> {
        for (status, errors, unauthorized, unavailable, class) in [
            (200, 0, 0, 0, "2xx"),
            (204, 0, 0, 0, "2xx"),
            (401, 0, 1, 0, "4xx"),
            (409, 0, 0, 0, "4xx"),
            (500, 1, 0, 0, "5xx"),
            (503, 1, 0, 1, "5xx"),
        ] {
            let v: serde_json::Value = serde_json::from_str(&request_line(&RequestRecord {
                request_id: "r",
                intervention_id: None,
                decision: None,
                outcome: "x",
                status,
                latency: Duration::from_millis(1),
                counted: true,
            }))?;
            assert_eq!(v["ServerErrors"], errors, "{status}");
            assert_eq!(v["Unauthorized"], unauthorized, "{status}");
            assert_eq!(v["Unavailable"], unavailable, "{status}");
            assert_eq!(v["statusClass"], class, "{status}");
        }
        Ok(())
    }

    #[test]
    fn answers_that_cannot_fail_a_user_count_apart() -> Result<(), serde_json::Error> {
        let v: serde_json::Value = serde_json::from_str(&request_line(&RequestRecord {
            request_id: "r",
            intervention_id: None,
            decision: None,
            outcome: "preflight",
            status: 204,
            latency: Duration::from_millis(1),
            counted: false,
        }))?;
        assert_eq!(v["OtherAnswers"], 1);
        for counted in [
            m::REQUESTS,
            m::SERVER_ERRORS,
            m::UNAUTHORIZED,
            m::LATENCY,
            m::DECISIONS,
        ] {
            assert!(v.get(counted).is_none(), "{counted} in {v}");
        }
        assert_emf_is_complete(&v);
        Ok(())
    }

    #[test]
    fn the_cold_start_line_publishes_init() -> Result<(), serde_json::Error> {
        let v: serde_json::Value =
            serde_json::from_str(&init_metrics_line(Duration::from_micros(4250)))?;
        assert_eq!(v["ColdStarts"], 1);
        assert_eq!(v["InitDuration"], 4.25);
        assert_emf_is_complete(&v);
        Ok(())
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = UNIX_EPOCH + Duration::from_millis(1_733_754_180_000);
        assert_eq!(iso_millis(t), "2024-12-09T14:23:00.000Z");
    }
}
