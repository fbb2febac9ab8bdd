//! An item read straight from DynamoDB's JSON answer into a record, with
//! serde: the record's own `Deserialize` drives, and each typed attribute
//! (`{"S": "…"}`, `{"N": "12"}`, …) is handed over as the value it holds.
//! The SDK's reading first builds a map of its own attribute type, an
//! allocation and a SipHash per attribute: after the signature, the largest
//! part of its call (docs/PERFORMANCE.md, "Levers kept").

use std::marker::PhantomData;

use serde::de::value::Error as PlainError;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess,
    Visitor,
};

/// `T` from the item under `member` of an answer's JSON body (`Attributes`
/// of an `UpdateItem` with `ReturnValues`); `None` when the answer has none.
/// Numbers become integers when they are, else floats; `NULL` is `None`;
/// sets and binary values are not read.
pub(crate) fn from_body<'de, T: de::Deserialize<'de>>(
    body: &'de [u8],
    member: &str,
) -> Result<Option<T>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let item = de.deserialize_map(Answer::<T>(member, PhantomData))?;
    de.end()?;
    Ok(item)
}

struct Answer<'m, T>(&'m str, PhantomData<T>);

impl<'de, T: de::Deserialize<'de>> Visitor<'de> for Answer<'_, T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a DynamoDB answer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut answer: A) -> Result<Option<T>, A::Error> {
        let mut item = None;
        while let Some(wanted) = answer.next_key_seed(Text(|key: &str| key == self.0))? {
            if wanted {
                item = Some(answer.next_value_seed(Payload(Tag::M, PhantomData::<T>))?);
            } else {
                answer.next_value::<IgnoredAny>()?;
            }
        }
        Ok(item)
    }
}

/// A JSON string handed to `F` where it lies: no copy unless it has escapes.
struct Text<F>(F);

impl<'de, F: FnOnce(&str) -> R, R> DeserializeSeed<'de> for Text<F> {
    type Value = R;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<R, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, F: FnOnce(&str) -> R, R> Visitor<'de> for Text<F> {
    type Value = R;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<R, E> {
        Ok((self.0)(v))
    }
}

/// Feeds the seed the value a typed attribute `{"T": payload}` holds.
struct Attr<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Attr<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Attr<S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a DynamoDB attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut attr: A) -> Result<S::Value, A::Error> {
        let tag = attr
            .next_key_seed(Text(|tag: &str| match tag {
                "S" => Tag::S,
                "N" => Tag::N,
                "BOOL" => Tag::Bool,
                "NULL" => Tag::Null,
                "M" => Tag::M,
                "L" => Tag::L,
                _ => Tag::Unread,
            }))?
            .ok_or_else(|| A::Error::custom("an attribute value without its type"))?;
        let value = attr.next_value_seed(Payload(tag, self.0))?;
        match attr.next_key::<IgnoredAny>()? {
            None => Ok(value),
            Some(_) => Err(A::Error::custom("an attribute value of two types")),
        }
    }
}

/// An attribute value's type; sets and binary values are `Unread`.
enum Tag {
    S,
    N,
    Bool,
    Null,
    M,
    L,
    Unread,
}

/// A typed attribute's payload, read by its type into the seed.
struct Payload<S>(Tag, S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Payload<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        let Payload(tag, s) = self;
        match tag {
            Tag::S => d.deserialize_str(Text(|t: &str| plain(s, Plain::Str(t))))?,
            Tag::N => d.deserialize_str(Text(|t: &str| plain(s, Plain::Num(t))))?,
            Tag::Bool => plain(s, Plain::Bool(bool::deserialize(d)?)),
            Tag::Null => IgnoredAny::deserialize(d).and_then(|_| plain(s, Plain::Null)),
            Tag::Unread => IgnoredAny::deserialize(d).and_then(|_| plain(s, Plain::Unread)),
            Tag::M => d.deserialize_map(Nested(s)),
            Tag::L => d.deserialize_seq(Nested(s)),
        }
    }
}

/// A map (`M`, the item itself) or list (`L`) of typed attributes, handed
/// to the seed as a plain map or sequence.
struct Nested<S>(S);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nested<S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map or list of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Value, A::Error> {
        self.0.deserialize(MapOf(map))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<S::Value, A::Error> {
        self.0.deserialize(ListOf(seq))
    }
}

/// A map (`M`, the item) of typed attributes, each value unwrapped.
struct MapOf<A>(A);

/// A list (`L`) of typed attributes, each element unwrapped.
struct ListOf<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for MapOf<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        k: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(k)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, v: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(Attr(v))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for ListOf<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        t: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Attr(t))
    }
}

/// Each shape as a deserializer: present (`Some`) and walked as it is.
macro_rules! walked_as {
    ($shape:ident, $access:ident, $visit:ident) => {
        impl<'de, A: $access<'de>> Deserializer<'de> for $shape<A> {
            type Error = A::Error;

            fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
                visitor.$visit(self)
            }

            fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
                visitor.visit_some(self)
            }

            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
                bytes byte_buf unit unit_struct newtype_struct seq tuple
                tuple_struct map struct enum identifier ignored_any
            }
        }
    };
}

