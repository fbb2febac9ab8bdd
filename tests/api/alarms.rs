//! The alarms fire when they should: the real handler serves a scenario, its
//! EMF log lines become CloudWatch datapoints exactly as CloudWatch extracts
//! them (every dimension set of every directive), and each alarm of the
//! translated template is evaluated on them as CloudWatch would: its metric,
//! dimensions (this stack's function name and new version resolved),
//! statistic, metric math, threshold and missing-data treatment. Renaming a
//! metric or a dimension on either side turns an alarm silent, and these
//! tests fail.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::deployment::translate;
use super::helpers::{Event, decision, tokens};
use crate::config::{AllowedOrigins, CallLimits};
use crate::handler::{App, handle};
use crate::store::DynamoStore;
use serde_json::Value;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn collect(line: &str) {
    LINES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(line.to_owned());
}

/// This stack's function as Lambda names it, and the version serving.
#[derive(Clone, Copy)]
struct Stack {
    function: &'static str,
    version: &'static str,
}

/// A store that cannot reach DynamoDB (nothing listens on the port): the
/// SDK's real connection failure. One attempt: retries would draw on the
/// SDK's retry token bucket, which every DynamoDB client of the process
/// shares, and starve the fault tests' retries.
fn unreachable_app() -> App<DynamoStore> {
    let timeouts = CallLimits {
        connect: std::time::Duration::from_millis(100),
        attempt: std::time::Duration::from_millis(200),
        operation: std::time::Duration::from_millis(400),
        max_attempts: 1,
        initial_backoff: std::time::Duration::from_millis(10),
    };
    let client = super::helpers::engine::client("http://127.0.0.1:9", timeouts);
    App {
        authenticator: crate::testing::authenticator(&crate::testing::auth_settings()),
        store: DynamoStore::new(client, "interventions".into(), "notifications".into()),
        origins: AllowedOrigins::Any,
        log_sink: collect,
    }
}

fn healthy_app() -> App<crate::testing::stores::StubStore> {
    let mut app = crate::testing::app(
        crate::testing::stores::StubStore::accepting(),
        AllowedOrigins::Any,
    );
    app.log_sink = collect;
    app
}

const ORIGIN: &str = "https://app.example.com";

fn preflight(id: i64) -> Event {
    Event::patch(id)
        .method("OPTIONS")
        .header("origin", ORIGIN)
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization, content-type, x-session-token",
        )
}

fn browser_patch(id: i64, access: &str) -> Event {
    Event::patch(id)
        .tokens(access, &tokens::session(8))
        .header("origin", ORIGIN)
        .header("content-type", "application/json")
        .json(&decision(1, "ok"))
}

/// `n` decisions from the browser with good tokens, no preflights.
fn decisions(n: i64) -> Vec<Event> {
    (1..=n)
        .map(|id| browser_patch(id, &tokens::access(8, &[1])))
        .collect()
}

/// The lines the handler wrote for `events`, relabelled as `stack`'s
/// function and version (the values Lambda's environment gives them).
async fn serve<S: crate::store::InterventionStore>(
    app: &App<S>,
    events: &[Event],
    stack: Stack,
) -> Vec<Value> {
    LINES.lock().unwrap_or_else(|e| e.into_inner()).clear();
    for e in events {
        handle(app, e.request()).await;
    }
    let lines = std::mem::take(&mut *LINES.lock().unwrap_or_else(|e| e.into_inner()));
    lines
        .iter()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("a JSON log line");
            v["functionName"] = stack.function.into();
            v["functionVersion"] = stack.version.into();
            v
        })
        .collect()
}

/// (namespace, metric, dimensions) → values, as CloudWatch extracts EMF.
type Points = BTreeMap<(String, String, BTreeMap<String, String>), Vec<f64>>;

