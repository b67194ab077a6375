//! The chit-chat conversations (the `chitchat-dataset` package) in file
//! order, as chats: the benchmark workload ("the first 20,000 messages") and
//! the source of the moments test sets.

use std::fmt;

use anyhow::Context;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::setup;
use crate::transcript::{Channel, Conversation, Role, Turn};

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

/// The conversations, in file order, up to the one that brings the count of
/// messages to `messages`; the rest of the file is only checked to be JSON,
/// not built into values (most of the 40 MB file, for the benchmark's
/// 20,000 messages, which would otherwise be a fixed cost every core waits
/// for).
struct FirstConversations {
    messages: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for FirstConversations {
    type Value = OrderedConversations;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FirstConversations {
    type Value = OrderedConversations;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of conversations")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let mut seen = 0;
        while seen < self.messages {
            let Some((k, v)) = map.next_entry::<String, Value>()? else {
                break;
            };
            seen += blocks(&v).iter().map(Vec::len).sum::<usize>();
            out.push((k, v));
        }
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(OrderedConversations(out))
    }
}

/// The first conversations holding `messages` messages (the last one
/// whole), in file order; the rest of the file must still be valid JSON.
pub fn read_first(
    bytes: &[u8],
    messages: usize,
) -> Result<OrderedConversations, serde_json::Error> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let first =
        serde::de::DeserializeSeed::deserialize(FirstConversations { messages }, &mut json)?;
    json.end()?;
    Ok(first)
}

/// Parses the dataset keeping the file's order.
pub fn read_ordered(bytes: &[u8]) -> Result<OrderedConversations, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// One chit-chat conversation: (sender, text, epoch ms) per message.
pub type Messages = Vec<(String, String, Option<i64>)>;

/// Every message of a conversation, in order.
pub fn messages(conv: &Value) -> Messages {
    blocks(conv).into_iter().flatten().collect()
}

/// The conversation's turns: each participant's consecutive messages joined
/// one per line, timed by the first. A block whose messages name different
/// senders (the dataset has none) stays split by message.
pub fn turns(conv: &Value) -> Messages {
    let mut out = Vec::new();
    for block in blocks(conv) {
        let Some((sender, _, ms)) = block.first().cloned() else {
            continue;
        };
        if block.iter().any(|m| m.0 != sender) {
            out.extend(block);
            continue;
        }
        let text: Vec<&str> = block.iter().map(|m| m.1.as_str()).collect();
        out.push((sender, text.join("\n"), ms));
    }
    out
}

fn blocks(conv: &Value) -> Vec<Messages> {
    let mut out = Vec::new();
    for block in conv["messages"].as_array().into_iter().flatten() {
        let mut msgs = Vec::new();
        for m in block.as_array().into_iter().flatten() {
            let (Some(sender), Some(text)) = (m["sender"].as_str(), m["text"].as_str()) else {
                continue;
            };
            let ms = m["timestamp"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|d| d.timestamp_millis());
            msgs.push((sender.to_string(), text.to_string(), ms));
        }
        out.push(msgs);
    }
    out
}

/// A chat with `customer` as the customer and the other participant as the agent.
pub fn chat(id: String, msgs: &Messages, customer: &str) -> Conversation {
    let first = msgs.iter().filter_map(|m| m.2).min();
    Conversation {
        id,
        source: "chitchat-dataset".into(),
        format: "chitchat".into(),
        channel: Channel::Chat,
        turns: msgs
            .iter()
            .map(|(sender, text, ms)| Turn {
                speaker: if sender == customer {
                    "customer"
                } else {
                    "agent"
                }
                .into(),
                role: if sender == customer {
                    Role::Customer
                } else {
                    Role::Agent
                },
                role_inferred: false,
                start_ms: ms.zip(first).map(|(m, f)| (m - f).max(0) as u64),
                end_ms: None,
                wall_clock_ms: *ms,
                text: text.clone(),
            })
            .collect(),
        meta: Default::default(),
    }
}

