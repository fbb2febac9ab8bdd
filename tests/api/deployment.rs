//! The template as CloudFormation receives it: `template.yaml` translated
//! offline by the pinned SAM translator (`scripts/translate_template.py`),
//! then checked for what only shows after the transform — stages, the alias
//! behind every route, the deployment group's rollback alarms, alarms that
//! read metrics the code emits, no secret in the function's configuration.

use std::collections::BTreeSet;

use crate::telemetry::metrics;
use serde_json::Value;

pub(crate) fn translate(params: &[&str]) -> Value {
    let args = params.iter().flat_map(|p| ["--param", p]);
    let stdout = super::helpers::run_script("translate_template.py", args);
    serde_json::from_slice(&stdout).unwrap_or_else(|e| panic!("translation output: {e}"))
}

fn resources<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

fn one<'a>(t: &'a Value, kind: &str) -> (&'a String, &'a Value) {
    let all = resources(t, kind);
    assert_eq!(
        all.len(),
        1,
        "{kind}: {:?}",
        all.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    all[0]
}

#[test]
fn only_stage_main_exists() {
    let t = translate(&[]);
    let (_, stage) = one(&t, "AWS::ApiGateway::Stage");
    assert_eq!(stage["Properties"]["StageName"], "main");
    // A Deployment with a StageName creates a stage of that name as well.
    for (name, d) in resources(&t, "AWS::ApiGateway::Deployment") {
        assert!(
            d["Properties"].get("StageName").is_none(),
            "{name} creates a stage"
        );
    }
}

#[test]
fn every_route_reaches_the_live_alias() {
    let t = translate(&[]);
    let (alias_id, alias) = one(&t, "AWS::Lambda::Alias");
    assert_eq!(alias["Properties"]["Name"], "live");
    let (_, api) = one(&t, "AWS::ApiGateway::RestApi");
    let paths = api["Properties"]["Body"]["paths"]
        .as_object()
        .cloned()
        .expect("the API's paths");
    assert_eq!(paths.len(), 1);
    let mut methods = BTreeSet::new();
    for (_, ops) in paths {
        for (method, op) in ops.as_object().into_iter().flatten() {
            methods.insert(method.clone());
            let uri = op["x-amazon-apigateway-integration"]["uri"].to_string();
            assert!(
                uri.contains(alias_id.as_str()),
                "{method} does not invoke the alias: {uri}"
            );
            assert_eq!(op["x-amazon-apigateway-integration"]["type"], "aws_proxy");
        }
    }
    assert_eq!(
        methods,
        ["options", "patch", "x-amazon-apigateway-any-method"]
            .map(String::from)
            .into()
    );
    for (name, p) in resources(&t, "AWS::Lambda::Permission") {
        let target = p["Properties"]["FunctionName"].to_string();
        assert!(target.contains(alias_id.as_str()), "{name} allows {target}");
    }
}

/// Metric names and dimensions an alarm or the dashboard reads in the
/// function's own namespace.
fn own_metrics(alarm: &Value) -> Vec<(String, Vec<String>)> {
    let p = &alarm["Properties"];
    let mut out = Vec::new();
    let mut take = |m: &Value| {
        if m["Namespace"] == metrics::NAMESPACE {
            let dims = m["Dimensions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["Name"].as_str().map(str::to_owned))
                .collect();
            out.push((
                m["MetricName"]
                    .as_str()
                    .expect("a string in the template or answer")
                    .to_owned(),
                dims,
            ));
        }
    };
    take(p);
    for m in p["Metrics"].as_array().into_iter().flatten() {
        take(&m["MetricStat"]["Metric"]);
    }
    out
}

/// `v`, as JSON text, contains `what`.
fn assert_mentions(v: &Value, what: &str) {
    assert!(v.to_string().contains(what), "{what} not in {v}");
}

#[test]
fn every_alarm_has_an_action_a_runbook_entry_and_reads_an_emitted_metric() {
    let t = translate(&[]);
    let alarms = resources(&t, "AWS::CloudWatch::Alarm");
    assert_eq!(
        alarms.len(),
        12,
        "{:?}",
        alarms.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let runbook = include_str!("../../docs/OPERATIONS.md");
    for (name, alarm) in &alarms {
        let p = &alarm["Properties"];
        assert!(
            p["AlarmActions"].as_array().is_some_and(|a| !a.is_empty()),
            "{name} has no action"
        );
        assert!(
            p["TreatMissingData"].is_string(),
            "{name}: TreatMissingData"
        );
        let description = p["AlarmDescription"].to_string();
        let anchor = format!("#{}", name.to_ascii_lowercase());
        assert!(description.contains(&anchor), "{name}: {description}");
        assert!(
            runbook.contains(&format!("### {name}")),
            "docs/OPERATIONS.md has no entry for {name}"
        );
        for (metric, dims) in own_metrics(alarm) {
            assert!(
                metrics::NAMES.contains(&metric.as_str()),
                "{name} reads {metric}, which the code does not emit"
            );
            assert!(
                dims.iter().any(|d| d == metrics::FUNCTION_NAME),
                "{name} reads {metric} of every stack in the account"
            );
            for d in dims {
                assert!(
                    metrics::DIMENSIONS.contains(&d.as_str()),
                    "{name}: dimension {d}"
                );
            }
        }
    }
    // The runbook's alarms are the template's, no more, no fewer.
    let names: BTreeSet<&str> = alarms.iter().map(|a| a.0.as_str()).collect();
    let listed: BTreeSet<&str> = runbook
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .filter(|h| h.ends_with("Alarm"))
        .collect();
    assert_eq!(
        names, listed,
        "template alarms vs docs/OPERATIONS.md entries"
    );
}

#[test]
fn the_dashboard_reads_only_emitted_metrics() {
    let t = translate(&[]);
    let (_, dash) = one(&t, "AWS::CloudWatch::Dashboard");
    let body = dash["Properties"]["DashboardBody"]["Fn::Sub"][0]
        .as_str()
        .expect("the dashboard body is a Fn::Sub string");
    let ns = format!("\"{}\", \"", metrics::NAMESPACE);
    let mut seen = 0;
    for part in body.split(&ns).skip(1) {
        let metric = part.split('"').next().unwrap_or_default();
        assert!(metrics::NAMES.contains(&metric), "dashboard reads {metric}");
        assert!(
            part.contains(&format!(
                "\"{}\", \"${{VerifyFunction}}\"",
                metrics::FUNCTION_NAME
            )),
            "dashboard reads {metric} of every function: {part}"
        );
        seen += 1;
    }
    for part in body.split(&format!("{{{},", metrics::NAMESPACE)).skip(1) {
        let dims = part.split('}').next().unwrap_or_default();
        for dim in dims.split(',') {
            assert!(
                metrics::DIMENSIONS.contains(&dim),
                "dashboard searches dimension {dim}"
            );
        }
        // Another stack's function never shows on this stack's dashboard.
        assert!(
            dims.starts_with(metrics::FUNCTION_NAME)
                && part.contains(&format!(
                    "{}=\\\"${{VerifyFunction}}\\\"",
                    metrics::FUNCTION_NAME
                )),
            "a search not filtered on this function: {part}"
        );
        let metric = part
            .split("MetricName=\\\"")
            .nth(1)
            .and_then(|m| m.split('\\').next())
            .expect("a MetricName in the query");
        assert!(
            metrics::NAMES.contains(&metric),
            "dashboard searches {metric}"
        );
        seen += 1;
    }
    assert!(seen >= 8, "{seen} metric references");
    for widget in [
        "Decisions by outcome",
        "Latency",
        "status class",
        "Cold starts",
        "DynamoDB",
        "API Gateway",
        "\"alarm\"",
    ] {
        assert!(body.contains(widget), "no {widget} widget");
    }
}

#[test]
fn the_deployment_group_rolls_back_on_the_new_versions_alarms() {
    let t = translate(&[]);
    let (_, group) = one(&t, "AWS::CodeDeploy::DeploymentGroup");
    let p = &group["Properties"];
    let alarms: BTreeSet<String> = p["AlarmConfiguration"]["Alarms"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            a["Name"]["Ref"]
                .as_str()
                .expect("a string in the template or answer")
                .to_owned()
        })
        .collect();
    assert_eq!(
        alarms,
        ["CanaryFunctionErrorsAlarm", "CanaryServerErrorRateAlarm"]
            .map(String::from)
            .into()
    );
    assert_eq!(p["AutoRollbackConfiguration"]["Enabled"], true);
    assert_mentions(
        &p["AutoRollbackConfiguration"]["Events"],
        "DEPLOYMENT_STOP_ON_ALARM",
    );
    assert_mentions(&p["DeploymentConfigName"], "Canary10Percent5Minutes");
    // The canary alarms judge the new version alone.
    let (version_id, _) = one(&t, "AWS::Lambda::Version");
    for name in ["CanaryFunctionErrorsAlarm", "CanaryServerErrorRateAlarm"] {
        let alarm = t["Resources"][name].to_string();
        assert!(
            alarm.contains(version_id.as_str()),
            "{name} is not tied to the new version"
        );
    }
    let dims = t["Resources"]["CanaryServerErrorRateAlarm"].to_string();
    assert!(dims.contains(metrics::FUNCTION_VERSION));
    // A development stack deploys at once.
    let dev = translate(&["DeploymentType=AllAtOnce"]);
    let (_, group) = one(&dev, "AWS::CodeDeploy::DeploymentGroup");
    assert!(
        group["Properties"]["DeploymentConfigName"]
            .to_string()
            .contains("AllAtOnce")
    );
}

#[test]
fn no_secret_value_reaches_the_function_configuration() {
    let t = translate(&[]);
    let f = &t["Resources"]["VerifyFunction"];
    let vars = f["Properties"]["Environment"]["Variables"]
        .as_object()
        .cloned()
        .expect("the function's variables");
    for value_var in ["SESSION_TOKEN_SECRET", "ACCESS_TOKEN_SECRET"] {
        assert!(
            !vars.contains_key(value_var),
            "{value_var} is in the configuration"
        );
    }
    assert!(vars.contains_key("SESSION_TOKEN_SECRET_ID"));
    assert!(
        !t.to_string().contains("{{resolve:"),
        "a dynamic reference resolves a value"
    );
}

#[test]
fn the_xray_permission_exists_only_with_tracing() {
    let t = translate(&[]);
    let role = &t["Resources"]["VerifyFunctionRole"];
    let managed = role["Properties"]["ManagedPolicyArns"].to_string();
    assert!(
        !managed.contains("AWSXray"),
        "X-Ray policy attached unconditionally: {managed}"
    );
    let inline = role["Properties"]["Policies"].to_string();
    let xray = inline
        .find("xray:PutTraceSegments")
        .unwrap_or_else(|| panic!("no X-Ray statement"));
    let before = &inline[..xray];
    assert!(
        before
            .rfind("\"Fn::If\"")
            .is_some_and(|i| before[i..].contains("\"Tracing\""))
    );
    // No TracingConfig: Lambda's default, PassThrough, follows the stage.
    let f = &t["Resources"]["VerifyFunction"];
    assert!(f["Properties"].get("TracingConfig").is_none());
}

/// The statements of a role's inline policies, flattened.
fn statements(role: &Value) -> Vec<&Value> {
    role["Properties"]["Policies"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| {
            p["PolicyDocument"]["Statement"]
                .as_array()
                .into_iter()
                .flatten()
        })
        .collect()
}

#[test]
fn a_pre_traffic_hook_checks_the_new_version_before_any_traffic_shifts() {
    let t = translate(&[]);
    let (version_id, _) = one(&t, "AWS::Lambda::Version");
    let (_, alias) = one(&t, "AWS::Lambda::Alias");
    let update = &alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"];
    assert_eq!(update["BeforeAllowTrafficHook"]["Ref"], "PreTrafficHook");
    let hook = &t["Resources"]["PreTrafficHook"]["Properties"];
    // CodeDeploy's managed role invokes only functions named so.
    assert!(
        hook["FunctionName"]["Fn::Sub"]
            .as_str()
            .is_some_and(|n| n.starts_with("CodeDeployHook_")),
        "{}",
        hook["FunctionName"]
    );
    assert_eq!(hook["Handler"], "pre_traffic.handler");
    assert_eq!(
        hook["Environment"]["Variables"]["TARGET_FUNCTION"]["Ref"],
        version_id.as_str()
    );
    // The code it runs is in the repository, the checks beside it.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hooks");
    assert!(dir.join("pre_traffic.py").is_file() && dir.join("checks.py").is_file());
    // Least privilege: invoke the new version, report the hook's status.
    let role_id = hook["Role"]["Fn::GetAtt"][0]
        .as_str()
        .expect("a string in the template or answer");
    let role = &t["Resources"][role_id];
    let managed = role["Properties"]["ManagedPolicyArns"].to_string();
    assert!(
        !managed.contains("FullAccess") && !managed.contains("PowerUser"),
        "{managed}"
    );
    let granted: Vec<(String, String)> = statements(role)
        .iter()
        .map(|s| (s["Action"].to_string(), s["Resource"].to_string()))
        .collect();
    assert_eq!(granted.len(), 2, "{granted:?}");
    assert_eq!(granted[0].0, r#"["lambda:InvokeFunction"]"#);
    assert_eq!(granted[0].1, format!(r#"[{{"Ref":"{version_id}"}}]"#));
    assert_eq!(
        granted[1].0,
        r#"["codedeploy:PutLifecycleEventHookExecutionStatus"]"#
    );
    assert!(
        granted[1]
            .1
            .contains(":deploymentgroup:${ServerlessDeploymentApplication}/"),
        "{}",
        granted[1].1
    );
}

#[test]
fn the_api_refuses_tls_below_1_2_and_the_stage_waits_for_the_account_role() {
    let t = translate(&["SetApiGatewayAccountLogRole=true"]);
    let (_, api) = one(&t, "AWS::ApiGateway::RestApi");
    let policy = api["Properties"]["SecurityPolicy"]
        .as_str()
        .expect("a string in the template or answer");
    // Enhanced policies that accept TLS 1.2 and 1.3, never 1.0 or 1.1.
    assert!(policy.starts_with("SecurityPolicy_TLS13_1_2_"), "{policy}");
    assert_eq!(api["Properties"]["EndpointAccessMode"], "STRICT");
    let (_, stage) = one(&t, "AWS::ApiGateway::Stage");
    assert!(
        stage["Properties"]
            .to_string()
            .contains(r#"{"Ref":"ApiGatewayAccount"}"#),
        "the stage does not wait for the account's CloudWatch role"
    );
    assert_eq!(
        t["Resources"]["ApiGatewayCloudWatchRole"]["DeletionPolicy"],
        "Retain"
    );
}

#[test]
fn a_web_acl_is_created_attached_or_absent_by_parameter() {
    let created = translate(&["WebAcl=create", "WebAclRateLimit=500"]);
    let (_, acl) = one(&created, "AWS::WAFv2::WebACL");
    let p = &acl["Properties"];
    assert_eq!(p["Scope"], "REGIONAL");
    let rules = p["Rules"].as_array().cloned().expect("the web ACL's rules");
    let rate = &rules[0]["Statement"]["RateBasedStatement"];
    assert_eq!(rate["AggregateKeyType"], "IP");
    assert_eq!(rate["Limit"]["Ref"], "WebAclRateLimit");
    assert!(rules[0]["Action"]["Block"].is_object());
    let groups: Vec<&str> = rules
        .iter()
        .filter_map(|r| r["Statement"]["ManagedRuleGroupStatement"]["Name"].as_str())
        .collect();
    assert_eq!(
        groups,
        [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet"
        ]
    );
    let (_, assoc) = one(&created, "AWS::WAFv2::WebACLAssociation");
    let target = assoc["Properties"]["ResourceArn"].to_string();
    assert!(
        target.contains("/restapis/${VerifyApi}/stages/${VerifyApimainStage}"),
        "{target}"
    );
    assert_eq!(
        assoc["Properties"]["WebACLArn"]["Fn::If"][1]["Fn::GetAtt"][0],
        "StageWebAcl"
    );
    // The firewall's refusals keep the API's error format and CORS.
    let (_, api) = one(&created, "AWS::ApiGateway::RestApi");
    let waf = &api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]["WAF_FILTERED"];
    assert_mentions(
        &waf["responseTemplates"]["application/json"],
        "request_blocked",
    );
    assert_mentions(&waf["responseParameters"], "Access-Control-Allow-Origin");
    // Its alarm and dashboard widget read the ACL of this stack.
    let alarm = &created["Resources"]["WebAclBlockedShareAlarm"];
    assert_eq!(alarm["Condition"], "HasWebAcl");
    assert!(alarm.to_string().contains("AWS/WAFV2"));
    let (_, dash) = one(&created, "AWS::CloudWatch::Dashboard");
    assert!(dash.to_string().contains("WebAclBlockedShareAlarm.Arn"));
    assert!(dash.to_string().contains("AWS/WAFV2"));
    // Without one, nothing of it is created (conditions carry the choice).
    for (name, condition) in [
        ("StageWebAcl", "CreateWebAcl"),
        ("StageWebAclAssociation", "HasWebAcl"),
    ] {
        assert_eq!(created["Resources"][name]["Condition"], condition);
    }
    let conditions = &created["Conditions"];
    assert_eq!(
        conditions["HasWebAcl"]["Fn::Not"][0]["Fn::Equals"][1], "",
        "{conditions}"
    );
}