fn points(lines: &[Value]) -> Points {
    let mut out = Points::new();
    for v in lines {
        for d in v["_aws"]["CloudWatchMetrics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let ns = d["Namespace"]
                .as_str()
                .expect("a string in the template or answer")
                .to_owned();
            for set in d["Dimensions"].as_array().into_iter().flatten() {
                let dims: BTreeMap<String, String> = set
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|name| {
                        (
                            name.to_owned(),
                            v[name]
                                .as_str()
                                .expect("a string in the template or answer")
                                .to_owned(),
                        )
                    })
                    .collect();
                for m in d["Metrics"].as_array().into_iter().flatten() {
                    let name = m["Name"]
                        .as_str()
                        .expect("a string in the template or answer")
                        .to_owned();
                    if let Some(x) = v[&name].as_f64() {
                        out.entry((ns.clone(), name, dims.clone()))
                            .or_default()
                            .push(x);
                    }
                }
            }
        }
    }
    out
}

/// A dimension value as CloudFormation resolves it for `stack`.
fn resolve(value: &Value, stack: Stack) -> String {
    if let Some(s) = value.as_str() {
        return s.to_owned();
    }
    if value["Ref"] == "VerifyFunction" {
        return stack.function.to_owned();
    }
    if value["Fn::GetAtt"][1] == "Version" {
        return stack.version.to_owned();
    }
    format!("unresolved {value}")
}

/// One metric's statistic over the period, `None` without datapoints.
fn statistic(metric: &Value, stat: &str, data: &Points, stack: Stack) -> Option<f64> {
    let dims: BTreeMap<String, String> = metric["Dimensions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["Name"]
                    .as_str()
                    .expect("a string in the template or answer")
                    .to_owned(),
                resolve(&d["Value"], stack),
            )
        })
        .collect();
    let key = (
        metric["Namespace"]
            .as_str()
            .expect("a string in the template or answer")
            .to_owned(),
        metric["MetricName"]
            .as_str()
            .expect("a string in the template or answer")
            .to_owned(),
        dims,
    );
    let mut values = data.get(&key)?.clone();
    Some(match stat {
        "Sum" => values.iter().sum(),
        "SampleCount" => values.len() as f64,
        p if p.starts_with('p') => {
            values.sort_by(f64::total_cmp);
            let q: f64 = p[1..].parse().unwrap_or(99.0) / 100.0;
            values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1]
        }
        other => panic!("statistic {other} not modelled"),
    })
}

/// `IF(n >= N, 100 * a / b, 0)`, the only expression the own-metric alarms use.
fn share(expression: &str, vars: &BTreeMap<String, Option<f64>>) -> Option<f64> {
    let inner = expression.strip_prefix("IF(")?.strip_suffix(", 0)")?;
    let (cond, value) = inner.split_once(", ")?;
    let (n, min) = cond.split_once(" >= ")?;
    let (a, b) = value.strip_prefix("100 * ")?.split_once(" / ")?;
    let get = |k: &str| vars.get(k.trim()).copied().flatten();
    let (count, part) = (get(n)?, get(a).unwrap_or(0.0));
    let min: f64 = min.trim().parse().ok()?;
    Some(if count >= min {
        100.0 * part / get(b)?
    } else {
        0.0
    })
}

#[derive(Debug, PartialEq, Eq)]
enum State {
    Alarm,
    Ok,
}

/// The alarm's state after the scenario, sustained over its evaluation
/// periods. Alarms on AWS namespaces see no data here (missing data).
fn evaluate(alarm: &Value, data: &Points, stack: Stack) -> State {
    let p = &alarm["Properties"];
    let value = if p["Metrics"].is_array() {
        let mut vars = BTreeMap::new();
        let mut expression = None;
        for m in p["Metrics"].as_array().into_iter().flatten() {
            let id = m["Id"]
                .as_str()
                .expect("a string in the template or answer")
                .to_owned();
            match m["Expression"].as_str() {
                Some(e) => expression = Some(e.to_owned()),
                None => {
                    let stat = m["MetricStat"]["Stat"]
                        .as_str()
                        .expect("a string in the template or answer");
                    vars.insert(id, statistic(&m["MetricStat"]["Metric"], stat, data, stack));
                }
            }
        }
        let expression = expression.expect("a metric-math alarm has an expression");
        if expression.starts_with("FILL(") {
            None
        } else {
            share(&expression, &vars)
        }
    } else {
        let stat = p["ExtendedStatistic"]
            .as_str()
            .or(p["Statistic"].as_str())
            .expect("a statistic or an extended statistic");
        statistic(p, stat, data, stack)
    };
    let Some(value) = value else {
        assert_eq!(p["TreatMissingData"], "notBreaching");
        return State::Ok;
    };
    let threshold = p["Threshold"].as_f64().expect("a threshold");
    let breaching = match p["ComparisonOperator"].as_str() {
        Some("GreaterThanThreshold") => value > threshold,
        Some("GreaterThanOrEqualToThreshold") => value >= threshold,
        other => panic!("comparison {other:?} not modelled"),
    };
    if breaching { State::Alarm } else { State::Ok }
}

