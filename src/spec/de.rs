//! A serde deserializer over [`Node`]s: typed sections of the spec are read with serde, and
//! every error carries the position of the node it is about.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::yaml::{Node, NodeKind, Position};

/// A deserialization error and the position of the innermost node it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError {
    pub message: String,
    pub position: Option<Position>,
}

impl DeError {
    /// Sets the position unless an inner node already did.
    fn at(mut self, position: Position) -> Self {
        self.position.get_or_insert(position);
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self {
            message: message.to_string(),
            position: None,
        }
    }

    fn invalid_type(unexpected: de::Unexpected, expected: &dyn de::Expected) -> Self {
        let found = match unexpected {
            de::Unexpected::Str(value) => format!("the string `{value}`"),
            de::Unexpected::Seq => "a list".to_owned(),
            de::Unexpected::Map => "a mapping".to_owned(),
            de::Unexpected::Unit => "nothing".to_owned(),
            other => other.to_string(),
        };
        Self::custom(format_args!(
            "expected {}, found {found}",
            plain_expected(&expected.to_string())
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut message = format!("unknown key `{field}`");
        if let Some(nearest) = super::suggest::nearest(field, expected) {
            message.push_str(&format!(", did you mean `{nearest}`?"));
        } else {
            message.push_str(&format!("; known keys: {}", expected.join(", ")));
        }
        Self::custom(message)
    }
}

/// Rewrites serde's names of expected types in the words of YAML: `struct X` and `a map`
/// are a mapping, `a sequence` is a list.
fn plain_expected(expected: &str) -> String {
    if expected.starts_with("struct ") || expected == "a map" {
        "a mapping".to_owned()
    } else if expected == "a sequence" {
        "a list".to_owned()
    } else {
        expected.to_owned()
    }
}

/// Deserializes a `T` from a node.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(NodeDeserializer(node))
}

pub struct NodeDeserializer<'a>(pub &'a Node);

impl<'de> NodeDeserializer<'de> {
    fn scalar(&self) -> Option<(&'de str, bool)> {
        match &self.0.kind {
            NodeKind::Scalar { value, plain } => Some((value.as_str(), *plain)),
            _ => None,
        }
    }

    fn unexpected(&self) -> de::Unexpected<'de> {
        match &self.0.kind {
            NodeKind::Scalar { value, .. } => de::Unexpected::Str(value),
            NodeKind::Sequence(_) => de::Unexpected::Seq,
            NodeKind::Mapping(_) => de::Unexpected::Map,
        }
    }

    fn any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.0.kind {
            NodeKind::Scalar { .. } if self.0.is_null() => visitor.visit_unit(),
            NodeKind::Scalar { value, .. } => visitor.visit_borrowed_str(value),
            NodeKind::Sequence(items) => visitor.visit_seq(Items(items.iter())),
            NodeKind::Mapping(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
                seen: Vec::new(),
            }),
        }
    }
}

macro_rules! parse_scalar {
    ($method:ident, $visit:ident, $type:ty, $name:literal) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let position = self.0.start;
            let parsed = self
                .scalar()
                .filter(|(_, plain)| *plain)
                .and_then(|(text, _)| text.parse::<$type>().ok());
            match parsed {
                Some(value) => visitor.$visit(value),
                None => Err(de::Error::invalid_type(self.unexpected(), &$name)),
            }
            .map_err(|e: DeError| e.at(position))
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let position = self.0.start;
        self.any(visitor).map_err(|e| e.at(position))
    }

    /// Any scalar reads as a string, as conda reads `python: 3.12` values.
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let position = self.0.start;
        match self.scalar() {
            Some((value, _)) if !self.0.is_null() => visitor.visit_borrowed_str(value),
            _ => Err(de::Error::invalid_type(
                self.unexpected_or_null(),
                &"a string",
            )),
        }
        .map_err(|e: DeError| e.at(position))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let position = self.0.start;
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
        .map_err(|e| e.at(position))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let position = self.0.start;
        match &self.0.kind {
            NodeKind::Sequence(items) => visitor.visit_seq(Items(items.iter())),
            _ => Err(de::Error::invalid_type(
                self.unexpected_or_null(),
                &"a list",
            )),
        }
        .map_err(|e| e.at(position))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let position = self.0.start;
        match &self.0.kind {
            NodeKind::Mapping(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
                seen: Vec::new(),
            }),
            _ => Err(de::Error::invalid_type(
                self.unexpected_or_null(),
                &"a mapping",
            )),
        }
        .map_err(|e| e.at(position))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let position = self.0.start;
        match self.scalar() {
            Some((value, _)) => visitor.visit_enum(value.into_deserializer()),
            None => Err(de::Error::invalid_type(self.unexpected(), &"a string")),
        }
        .map_err(|e: DeError| e.at(position))
    }

    parse_scalar!(deserialize_bool, visit_bool, bool, "true or false");
    parse_scalar!(deserialize_u16, visit_u16, u16, "a number from 0 to 65535");
    parse_scalar!(deserialize_u32, visit_u32, u32, "a non-negative number");
    parse_scalar!(deserialize_u64, visit_u64, u64, "a non-negative number");
    parse_scalar!(deserialize_i64, visit_i64, i64, "a number");

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u128 f32 f64 char bytes byte_buf unit unit_struct newtype_struct
        tuple tuple_struct ignored_any
    }
}

impl<'de> NodeDeserializer<'de> {
    fn unexpected_or_null(&self) -> de::Unexpected<'de> {
        if self.0.is_null() {
            de::Unexpected::Unit
        } else {
            self.unexpected()
        }
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> SeqAccess<'de> for Items<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.0.next() {
            Some(node) => seed
                .deserialize(NodeDeserializer(node))
                .map(Some)
                .map_err(|e| e.at(node.start)),
            None => Ok(None),
        }
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
    /// Keys read so far and their lines, to reject a key given twice.
    seen: Vec<(&'a str, u32)>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((key, value)) => {
                if let Some(name) = key.as_scalar() {
                    if let Some((_, line)) = self.seen.iter().find(|(seen, _)| *seen == name) {
                        let message = format!("duplicate key `{name}`, first given on line {line}");
                        return Err(<DeError as de::Error>::custom(message).at(key.start));
                    }
                    self.seen.push((name, key.start.line));
                }
                self.value = Some(value);
                seed.deserialize(NodeDeserializer(key))
                    .map(Some)
                    .map_err(|e| e.at(key.start))
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let node = self
            .value
            .take()
            .expect("serde asks for a value after its key");
        seed.deserialize(NodeDeserializer(node))
            .map_err(|e| e.at(node.start))
    }
}
