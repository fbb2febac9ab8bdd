//! The intervention, its status lifecycle, and the rules that decide what a
//! verification request may do to it. Pure: no AWS, no HTTP.

use serde::{Deserialize, Serialize};

/// The lifecycle (docs/CONTRACT.md, "Lifecycle and the decision"), on the
/// wire and in the table as its number. A number outside the lifecycle that
/// the table may hold is kept as it is (`Other`), never mistaken for a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
pub(crate) enum Status {
    Planned,
    InProgress,
    ToVerify,
    Validated,
    Refused,
    Cancelled,
    Other(i64),
}

/// The lifecycle's states; their numbers are written once, in `code`.
const STATES: [Status; 6] = [
    Status::Planned,
    Status::InProgress,
    Status::ToVerify,
    Status::Validated,
    Status::Refused,
    Status::Cancelled,
];

impl Status {
    pub(crate) fn code(self) -> i64 {
        match self {
            Status::Planned => 1,
            Status::InProgress => 2,
            Status::ToVerify => 3,
            Status::Validated => 4,
            Status::Refused => 5,
            Status::Cancelled => 6,
            Status::Other(n) => n,
        }
    }
}

impl From<i64> for Status {
    fn from(code: i64) -> Self {
        STATES
            .into_iter()
            .find(|s| s.code() == code)
            .unwrap_or(Status::Other(code))
    }
}

impl From<Status> for i64 {
    fn from(s: Status) -> i64 {
        s.code()
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// The client's verdict on a finished intervention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Accept,
    Reject,
}

impl Decision {
    pub(crate) const ALL: [Decision; 2] = [Decision::Accept, Decision::Reject];

    /// The wire code (`1` accept, `2` reject).
    pub(crate) fn code(self) -> i64 {
        match self {
            Decision::Accept => 1,
            Decision::Reject => 2,
        }
    }

    /// The decision a JSON number names; `1.0` is `1`, as JavaScript reads it.
    pub(crate) fn from_number(n: f64) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.code() as f64 == n)
    }

    /// What a client may send: `1 (accept) or 2 (reject)`.
    pub(crate) fn choices() -> String {
        Self::ALL
            .map(|d| format!("{} ({})", d.code(), d.word()))
            .join(" or ")
    }

    fn word(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::Reject => "reject",
        }
    }

    /// The status an intervention reaches when this decision is applied.
    pub(crate) fn resulting_status(self) -> Status {
        match self {
            Decision::Accept => Status::Validated,
            Decision::Reject => Status::Refused,
        }
    }
}

/// Who is asking, as established by both tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub user_id: i64,
    pub session_id: String,
    /// Distinct organisations the user acts for, sorted.
    pub organization_ids: Vec<i64>,
    pub scopes: Vec<String>,
}

/// The scope a caller needs to verify interventions.
pub(crate) const VERIFY_SCOPE: &str = "interventions:verify";

impl Caller {
    pub(crate) fn may_verify(&self) -> bool {
        self.scopes.iter().any(|s| s == VERIFY_SCOPE)
    }

    pub(crate) fn acts_for(&self, organization_id: Option<i64>) -> bool {
        organization_id.is_some_and(|org| self.organization_ids.binary_search(&org).is_ok())
    }
}

/// An intervention's id: an integer the JavaScript clients hold exactly
/// (within ±(2^53 − 1)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct InterventionId(i64);

impl InterventionId {
    /// The largest id either way (`Number.MAX_SAFE_INTEGER`).
    pub(crate) const MAX: i64 = 9_007_199_254_740_991;

    pub(crate) fn new(id: i64) -> Option<Self> {
        (-Self::MAX..=Self::MAX).contains(&id).then_some(Self(id))
    }

    pub(crate) fn get(self) -> i64 {
        self.0
    }
}

/// A validated request: what the caller wants done to which intervention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifyCommand {
    pub intervention_id: InterventionId,
    pub decision: Decision,
    pub comment: String,
    pub notification_id: Option<String>,
}