/// Every alarm that fires for `stack` on `lines`.
fn firing(lines: &[Value], stack: Stack) -> Vec<String> {
    static TEMPLATE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let t = TEMPLATE.get_or_init(|| translate(&[]));
    let data = points(lines);
    let mut out: Vec<String> = t["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .filter(|(_, r)| evaluate(r, &data, stack) == State::Alarm)
        .map(|(name, _)| name.clone())
        .collect();
    out.sort();
    out
}

const PROD: Stack = Stack {
    function: "prod-verify",
    version: "7",
};
const DEV: Stack = Stack {
    function: "dev-verify",
    version: "7",
};

#[tokio::test]
async fn a_key_rotation_gone_wrong_from_a_browser_fires_the_401_alarm_and_no_5xx_alarm() {
    let _serial = SERIAL.lock().await;
    // Every PATCH's access token is signed with a key the function no
    // longer trusts; the browser sends a preflight before each.
    let forged = tokens::hs256(
        &tokens::access_claims(8, &[1]),
        b"a-secret-the-function-does-not-know!!",
    );
    let events: Vec<Event> = (1..=30)
        .flat_map(|id| [preflight(id), browser_patch(id, &forged)])
        .collect();
    let lines = serve(&healthy_app(), &events, PROD).await;
    assert_eq!(firing(&lines, PROD), ["UnauthorizedSurgeAlarm"]);
}

#[tokio::test]
async fn healthy_browser_traffic_fires_nothing() {
    let _serial = SERIAL.lock().await;
    let events: Vec<Event> = (1..=30)
        .flat_map(|id| [preflight(id), browser_patch(id, &tokens::access(8, &[1]))])
        .collect();
    let lines = serve(&healthy_app(), &events, PROD).await;
    assert!(
        lines.iter().any(|l| l["status"] == 200),
        "the decisions were applied"
    );
    assert_eq!(firing(&lines, PROD), Vec::<String>::new());
}

#[tokio::test]
async fn dynamodb_unreachable_fires_the_503_and_5xx_alarms() {
    let _serial = SERIAL.lock().await;
    let events = decisions(25);
    let lines = serve(&unreachable_app(), &events, PROD).await;
    assert!(
        lines.iter().all(|l| l["status"] == 503),
        "{:?}",
        lines.first()
    );
    let fired = firing(&lines, PROD);
    for alarm in [
        "DependencyUnavailableAlarm",
        "ServerErrorRateAlarm",
        "CanaryServerErrorRateAlarm",
    ] {
        assert!(
            fired.iter().any(|a| a == alarm),
            "{alarm} silent: {fired:?}"
        );
    }
    assert!(
        !fired.iter().any(|a| a == "UnauthorizedSurgeAlarm"),
        "{fired:?}"
    );
}

#[tokio::test]
async fn another_stacks_failures_with_the_same_version_never_trip_this_stacks_alarms() {
    let _serial = SERIAL.lock().await;
    let failing = decisions(25);
    let mut lines = serve(&unreachable_app(), &failing, DEV).await;
    let healthy = decisions(25);
    lines.extend(serve(&healthy_app(), &healthy, PROD).await);
    // Both stacks deploy version 7: production's canary judges its own.
    assert_eq!(firing(&lines, PROD), Vec::<String>::new());
    let dev = firing(&lines, DEV);
    assert!(
        dev.iter().any(|a| a == "CanaryServerErrorRateAlarm"),
        "{dev:?}"
    );
}
