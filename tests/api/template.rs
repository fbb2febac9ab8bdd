//! `template.yaml` against the code: the route and method of the reference,
//! every variable the code needs, exactly the DynamoDB actions the store
//! calls on the two tables only, and the settings cfn-lint does not check.

use crate::config::{
    ACCESS_KEY_VARIABLES, CallLimits, OPTIONAL_VARIABLES, REQUIRED_VARIABLES,
    SESSION_SECRET_VARIABLES,
};
use crate::edge::request::ROUTE;
use crate::store::IAM_ACTIONS;
use serde_norway::Value;

fn template() -> Value {
    let text = include_str!("../../template.yaml");
    serde_norway::from_str(text).unwrap_or_else(|e| panic!("template.yaml: {e}"))
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| v.get(k).unwrap_or(&Value::Null))
}

fn text(v: &Value) -> &str {
    v.as_str().expect("a string in the template or answer")
}

/// `!Tag value` as (tag, value); plain values as ("", value).
fn tagged(v: &Value) -> (String, &Value) {
    match v {
        Value::Tagged(t) => (
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        ),
        other => (String::new(), other),
    }
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    let r = at(t, &["Resources", name]);
    assert!(!r.is_null(), "no resource {name}");
    r
}

#[test]
fn route_and_method_match_the_reference() {
    let t = template();
    let events = at(resource(&t, "VerifyFunction"), &["Properties", "Events"]);
    let events: Vec<&Value> = events
        .as_mapping()
        .map(|m| m.values().collect())
        .expect("the function's events, a mapping");
    let mut methods: Vec<String> = Vec::new();
    for e in &events {
        // Every event is the one route on the one API: PATCH decides, OPTIONS
        // is the preflight, ANY gets the 405.
        assert_eq!(text(at(e, &["Type"])), "Api");
        assert_eq!(text(at(e, &["Properties", "Path"])), ROUTE);
        assert_eq!(
            tagged(at(e, &["Properties", "RestApiId"])),
            ("Ref".into(), &Value::from("VerifyApi"))
        );
        methods.push(text(at(e, &["Properties", "Method"])).to_ascii_uppercase());
    }
    methods.sort();
    assert_eq!(methods, ["ANY", "OPTIONS", "PATCH"]);
    let api = resource(&t, "VerifyApi");
    assert_eq!(text(at(api, &["Type"])), "AWS::Serverless::Api");
    assert_eq!(text(at(api, &["Properties", "StageName"])), "main");
    // The preflight is the function's: API Gateway's mock knows one origin.
    assert!(at(api, &["Properties", "Cors"]).is_null());

    // And cargo lambda watch routes it, the preflight included.
    let cargo = include_str!("../../Cargo.toml");
    assert!(cargo.contains(&format!("\"{ROUTE}\" = [")));
    assert!(cargo.contains(r#"{ method = "OPTIONS", function = "bootstrap" }"#));
}

#[test]
fn the_gateways_own_answers_are_problem_json_a_browser_can_read() {
    let t = template();
    let responses = at(
        resource(&t, "VerifyApi"),
        &["Properties", "GatewayResponses"],
    );
    for kind in [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "THROTTLED",
        "REQUEST_TOO_LARGE",
        "INTEGRATION_FAILURE",
        "INTEGRATION_TIMEOUT",
    ] {
        let r = at(responses, &[kind]);
        let headers = format!("{:?}", at(r, &["ResponseParameters", "Headers"]));
        assert!(
            headers.contains("Access-Control-Allow-Origin"),
            "{kind}: {headers}"
        );
        assert!(
            headers.contains("Retry-After, WWW-Authenticate"),
            "{kind}: {headers}"
        );
        let body = text(at(r, &["ResponseTemplates", "application/json"]));
        // The template is JSON once API Gateway fills its variables.
        let filled = body
            .replace("$context.error.messageString", "\"message\"")
            .replace("$context.error.responseType", "THROTTLED")
            .replace("$context.requestId", "req-1");
        let v: serde_json::Value =
            serde_json::from_str(&filled).unwrap_or_else(|e| panic!("{kind}: {e}: {body}"));
        assert_eq!(v["type"], "about:blank", "{kind}");
        assert_eq!(v["requestId"], "req-1", "{kind}");
        assert!(v["code"].as_str().is_some_and(|c| !c.is_empty()), "{kind}");
        if let Some(status) = r.get("StatusCode") {
            assert_eq!(v["status"].to_string(), text(status), "{kind}");
        }
    }
}

#[test]
fn function_runs_the_crate_on_arm64_al2023() {
    let t = template();
    let f = at(resource(&t, "VerifyFunction"), &["Properties"]);
    let globals = at(&t, &["Globals", "Function"]);
    let prop = |k: &str| {
        if at(f, &[k]).is_null() {
            at(globals, &[k])
        } else {
            at(f, &[k])
        }
    };
    assert_eq!(text(prop("Runtime")), "provided.al2023");
    assert_eq!(
        prop("Architectures")
            .as_sequence()
            .map(|s| s.iter().map(text).collect::<Vec<_>>()),
        Some(vec!["arm64"])
    );
    assert_eq!(text(prop("Handler")), "bootstrap");
    assert_eq!(
        text(at(
            resource(&t, "VerifyFunction"),
            &["Metadata", "BuildMethod"]
        )),
        "makefile"
    );
    assert!(include_str!("../../Makefile").contains("build-VerifyFunction:"));
    // The SDK gives up before Lambda does, so a slow DynamoDB is a 503.
    let timeout_s = prop("Timeout").as_u64().expect("a number in the template");
    let sdk_ms: u64 = text(at(f, &["Environment", "Variables", "DYNAMODB_TIMEOUT_MS"]))
        .parse()
        .unwrap_or(CallLimits::default().operation.as_millis() as u64);
    assert!(
        sdk_ms + 1000 <= timeout_s * 1000,
        "SDK {sdk_ms} ms vs function {timeout_s} s"
    );
    let memory = prop("MemorySize")
        .as_u64()
        .expect("a number in the template");
    assert!((128..=1024).contains(&memory));
}

#[test]
fn every_variable_the_code_reads_is_set_and_no_other() {
    let t = template();
    let vars = at(
        resource(&t, "VerifyFunction"),
        &["Properties", "Environment", "Variables"],
    );
    let names: Vec<&str> = vars
        .as_mapping()
        .map(|m| m.keys().map(text).collect())
        .expect("the function's variables, a mapping");
    for required in REQUIRED_VARIABLES {
        assert!(names.contains(required), "{required} not set");
    }
    assert!(ACCESS_KEY_VARIABLES.iter().any(|v| names.contains(v)));
    for name in &names {
        let known = REQUIRED_VARIABLES.contains(name)
            || SESSION_SECRET_VARIABLES.contains(name)
            || ACCESS_KEY_VARIABLES.contains(name)
            || OPTIONAL_VARIABLES.contains(name);
        assert!(known, "{name} is set but the code does not read it");
    }
    // Secrets are read at run time by id: no value variable, no value
    // resolved into the configuration at deploy time.
    assert!(names.contains(&"SESSION_TOKEN_SECRET_ID"));
    for value in ["SESSION_TOKEN_SECRET", "ACCESS_TOKEN_SECRET"] {
        assert!(
            !names.contains(&value),
            "{value} puts a secret in the configuration"
        );
    }
    for id in ["SESSION_TOKEN_SECRET_ID", "ACCESS_TOKEN_SECRET_ID"] {
        let rendered = format!("{:?}", at(vars, &[id]));
        assert!(rendered.contains("SecretName"), "{id}: {rendered}");
    }
}

#[test]
fn no_secret_value_anywhere_in_the_template() {
    let text = include_str!("../../template.yaml");
    assert!(
        !text.contains("{{resolve:"),
        "a dynamic reference resolves a value into the stack"
    );
    for fixture in [
        super::helpers::tokens::SESSION_SECRET,
        super::helpers::tokens::ACCESS_SECRET,
    ] {
        assert!(!text.contains(fixture));
    }
    let t = template();
    let params = at(&t, &["Parameters"]);
    for (name, p) in params.as_mapping().into_iter().flatten() {
        let name = text_of(name);
        if name.contains("Secret") && !name.contains("Kms") {
            // Names of secrets, never values: a value parameter would sit in
            // the stack's parameters for anyone to read.
            assert!(name.ends_with("SecretName"), "{name}");
            assert!(!text_of(at(p, &["AllowedPattern"])).is_empty(), "{name}");
        }
    }
}

/// Every statement of the function's inline policies.
fn statements(t: &Value) -> Vec<&Value> {
    at(resource(t, "VerifyFunction"), &["Properties", "Policies"])
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| at(p, &["Statement"]).as_sequence().into_iter().flatten())
        .collect()
}

fn text_of(v: &Value) -> &str {
    v.as_str().expect("a string in the template or answer")
}

#[test]
fn secrets_policy_reads_exactly_the_token_secrets() {
    let t = template();
    let statements = statements(&t);
    let read = statements
        .iter()
        .find(|s| text(at(s, &["Sid"])) == "ReadTokenSecrets")
        .unwrap_or_else(|| panic!("no ReadTokenSecrets statement"));
    let actions: Vec<&str> = at(read, &["Action"])
        .as_sequence()
        .into_iter()
        .flatten()
        .map(text)
        .collect();
    assert_eq!(actions, crate::keys::IAM_ACTIONS);
    let resources = format!("{:?}", at(read, &["Resource"]));
    assert!(
        resources.contains(":secret:${SessionTokenSecretName}-??????"),
        "{resources}"
    );
    assert!(
        resources.contains(":secret:${AccessTokenSecretName}-??????"),
        "{resources}"
    );
    // kms:Decrypt only with a customer key, and only through Secrets Manager.
    let kms = statements
        .iter()
        .find(|s| format!("{s:?}").contains("kms:Decrypt"))
        .unwrap_or_else(|| panic!("no conditional kms statement"));
    let (tag, value) = tagged(kms);
    assert_eq!(tag, "If");
    let rendered = format!("{value:?}");
    assert!(rendered.contains("HasSecretsKmsKey"), "{rendered}");
    assert!(rendered.contains("kms:ViaService"), "{rendered}");
    assert!(
        rendered.contains("secretsmanager.${AWS::Region}.amazonaws.com"),
        "{rendered}"
    );
}

#[test]
fn policy_grants_exactly_the_store_actions_on_the_two_tables() {
    let t = template();
    // The DynamoDB statements; the secrets ones are checked above.
    let statements: Vec<&Value> = statements(&t)
        .into_iter()
        .filter(|s| format!("{:?}", at(s, &["Action"])).contains("dynamodb:"))
        .collect();
    assert!(!statements.is_empty());
    let mut actions: Vec<&str> = Vec::new();
    for s in &statements {
        assert_eq!(text(at(s, &["Effect"])), "Allow");
        let listed: Vec<&str> = match at(s, &["Action"]) {
            Value::Sequence(a) => a.iter().map(text).collect(),
            v => vec![text(v)],
        };
        actions.extend(listed);
        let resources = at(s, &["Resource"])
            .as_sequence()
            .cloned()
            .expect("a statement's resources, a list");
        assert!(!resources.is_empty());
        let rendered = format!("{resources:?}");
        assert!(!rendered.contains('*'), "no wildcard resource: {rendered}");
        for r in &resources {
            let one = format!("{r:?}");
            let tables = ["InterventionsTable", "NotificationsTable"];
            assert!(
                tables.iter().any(|t| one.contains(t)),
                "not one of the two tables: {one}"
            );
        }
        for r in &resources {
            let (tag, _) = tagged(r);
            assert_eq!(tag, "Sub");
            assert!(
                format!("{r:?}").contains(":table/${Name}"),
                "a table ARN, not an index or stream"
            );
        }
    }
    // Writes reach both tables; the warm-up reads only the interventions table's description.
    let update = statements
        .iter()
        .find(|s| format!("{:?}", at(s, &["Action"])).contains("UpdateItem"));
    let update_resources = format!(
        "{:?}",
        at(
            update.expect("a statement allowing UpdateItem"),
            &["Resource"]
        )
    );
    assert!(
        update_resources.contains("InterventionsTable")
            && update_resources.contains("NotificationsTable")
    );
    actions.sort_unstable();
    let mut expected = IAM_ACTIONS.to_vec();
    expected.sort_unstable();
    assert_eq!(actions, expected);
}

#[test]
fn tables_are_on_demand_recoverable_encrypted_and_retained() {
    let t = template();
    for (name, key_type) in [("InterventionsTable", "N"), ("NotificationsTable", "S")] {
        let table = resource(&t, name);
        assert_eq!(text(at(table, &["DeletionPolicy"])), "Retain");
        assert_eq!(text(at(table, &["UpdateReplacePolicy"])), "Retain");
        assert_eq!(text(at(table, &["Condition"])), "CreateTables");
        let p = at(table, &["Properties"]);
        assert_eq!(text(at(p, &["BillingMode"])), "PAY_PER_REQUEST");
        assert_eq!(
            at(
                p,
                &[
                    "PointInTimeRecoverySpecification",
                    "PointInTimeRecoveryEnabled"
                ]
            ),
            &Value::Bool(true)
        );
        assert_eq!(
            at(p, &["SSESpecification", "SSEEnabled"]),
            &Value::Bool(true)
        );
        let key = &at(p, &["KeySchema"])[0];
        assert_eq!(text(at(key, &["AttributeName"])), "id");
        let attr = &at(p, &["AttributeDefinitions"])[0];
        assert_eq!(
            text(at(attr, &["AttributeType"])),
            key_type,
            "{name} key type"
        );
    }
    let stream = at(
        resource(&t, "InterventionsTable"),
        &["Properties", "StreamSpecification", "StreamViewType"],
    );
    assert_eq!(text(stream), "NEW_AND_OLD_IMAGES");
}

#[test]
fn stage_is_throttled_and_logged_and_outputs_name_the_endpoint() {
    let t = template();
    let p = at(resource(&t, "VerifyApi"), &["Properties"]);
    let settings = &at(p, &["MethodSettings"])[0];
    assert!(!at(settings, &["ThrottlingRateLimit"]).is_null());
    assert!(!at(settings, &["ThrottlingBurstLimit"]).is_null());
    assert!(!at(p, &["AccessLogSetting", "DestinationArn"]).is_null());
    for group in ["ApiAccessLogGroup", "FunctionLogGroup"] {
        assert!(
            !at(resource(&t, group), &["Properties", "RetentionInDays"]).is_null(),
            "{group}"
        );
    }
    let endpoint = format!("{:?}", at(&t, &["Outputs", "VerifyEndpoint", "Value"]));
    assert!(
        endpoint.contains(&format!(
            "execute-api.${{AWS::Region}}.amazonaws.com/main{ROUTE}"
        )),
        "{endpoint}"
    );
    for out in ["InterventionsTableName", "NotificationsTableName"] {
        assert!(!at(&t, &["Outputs", out]).is_null(), "{out}");
    }
}