/// The participants, in the order they first speak.
pub fn senders(msgs: &Messages) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (s, _, _) in msgs {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

/// Messages `skip..skip + n` of the chit-chat conversations (see
/// [`message_slice`]), each conversation a chat whose second speaker is the
/// customer: `calltone bench`'s default workload (`skip` 0).
pub fn first_messages(skip: usize, n: usize) -> anyhow::Result<Vec<Conversation>> {
    let dir = setup::ensure(&setup::CHITCHAT, &mut std::io::stderr())?;
    let path = dir.join("dataset.json");
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let all =
        read_first(&bytes, skip + n).with_context(|| format!("{} is not JSON", path.display()))?;
    let out = message_slice(&all.0, skip, n)
        .into_iter()
        .map(|(id, msgs)| {
            let who = senders(&msgs);
            let customer = who.get(1).or(who.first()).cloned().unwrap_or_default();
            chat(id, &msgs, &customer)
        })
        .collect();
    Ok(out)
}

/// Messages `skip..skip + n` of the conversations, in file order, each
/// with its conversation's id: a conversation the slice cuts keeps the
/// part inside it. `skip` gives a slice the speed work was not tuned on
/// (`bench --skip-messages`).
fn message_slice(all: &[(String, Value)], skip: usize, n: usize) -> Vec<(String, Messages)> {
    let (mut to_skip, mut left) = (skip, n);
    let mut out = Vec::new();
    for (id, conv) in all {
        if left == 0 {
            break;
        }
        let mut msgs = messages(conv);
        let skipped = to_skip.min(msgs.len());
        msgs.drain(..skipped);
        to_skip -= skipped;
        msgs.truncate(left);
        left -= msgs.len();
        if !msgs.is_empty() {
            out.push((id.clone(), msgs));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: &str = r#"{
        "c1": {"messages": [[{"sender": "a", "text": "hi"}, {"sender": "a", "text": "there"}],
                            [{"sender": "b", "text": "hello"}]]},
        "c0": {"messages": [[{"sender": "b", "text": "one"}], [{"sender": "a", "text": "two"}]]},
        "c2": {"messages": [[{"sender": "a", "text": "late"}]]}
    }"#;

    /// Reading stops at the conversation that reaches the count (kept
    /// whole, in file order), and gives what reading everything gives.
    #[test]
    fn reading_the_first_messages_keeps_order_and_matches_a_full_read() {
        let all = read_ordered(THREE.as_bytes()).unwrap().0;
        for (wanted, ids) in [
            (1, vec!["c1"]),
            (3, vec!["c1"]),
            (4, vec!["c1", "c0"]),
            (99, vec!["c1", "c0", "c2"]),
        ] {
            let first = read_first(THREE.as_bytes(), wanted).unwrap().0;
            let got: Vec<&str> = first.iter().map(|(id, _)| id.as_str()).collect();
            assert_eq!(got, ids, "{wanted} messages");
            assert_eq!(first[..], all[..first.len()], "{wanted} messages");
        }
    }

    /// A slice starts and ends inside conversations, keeps their ids and
    /// order, and holds exactly the messages asked for.
    #[test]
    fn a_message_slice_cuts_conversations_where_it_starts_and_ends() {
        let all = read_ordered(THREE.as_bytes()).unwrap().0;
        let texts = |skip, n| -> Vec<(String, Vec<String>)> {
            message_slice(&all, skip, n)
                .into_iter()
                .map(|(id, m)| (id, m.into_iter().map(|(_, t, _)| t).collect()))
                .collect()
        };
        let owned = |v: &[(&str, &[&str])]| -> Vec<(String, Vec<String>)> {
            v.iter()
                .map(|(id, t)| (id.to_string(), t.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        assert_eq!(texts(0, 2), owned(&[("c1", &["hi", "there"])]));
        assert_eq!(
            texts(2, 3),
            owned(&[("c1", &["hello"]), ("c0", &["one", "two"])])
        );
        assert_eq!(
            texts(3, 99),
            owned(&[("c0", &["one", "two"]), ("c2", &["late"])])
        );
        assert_eq!(texts(6, 5), owned(&[]));
    }

    /// The part of the file that is skipped must still be JSON: a broken
    /// file is named as broken, not silently cut short.
    #[test]
    fn a_broken_file_is_an_error_even_past_the_messages_wanted() {
        let broken = THREE.replace(r#""late"}]]}"#, r#""late"}]]"#);
        assert!(read_first(broken.as_bytes(), 1).is_err());
        assert!(read_first(format!("{THREE} trailing").as_bytes(), 1).is_err());
    }
}