walked_as!(MapOf, MapAccess, visit_map);
walked_as!(ListOf, SeqAccess, visit_seq);

/// A scalar attribute's value, as serde sees a plain one.
enum Plain<'a> {
    Str(&'a str),
    /// A number, in DynamoDB's decimal text.
    Num(&'a str),
    Bool(bool),
    Null,
    /// A set or a binary value: only skipping it is allowed.
    Unread,
}

/// `s` fed `p`, its error told in the answer's own error type.
fn plain<'de, S: DeserializeSeed<'de>, E: de::Error>(s: S, p: Plain<'_>) -> Result<S::Value, E> {
    s.deserialize(p).map_err(E::custom)
}

impl<'de> Deserializer<'de> for Plain<'_> {
    type Error = PlainError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PlainError> {
        match self {
            Plain::Str(s) => visitor.visit_str(s),
            Plain::Num(n) => number(n, visitor),
            Plain::Bool(b) => visitor.visit_bool(b),
            Plain::Null => visitor.visit_unit(),
            Plain::Unread => Err(PlainError::custom(
                "sets and binary attributes are not read into records",
            )),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PlainError> {
        match self {
            Plain::Null => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    /// An attribute the record does not have is skipped, whatever its type.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, PlainError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier
    }
}

fn number<'de, V: Visitor<'de>>(n: &str, visitor: V) -> Result<V::Value, PlainError> {
    if let Ok(i) = n.parse::<i64>() {
        visitor.visit_i64(i)
    } else if let Ok(u) = n.parse::<u64>() {
        visitor.visit_u64(u)
    } else {
        let f = n
            .parse::<f64>()
            .map_err(|_| PlainError::custom(format!("{n:?} is not a number")))?;
        visitor.visit_f64(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Intervention;
    use crate::testing::stores::answer;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn full_item() -> Value {
        json!({
            "id": 3, "status": 4, "type": 1, "description": "Replace the \"filters\" — été",
            "imgSignature": "signatures/3.png", "codePin": 123456, "autoCreated": true, "creationStatus": 1,
            "scheduledStart": "2024-12-01T12:34:56.000Z", "actualEnd": "2024-12-01T16:00:00.000Z",
            "assignedUserId": -1, "verifiedByUserId": 9007199254740991_i64, "attendeeCount": 0,
            "organizationId": 1, "archivedAt": null, "createdAt": "2024-01-15T08:45:00.000Z",
            "verificationHistory": [{"decision": 1, "decisionComment": "x", "userId": 42,
                "sessionId": "s", "at": "2024-12-09T14:23:00.000Z"}],
            "somethingElse": {"nested": [1, 2.5, "x"]}
        })
    }

    fn read(body: &[u8]) -> Result<Intervention, serde_json::Error> {
        from_body(body, "Attributes").map(|i| i.expect("an item in the answer"))
    }

    /// What serde_dynamo reads from the SDK's attribute map of `item`.
    fn theirs(item: Value) -> Intervention {
        let item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> =
            serde_dynamo::to_item(item).expect("an item");
        serde_dynamo::from_item(item).expect("the item")
    }

    #[test]
    fn reads_what_serde_dynamo_reads() {
        let ours = read(&answer(&full_item())).expect("the item");
        assert_eq!(ours, theirs(full_item()));
        assert_eq!(ours.verified_by_user_id, Some(9_007_199_254_740_991));
        assert_eq!(ours.archived_at, None);
        assert_eq!(ours.auto_created, Some(true));
        assert_eq!(
            ours.description.as_deref(),
            Some("Replace the \"filters\" — été")
        );
    }

    #[test]
    fn an_answer_without_the_member_has_no_item() {
        let none: Option<Intervention> =
            from_body(br#"{"ConsumedCapacity": {}}"#, "Attributes").expect("an answer");
        assert_eq!(none, None);
        assert!(from_body::<Intervention>(br#"{"Attributes": {}} x"#, "Attributes").is_err());
    }

    #[test]
    fn a_wrong_type_is_an_error_not_a_guess() {
        let with = |name: &str, v: Value| {
            let mut item = full_item();
            item[name] = v;
            read(&answer(&item))
        };
        assert!(with("status", json!("4")).is_err());
        assert!(with("codePin", json!(12.5)).is_err());
        let set = |name: &str| {
            format!(r#"{{"Attributes": {{"id": {{"N": "3"}}, "{name}": {{"SS": ["a"]}}}}}}"#)
        };
        assert!(read(set("description").as_bytes()).is_err());
        // A set the record does not read is skipped.
        assert_eq!(read(set("tags").as_bytes()).expect("the item").id, Some(3));
        assert!(read(br#"{"Attributes": {"id": {"N": "3", "S": "3"}}}"#).is_err());
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
            if null_archived { v["archivedAt"] = Value::Null; }
            let ours = read(&answer(&v)).expect("the item");
            prop_assert_eq!(ours, theirs(v));
        }
    }
}