/// The intervention record as the API exposes it: the 28 fields of the
/// reference, in its order, `None` (serialised as `null`) where unset.
/// The store reads items into it and the edge writes it out unchanged, so the
/// attribute names of the table and the JSON names are one list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intervention {
    pub(crate) id: Option<i64>,
    pub(crate) status: Option<Status>,
    #[serde(rename = "type")]
    pub(crate) kind: Option<i64>,
    pub(crate) description: Option<String>,
    pub(crate) img_signature: Option<String>,
    pub(crate) code_pin: Option<i64>,
    pub(crate) auto_created: Option<bool>,
    pub(crate) creation_status: Option<i64>,
    pub(crate) scheduled_start: Option<String>,
    pub(crate) scheduled_end: Option<String>,
    pub(crate) actual_start: Option<String>,
    pub(crate) actual_end: Option<String>,
    pub(crate) provider_name: Option<String>,
    pub(crate) provider_email: Option<String>,
    pub(crate) provider_action_comment: Option<String>,
    pub(crate) provider_general_comment: Option<String>,
    pub(crate) assigned_company_contact_id: Option<i64>,
    pub(crate) assigned_user_id: Option<i64>,
    pub(crate) verified_by_user_id: Option<i64>,
    pub(crate) verified_at: Option<String>,
    pub(crate) decision_comment: Option<String>,
    pub(crate) attendee_count: Option<i64>,
    pub(crate) routine_id: Option<i64>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) created_by_user_id: Option<i64>,
    pub(crate) archived_at: Option<String>,
    pub(crate) updated_at: Option<String>,
    pub(crate) created_at: Option<String>,
}

/// Why a decision cannot be applied: the 404/409 rules of docs/CONTRACT.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Missing, or owned by an organisation the caller does not act for.
    NotFound,
    Archived {
        status: Option<Status>,
    },
    AlreadyVerified {
        status: Status,
    },
    NotAwaitingVerification {
        status: Option<Status>,
    },
}

impl Refusal {
    /// The stable `code` of the 409 problem (and of the log line).
    pub(crate) fn code(self) -> &'static str {
        match self {
            Refusal::NotFound => "intervention_not_found",
            Refusal::Archived { .. } => "archived",
            Refusal::AlreadyVerified { .. } => "already_verified",
            Refusal::NotAwaitingVerification { .. } => "not_awaiting_verification",
        }
    }
}

/// What became of a request whose conditional write was refused.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// The same caller already made this exact decision: answer with the record.
    Replay(Box<Intervention>),
    Refused(Refusal),
}

/// Everything the store needs for the one conditional write: the change and
/// the preconditions, already decided here so the adapter only translates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecisionWrite {
    pub intervention_id: InterventionId,
    /// The write applies only to an intervention of one of these.
    pub organization_ids: Vec<i64>,
    pub new_status: Status,
    pub entry: HistoryEntry,
}

/// One element of `verificationHistory`: the audit trail of applied
/// decisions (its attribute names are the store's, `src/store/request.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryEntry {
    pub decision: i64,
    pub decision_comment: String,
    pub user_id: i64,
    pub session_id: String,
    pub at: String,
}

/// The write that applies `command` for `caller` at `now` (ISO-8601 UTC).
/// A caller acting for no organisation owns no intervention: not found,
/// without asking the store (which could match nothing).
pub(crate) fn plan_decision(
    caller: &Caller,
    command: &VerifyCommand,
    now: &str,
) -> Result<DecisionWrite, Refusal> {
    if caller.organization_ids.is_empty() {
        return Err(Refusal::NotFound);
    }
    Ok(DecisionWrite {
        intervention_id: command.intervention_id,
        organization_ids: caller.organization_ids.clone(),
        new_status: command.decision.resulting_status(),
        entry: HistoryEntry {
            decision: command.decision.code(),
            decision_comment: command.comment.clone(),
            user_id: caller.user_id,
            session_id: caller.session_id.clone(),
            at: now.to_owned(),
        },
    })
}

