//! Logs and metrics. One JSON line per request, which is also a CloudWatch
//! Embedded Metric Format document: the log and the metrics cannot disagree,
//! and a request costs one write. No token, secret or comment text is ever a
//! field here; the types below cannot carry them.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub const METRICS_NAMESPACE: &str = "InterventionVerify";

/// JSON lines on stdout for everything logged through `tracing`; the level
/// comes from `RUST_LOG` (default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .init();
}

/// What one request did, as the log line tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord<'a> {
    pub request_id: &'a str,
    pub intervention_id: Option<i64>,
    pub decision: Option<i64>,
    /// `applied`, `replayed`, or the error `code`.
    pub outcome: &'static str,
    pub status: u16,
    pub latency: Duration,
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
    latency_ms: f64,
    #[serde(rename = "Decisions")]
    decisions: u32,
    #[serde(rename = "Latency")]
    latency_metric: f64,
    #[serde(rename = "_aws")]
    aws: Emf,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Emf {
    timestamp: u128,
    cloud_watch_metrics: [EmfDirective; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EmfDirective {
    namespace: &'static str,
    dimensions: [[&'static str; 1]; 1],
    metrics: [EmfMetric; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EmfMetric {
    name: &'static str,
    unit: &'static str,
}

/// The request's log line, without the trailing newline.
pub fn request_line(r: &RequestRecord<'_>) -> String {
    let ms = (r.latency.as_secs_f64() * 1e6).round() / 1e3;
    let line = Line {
        level: if r.status >= 500 { "ERROR" } else { "INFO" },
        message: "request",
        request_id: r.request_id,
        intervention_id: r.intervention_id,
        decision: r.decision,
        outcome: r.outcome,
        status: r.status,
        latency_ms: ms,
        decisions: 1,
        latency_metric: ms,
        aws: Emf {
            timestamp: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default(),
            cloud_watch_metrics: [EmfDirective {
                namespace: METRICS_NAMESPACE,
                dimensions: [["outcome"]],
                metrics: [
                    EmfMetric {
                        name: "Decisions",
                        unit: "Count",
                    },
                    EmfMetric {
                        name: "Latency",
                        unit: "Milliseconds",
                    },
                ],
            }],
        },
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// Writes one log line to stdout in a single call, so lines stay whole; a
/// closed stdout is not the client's problem.
pub fn stdout_sink(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the table's timestamp format.
pub fn iso_millis(t: SystemTime) -> String {
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
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], METRICS_NAMESPACE);
        assert_eq!(directive["Dimensions"][0][0], "outcome");
        assert_eq!(directive["Metrics"][1]["Unit"], "Milliseconds");
        assert!(
            v["_aws"]["Timestamp"]
                .as_u64()
                .is_some_and(|t| t > 1_600_000_000_000)
        );
        Ok(())
    }

    #[test]
    fn timestamps_have_milliseconds_and_z() {
        let t = UNIX_EPOCH + Duration::from_millis(1_733_754_180_000);
        assert_eq!(iso_millis(t), "2024-12-09T14:23:00.000Z");
    }
}
