//! The chit-chat conversations (the `chitchat-dataset` package) in file
//! order, as chats: the benchmark workload ("the first 20,000 messages") and
//! the source of the moments test sets.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

/// Conversation id and its JSON, in the order the file lists them.
pub struct OrderedConversations(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for OrderedConversations {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedConversations;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of conversations")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(OrderedConversations(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses the dataset keeping the file's order.
pub fn read_ordered(bytes: &[u8]) -> Result<OrderedConversations, serde_json::Error> {
    serde_json::from_slice(bytes)
}