/// Tells apart, from the record as it was when the conditional write's
/// condition failed (`None` when there is no such item), a replay of the
/// same decision from a refusal, and which refusal.
/// Order matters: ownership hides everything, then archived, then lifecycle.
pub(crate) fn judge_failed_condition(
    current: Option<Intervention>,
    caller: &Caller,
    command: &VerifyCommand,
) -> Verdict {
    let Some(current) = current else {
        return Verdict::Refused(Refusal::NotFound);
    };
    if !caller.acts_for(current.organization_id) {
        return Verdict::Refused(Refusal::NotFound);
    }
    if current.archived_at.is_some() {
        return Verdict::Refused(Refusal::Archived {
            status: current.status,
        });
    }
    match current.status {
        Some(s @ (Status::Validated | Status::Refused)) => {
            if is_replay(&current, caller, command) {
                Verdict::Replay(Box::new(current))
            } else {
                Verdict::Refused(Refusal::AlreadyVerified { status: s })
            }
        }
        // Status 3, unarchived and owned cannot have failed the condition;
        // seeing it means the item is malformed (say, a non-numeric status):
        // refusing is the safe answer.
        other => Verdict::Refused(Refusal::NotAwaitingVerification { status: other }),
    }
}

/// Same decision, same comment, same user: a client retry, safe to answer 200.
fn is_replay(current: &Intervention, caller: &Caller, command: &VerifyCommand) -> bool {
    current.status == Some(command.decision.resulting_status())
        && current.verified_by_user_id == Some(caller.user_id)
        && current.decision_comment.as_deref() == Some(command.comment.as_str())
}

