//! A DynamoDB item (the SDK's attribute map) read straight into a record,
//! with serde: the record's own `Deserialize` drives, and each attribute is
//! handed over as it stands. `serde_dynamo::from_item` first converts the whole
//! map into its own attribute type, an allocation per attribute; on the
//! request path that copy was the largest part of the mapping
//! (docs/PERFORMANCE.md). Writing still goes through `serde_dynamo`.

use std::collections::HashMap;
use std::collections::hash_map;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::value::Error;
use serde::de::{
    self, DeserializeSeed, Deserializer, Error as _, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};

/// `T` from an item. Number attributes become integers when they are, else
/// floats; `NULL` is `None`; sets and binary values are not read.
pub(crate) fn from_item<'de, T: de::Deserialize<'de>>(
    item: &HashMap<String, AttributeValue>,
) -> Result<T, Error> {
    T::deserialize(Value::Map(item))
}

#[derive(Clone, Copy)]
enum Value<'a> {
    Map(&'a HashMap<String, AttributeValue>),
    Attr(&'a AttributeValue),
}

struct Entries<'a> {
    iter: hash_map::Iter<'a, String, AttributeValue>,
    value: Option<&'a AttributeValue>,
}

impl<'de, 'a> MapAccess<'de> for Entries<'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k.as_str().into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| Error::custom("a value without its key"))?;
        seed.deserialize(Value::Attr(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Elements<'a>(std::slice::Iter<'a, AttributeValue>);

impl<'de, 'a> SeqAccess<'de> for Elements<'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0
            .next()
            .map(|v| seed.deserialize(Value::Attr(v)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

fn number<'de, V: Visitor<'de>>(n: &str, visitor: V) -> Result<V::Value, Error> {
    if let Ok(i) = n.parse::<i64>() {
        visitor.visit_i64(i)
    } else if let Ok(u) = n.parse::<u64>() {
        visitor.visit_u64(u)
    } else {
        let f = n
            .parse::<f64>()
            .map_err(|_| Error::custom(format!("{n:?} is not a number")))?;
        visitor.visit_f64(f)
    }
}

impl<'de, 'a> Deserializer<'de> for Value<'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let attr = match self {
            Value::Map(m) => {
                return visitor.visit_map(Entries {
                    iter: m.iter(),
                    value: None,
                });
            }
            Value::Attr(a) => a,
        };
        match attr {
            AttributeValue::S(s) => visitor.visit_str(s),
            AttributeValue::N(n) => number(n, visitor),
            AttributeValue::Bool(b) => visitor.visit_bool(*b),
            AttributeValue::Null(_) => visitor.visit_unit(),
            AttributeValue::M(m) => visitor.visit_map(Entries {
                iter: m.iter(),
                value: None,
            }),
            AttributeValue::L(l) => visitor.visit_seq(Elements(l.iter())),
            _ => Err(Error::custom(
                "sets and binary attributes are not read into records",
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Attr(AttributeValue::Null(_)) => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    /// An attribute the record does not have (`verificationHistory`) is
    /// skipped without being walked.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Intervention;
    use proptest::prelude::*;
    use serde_json::json;

    fn full_item() -> HashMap<String, AttributeValue> {
        serde_dynamo::to_item(json!({
            "id": 3, "status": 4, "type": 1, "description": "Replace the \"filters\" — été",
            "imgSignature": "signatures/3.png", "codePin": 123456, "autoCreated": true, "creationStatus": 1,
            "scheduledStart": "2024-12-01T12:34:56.000Z", "actualEnd": "2024-12-01T16:00:00.000Z",
            "assignedUserId": -1, "verifiedByUserId": 9007199254740991_i64, "attendeeCount": 0,
            "organizationId": 1, "archivedAt": null, "createdAt": "2024-01-15T08:45:00.000Z",
            "verificationHistory": [{"decision": 1, "decisionComment": "x", "userId": 42,
                "sessionId": "s", "at": "2024-12-09T14:23:00.000Z"}],
            "somethingElse": {"nested": [1, 2.5, "x"]}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn reads_what_serde_dynamo_reads() {
        let item = full_item();
        let ours: Intervention = from_item(&item).unwrap_or_else(|e| panic!("{e}"));
        let theirs: Intervention = serde_dynamo::from_item(item).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ours, theirs);
        assert_eq!(ours.verified_by_user_id, Some(9_007_199_254_740_991));
        assert_eq!(ours.archived_at, None);
        assert_eq!(ours.auto_created, Some(true));
    }

    #[test]
    fn a_wrong_type_is_an_error_not_a_guess() {
        let mut item = full_item();
        item.insert("status".into(), AttributeValue::S("4".into()));
        assert!(from_item::<Intervention>(&item).is_err());
        let mut item = full_item();
        item.insert("codePin".into(), AttributeValue::N("12.5".into()));
        assert!(from_item::<Intervention>(&item).is_err());
        let mut item = full_item();
        item.insert("description".into(), AttributeValue::Ss(vec!["a".into()]));
        assert!(from_item::<Intervention>(&item).is_err());
    }

    proptest! {
        /// Any item of the record's shape reads as serde_dynamo reads it.
        #[test]
        fn agrees_with_serde_dynamo(
            id in proptest::option::of(any::<i64>()),
            status in proptest::option::of(-3i64..10),
            description in proptest::option::of(".{0,30}"),
            auto in proptest::option::of(any::<bool>()),
            null_archived in any::<bool>(),
        ) {
            let mut v = json!({});
            if let Some(i) = id { v["id"] = json!(i); }
            if let Some(s) = status { v["status"] = json!(s); }
            if let Some(d) = &description { v["description"] = json!(d); }
            if let Some(a) = auto { v["autoCreated"] = json!(a); }
            if null_archived { v["archivedAt"] = serde_json::Value::Null; }
            let item: HashMap<String, AttributeValue> =
                serde_dynamo::to_item(v).unwrap_or_else(|e| panic!("{e}"));
            let ours: Intervention = from_item(&item).unwrap_or_else(|e| panic!("{e}"));
            let theirs: Intervention = serde_dynamo::from_item(item).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(ours, theirs);
        }
    }
}
