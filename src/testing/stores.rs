//! A stand-in for storage, where a test must see what the handler asked of
//! it, script a failure, or leave the engine out (fuzzing, the CPU bench).
//! Decisions against a real engine are the integration tests' business.

use std::cell::RefCell;

use serde_json::{Value, json};

use crate::domain::DecisionWrite;
#[cfg(test)]
use crate::domain::Intervention;
use crate::read_answer;
use crate::store::request::decision_body;
use crate::store::{InterventionStore, NotificationOutcome, StoreError, WriteOutcome};

#[derive(Debug, Default)]
enum Script {
    /// No decision may reach storage: answering is a test failure (500).
    #[default]
    Nothing,
    /// This, once.
    #[cfg(test)]
    Once(Box<Result<WriteOutcome, StoreError>>),
    /// Every decision applied, the record echoing the write.
    #[cfg(test)]
    Accept,
    /// As the DynamoDB store does, minus the round trip: the update built,
    /// then this answer's item (what `ALL_NEW` returns) read into the record.
    Answer(Vec<u8>),
}

/// Records every call; answers as scripted.
#[derive(Debug, Default)]
pub(crate) struct StubStore {
    pub writes: RefCell<Vec<DecisionWrite>>,
    pub notifications: RefCell<Vec<(String, i64)>>,
    script: RefCell<Script>,
    notification_answer: RefCell<Option<Result<NotificationOutcome, StoreError>>>,
}

impl StubStore {
    /// Builds the update and reads `answer` (an [`answer`] body) for the
    /// next decision; [`Self::set_answer`] arms the one after.
    pub(crate) fn returning(answer: Vec<u8>) -> Self {
        let s = Self::default();
        s.set_answer(answer);
        s
    }

    pub(crate) fn set_answer(&self, answer: Vec<u8>) {
        *self.script.borrow_mut() = Script::Answer(answer);
    }
}

/// Scripts and checks of the tests' own.
#[cfg(test)]
impl StubStore {
    /// For requests that must never reach storage.
    pub(crate) fn untouchable() -> Self {
        Self::default()
    }

    pub(crate) fn answering(answer: Result<WriteOutcome, StoreError>) -> Self {
        let s = Self::default();
        *s.script.borrow_mut() = Script::Once(Box::new(answer));
        s
    }

    pub(crate) fn accepting() -> Self {
        let s = Self::default();
        *s.script.borrow_mut() = Script::Accept;
        s
    }

    pub(crate) fn notification_answer(&self, answer: Result<NotificationOutcome, StoreError>) {
        *self.notification_answer.borrow_mut() = Some(answer);
    }

    pub(crate) fn untouched(&self) -> bool {
        self.writes.borrow().is_empty() && self.notifications.borrow().is_empty()
    }
}

impl InterventionStore for StubStore {
    async fn apply_decision(&self, write: &DecisionWrite) -> Result<WriteOutcome, StoreError> {
        self.writes.borrow_mut().push(write.clone());
        let answer = std::mem::take(&mut *self.script.borrow_mut());
        match answer {
            Script::Nothing => Err(StoreError::Internal("no answer scripted".into())),
            #[cfg(test)]
            Script::Once(r) => *r,
            #[cfg(test)]
            Script::Accept => {
                *self.script.borrow_mut() = Script::Accept;
                Ok(WriteOutcome::Applied(Intervention {
                    id: Some(write.intervention_id.get()),
                    status: Some(write.new_status),
                    ..Intervention::default()
                }))
            }
            Script::Answer(body) => {
                std::hint::black_box(decision_body("Interventions", write)?);
                read_answer(&body).map(WriteOutcome::Applied)
            }
        }
    }

    async fn mark_notification_read(
        &self,
        id: &str,
        user: i64,
        _at: &str,
    ) -> Result<NotificationOutcome, StoreError> {
        self.notifications.borrow_mut().push((id.to_owned(), user));
        self.notification_answer
            .borrow_mut()
            .take()
            .unwrap_or(Ok(NotificationOutcome::Marked))
    }
}

/// DynamoDB's JSON answer to an `UpdateItem` with `ReturnValues=ALL_NEW`
/// whose item is `item` (a plain JSON object), typed by serde_dynamo
/// (numbers become `N`, strings `S`, arrays `L`, objects `M`): the reader
/// under test is checked against a writer it does not share code with.
pub(crate) fn answer(item: &Value) -> Vec<u8> {
    let item: serde_dynamo::Item = serde_dynamo::to_item(item).expect("an item is a JSON object");
    let body = json!({"Attributes": *item, "ConsumedCapacity": {"CapacityUnits": 1.0}});
    serde_json::to_vec(&body).expect("JSON")
}