/// Length as the JavaScript clients count it: UTF-16 code units.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_number_round_trips_and_unknown_ones_are_kept() {
        for n in -1..=9 {
            let s = Status::from(n);
            assert_eq!(s.code(), n);
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::json!(n)));
            assert_eq!(matches!(s, Status::Other(_)), !(1..=6).contains(&n), "{n}");
        }
        assert_eq!(
            serde_json::from_str::<Status>("4").ok(),
            Some(Status::Validated)
        );
    }

    fn caller() -> Caller {
        Caller {
            user_id: 7,
            session_id: "s-1".into(),
            organization_ids: vec![1, 3],
            scopes: vec![VERIFY_SCOPE.into()],
        }
    }

    fn command(decision: Decision, comment: &str) -> VerifyCommand {
        VerifyCommand {
            intervention_id: InterventionId::new(10).expect("an id in range"),
            decision,
            comment: comment.into(),
            notification_id: None,
        }
    }

    fn record(status: i64) -> Intervention {
        crate::testing::record(10, status, 3)
    }

    fn verified(status: i64, by: i64, comment: &str) -> Intervention {
        Intervention {
            verified_by_user_id: Some(by),
            decision_comment: Some(comment.into()),
            ..record(status)
        }
    }

    #[test]
    fn decisions_map_to_codes_and_statuses() {
        assert_eq!(Decision::Accept.code(), 1);
        assert_eq!(Decision::Reject.code(), 2);
        assert_eq!(Decision::Accept.resulting_status(), Status::Validated);
        assert_eq!(Decision::Reject.resulting_status(), Status::Refused);
    }

    #[test]
    fn a_caller_of_no_organisation_is_refused_before_any_write() {
        let nobody = Caller {
            organization_ids: vec![],
            ..caller()
        };
        let planned = plan_decision(
            &nobody,
            &command(Decision::Accept, "x"),
            "2024-01-01T00:00:00.000Z",
        );
        assert_eq!(planned, Err(Refusal::NotFound));
    }

    #[test]
    fn plan_carries_caller_command_and_time() {
        let w = plan_decision(
            &caller(),
            &command(Decision::Reject, "late"),
            "2024-01-01T00:00:00.000Z",
        )
        .expect("a caller with organisations");
        assert_eq!(w.intervention_id.get(), 10);
        assert_eq!(w.organization_ids, vec![1, 3]);
        assert_eq!(w.new_status, Status::Refused);
        assert_eq!(
            w.entry,
            HistoryEntry {
                decision: 2,
                decision_comment: "late".into(),
                user_id: 7,
                session_id: "s-1".into(),
                at: "2024-01-01T00:00:00.000Z".into(),
            }
        );
    }

    #[test]
    fn missing_item_is_not_found() {
        let v = judge_failed_condition(None, &caller(), &command(Decision::Accept, ""));
        assert_eq!(v, Verdict::Refused(Refusal::NotFound));
    }

    #[test]
    fn foreign_or_orgless_item_is_not_found_whatever_its_state() {
        for status in 1..=6 {
            for org in [Some(2), None] {
                let mut r = verified(status, 7, "ok");
                r.organization_id = org;
                r.archived_at = Some("2024-01-01T00:00:00.000Z".into());
                let v =
                    judge_failed_condition(Some(r), &caller(), &command(Decision::Accept, "ok"));
                assert_eq!(
                    v,
                    Verdict::Refused(Refusal::NotFound),
                    "status {status} org {org:?}"
                );
            }
        }
    }

    #[test]
    fn archived_wins_over_every_status_and_is_never_replayed() {
        for status in 1..=6 {
            let mut r = verified(status, 7, "ok");
            r.archived_at = Some("2024-01-01T00:00:00.000Z".into());
            let v = judge_failed_condition(Some(r), &caller(), &command(Decision::Accept, "ok"));
            assert_eq!(
                v,
                Verdict::Refused(Refusal::Archived {
                    status: Some(status.into())
                })
            );
        }
    }

    /// The write was refused because `r` is already decided, exactly as
    /// `cmd` asks: a replay, answered with `r`.
    fn assert_replay(r: Intervention, cmd: &VerifyCommand) {
        assert_eq!(
            judge_failed_condition(Some(r.clone()), &caller(), cmd),
            Verdict::Replay(Box::new(r))
        );
    }

    #[test]
    fn verified_item_is_already_verified_unless_exact_replay() {
        let cmd = command(Decision::Accept, "fine");
        assert_replay(verified(4, 7, "fine"), &cmd);
        let cases = [
            verified(5, 7, "fine"),  // other decision
            verified(4, 8, "fine"),  // other user
            verified(4, 7, "fine!"), // other comment
            record(4),               // verified by nobody known
        ];
        for r in cases {
            let status = r.status.expect("a record with a status");
            assert_eq!(
                judge_failed_condition(Some(r), &caller(), &cmd),
                Verdict::Refused(Refusal::AlreadyVerified { status })
            );
        }
    }

    #[test]
    fn reject_replay_needs_status_5() {
        assert_replay(verified(5, 7, ""), &command(Decision::Reject, ""));
    }

    #[test]
    fn other_statuses_are_not_awaiting_verification() {
        for status in [
            Status::Planned.code(),
            Status::InProgress.code(),
            Status::Cancelled.code(),
            0,
            99,
        ] {
            let v = judge_failed_condition(
                Some(record(status)),
                &caller(),
                &command(Decision::Accept, ""),
            );
            assert_eq!(
                v,
                Verdict::Refused(Refusal::NotAwaitingVerification {
                    status: Some(status.into())
                })
            );
        }
        let mut no_status = record(3);
        no_status.status = None;
        let v = judge_failed_condition(Some(no_status), &caller(), &command(Decision::Accept, ""));
        assert_eq!(
            v,
            Verdict::Refused(Refusal::NotAwaitingVerification { status: None })
        );
    }

    #[test]
    fn refusal_codes_are_stable() {
        assert_eq!(Refusal::NotFound.code(), "intervention_not_found");
        assert_eq!(Refusal::Archived { status: None }.code(), "archived");
        assert_eq!(
            Refusal::AlreadyVerified {
                status: Status::Validated
            }
            .code(),
            "already_verified"
        );
        assert_eq!(
            Refusal::NotAwaitingVerification { status: None }.code(),
            "not_awaiting_verification"
        );
    }

    #[test]
    fn scope_and_organisation_membership() {
        let mut c = caller();
        assert!(c.may_verify());
        assert!(c.acts_for(Some(3)));
        assert!(!c.acts_for(Some(2)));
        assert!(!c.acts_for(None));
        c.scopes = vec![
            "interventions:read".into(),
            "interventions:verify:extra".into(),
        ];
        assert!(!c.may_verify());
    }

    #[test]
    fn utf16_length_counts_surrogate_pairs_twice() {
        assert_eq!(utf16_len(""), 0);
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é"), 1);
        assert_eq!(utf16_len("😀"), 2);
        assert_eq!(utf16_len("a😀b"), 4);
    }

    #[test]
    fn response_field_order_matches_the_reference() {
        let json = serde_json::to_string(&Intervention::default()).unwrap_or_default();
        let keys: Vec<&str> = json
            .trim_matches(|c| c == '{' || c == '}')
            .split(",")
            .filter_map(|kv| kv.split(':').next())
            .map(|k| k.trim_matches('"'))
            .collect();
        assert_eq!(keys, crate::testing::REFERENCE_FIELDS);
        assert!(json.contains("\"archivedAt\":null"));
    }
}
