//! Test sets for the moments analysis, built from the data the setup step
//! fetches (nothing hand-picked):
//!
//! - **calm**: real human chit-chat (the chit-chat dataset's conversations),
//!   each read twice, once with either participant as the customer. Any
//!   moment of severity frustrated or above there is a false alarm.
//! - **angry**: other chit-chat conversations whose customer turns, from a
//!   random customer turn on, are replaced for 3–5 turns by strongly negative
//!   human-rated sentences (VADER dev split, rating ≤ −2, never trained on).
//!   The moment should be found, starting within one turn of the first.
//!
//! A "turn" is what the dataset calls one: a participant's consecutive
//! messages until the other replies (its `messages` blocks), joined one
//! message per line, as a call transcript holds a speaker's turn. `Unit::Message`
//! reads every message as a turn instead, the finer unit of some chat exports;
//! the README gives the numbers for both.
//!
//! Conversation ids carry the truth: `calm/<id>/<a|b>` and
//! `angry/<id>/<first angry turn>-<last angry turn>`, so saved results can be
//! measured again (`calltone eval --moments --results FILE`).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::chitchat::{chat, messages, senders, turns, Messages};
use super::parts::Part;
use crate::transcript::Conversation;

/// Ratings at or below this are "strongly negative" (as in the eval's AUC).
pub const ANGRY_RATING: f32 = -2.0;

pub struct MomentSets {
    pub calm: Vec<Conversation>,
    pub angry: Vec<Conversation>,
}

/// What the sets read as one customer or agent turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unit {
    /// A participant's consecutive messages, as the dataset groups them.
    Turn,
    /// Every message on its own.
    Message,
}

fn units(conv: &Value, unit: Unit) -> Messages {
    match unit {
        Unit::Turn => turns(conv),
        Unit::Message => messages(conv),
    }
}

/// What to build: how many conversations, from which part, drawn how.
#[derive(Debug, Clone, Copy)]
pub struct SetSpec {
    /// Calm conversations (each read in both orientations).
    pub calm: usize,
    pub angry: usize,
    pub seed: u64,
    pub unit: Unit,
    /// Only this part's conversations and angry sentences are used.
    pub part: Part,
}

/// Builds the calm and angry sets of `spec`, deterministically from its seed.
pub fn build_sets(
    chitchat: &Value,
    negatives: &[String],
    spec: &SetSpec,
) -> Result<MomentSets, String> {
    let SetSpec {
        calm: calm_n,
        angry: angry_n,
        seed,
        unit,
        part,
    } = *spec;
    let obj = chitchat
        .as_object()
        .ok_or("the chit-chat data is not a JSON object of conversations")?;
    let negatives: Vec<&String> = negatives
        .iter()
        .filter(|s| Part::of_sentence(s) == part)
        .collect();
    if negatives.is_empty() {
        return Err(format!(
            "no strongly negative sentences in the {} part to build angry conversations from",
            part.name()
        ));
    }
    let mut ids: Vec<&String> = obj
        .keys()
        .filter(|id| Part::of_conversation(id) == part)
        .collect();
    ids.sort();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    ids.shuffle(&mut rng);
    // Disjoint halves: calm conversations never reappear as angry ones.
    let (calm_ids, angry_ids) = ids.split_at(ids.len() / 2);

    let mut calm = Vec::new();
    for id in calm_ids {
        if calm.len() >= 2 * calm_n {
            break;
        }
        let msgs = units(&obj[*id], unit);
        let who = senders(&msgs);
        if who.len() != 2 || msgs.len() < 4 {
            continue;
        }
        calm.push(chat(format!("calm/{id}/a"), &msgs, &who[1]));
        calm.push(chat(format!("calm/{id}/b"), &msgs, &who[0]));
    }

    let mut pool = negatives;
    pool.shuffle(&mut rng);
    let mut next_negative = pool.iter().cycle();
    let mut angry = Vec::new();
    for id in angry_ids {
        if angry.len() >= angry_n {
            break;
        }
        let msgs = units(&obj[*id], unit);
        let who = senders(&msgs);
        if who.len() != 2 {
            continue;
        }
        let customer = &who[1];
        let customer_at: Vec<usize> = (0..msgs.len())
            .filter(|&i| &msgs[i].0 == customer)
            .collect();
        let span = rng.random_range(3..=5usize);
        if customer_at.len() < 2 + span {
            continue;
        }
        let first = rng.random_range(2..=customer_at.len() - span);
        let mut conv = chat(String::new(), &msgs, customer);
        for &i in &customer_at[first..first + span] {
            conv.turns[i].text = next_negative.next().expect("cycle").to_string();
        }
        let (a, b) = (customer_at[first], customer_at[first + span - 1]);
        conv.id = format!("angry/{id}/{a}-{b}");
        angry.push(conv);
    }
    Ok(MomentSets { calm, angry })
}

/// What an id says about a conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    Calm { conversation: String },
    Angry { first_turn: usize, last_turn: usize },
}

pub fn truth_of(id: &str) -> Option<Truth> {
    let mut parts = id.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("calm"), Some(c), Some(_)) => Some(Truth::Calm {
            conversation: c.to_string(),
        }),
        (Some("angry"), Some(_), Some(span)) => {
            let (a, b) = span.split_once('-')?;
            Some(Truth::Angry {
                first_turn: a.parse().ok()?,
                last_turn: b.parse().ok()?,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Role;

    /// 40 conversations of 16 turns, alternating senders; every third turn
    /// is two messages.
    fn data() -> Value {
        let conv = |n: usize| {
            let blocks: Vec<Value> = (0..n)
                .map(|i| {
                    let sender = if i % 2 == 0 { "s1" } else { "s2" };
                    let msg = |k: usize| {
                        serde_json::json!({"text": format!("message {i}.{k}"),
                        "sender": sender, "timestamp": format!("2018-05-02T19:{:02}:{:02}Z", i, k)})
                    };
                    let msgs: Vec<Value> = (0..1 + usize::from(i % 3 == 0)).map(msg).collect();
                    Value::Array(msgs)
                })
                .collect();
            serde_json::json!({ "messages": blocks })
        };
        let mut m = serde_json::Map::new();
        for i in 0..40 {
            m.insert(format!("c{i:02}"), conv(16));
        }
        Value::Object(m)
    }

    #[test]
    fn a_turn_joins_one_senders_messages_and_keeps_the_first_time() {
        let d = data();
        let conv = &d["c00"];
        let t = turns(conv);
        let m = messages(conv);
        assert_eq!((t.len(), m.len()), (16, 22));
        assert_eq!(t[0].1, "message 0.0\nmessage 0.1");
        assert_eq!(t[1].1, "message 1.0");
        assert_eq!(t[0].2, m[0].2);
        assert!(t.windows(2).all(|w| w[0].0 != w[1].0), "senders alternate");
        // A block that mixes senders stays one turn per message.
        let mixed = serde_json::json!({"messages": [[
            {"text": "a", "sender": "x"}, {"text": "b", "sender": "y"}]]});
        assert_eq!(turns(&mixed).len(), 2);
    }

    #[test]
    fn sets_are_disjoint_deterministic_and_carry_their_truth() {
        let neg: Vec<String> = [
            "awful",
            "terrible",
            "the worst",
            "disgusting",
            "never again",
            "rubbish",
        ]
        .map(String::from)
        .to_vec();
        let spec = |part, unit| SetSpec {
            calm: 5,
            angry: 6,
            seed: 7,
            unit,
            part,
        };
        let s = build_sets(&data(), &neg, &spec(Part::Test, Unit::Turn)).unwrap();
        // The tuning part shares no conversation and no angry sentence with it.
        let tuning = build_sets(&data(), &neg, &spec(Part::Tuning, Unit::Turn)).unwrap();
        let conversation = |id: &str| id.split('/').nth(1).unwrap().to_string();
        let test_convs: Vec<String> = s
            .calm
            .iter()
            .chain(&s.angry)
            .map(|c| conversation(&c.id))
            .collect();
        assert!(tuning
            .calm
            .iter()
            .chain(&tuning.angry)
            .all(|c| !test_convs.contains(&conversation(&c.id))));
        let sentences = |sets: &MomentSets| -> Vec<String> {
            sets.angry
                .iter()
                .flat_map(|c| c.turns.iter().map(|t| t.text.clone()))
                .filter(|t| neg.contains(t))
                .collect()
        };
        let test_sentences = sentences(&s);
        assert!(!test_sentences.is_empty());
        assert!(sentences(&tuning)
            .iter()
            .all(|t| !test_sentences.contains(t)));
        assert_eq!((s.calm.len(), s.angry.len()), (10, 6));
        let calm_ids: Vec<String> = s
            .calm
            .iter()
            .map(|c| c.id.split('/').nth(1).unwrap().to_string())
            .collect();
        for a in &s.angry {
            let Some(Truth::Angry {
                first_turn,
                last_turn,
            }) = truth_of(&a.id)
            else {
                panic!("{}", a.id)
            };
            assert!(!calm_ids.contains(&a.id.split('/').nth(1).unwrap().to_string()));
            let replaced: Vec<usize> = (0..a.turns.len())
                .filter(|&i| neg.contains(&a.turns[i].text))
                .collect();
            assert_eq!(replaced.first(), Some(&first_turn));
            assert_eq!(replaced.last(), Some(&last_turn));
            assert!((3..=5).contains(&replaced.len()));
            assert!(replaced.iter().all(|&i| a.turns[i].role == Role::Customer));
        }
        let again = build_sets(&data(), &neg, &spec(Part::Test, Unit::Turn)).unwrap();
        assert_eq!(again.angry[0].id, s.angry[0].id);
        // Both orientations of a calm conversation.
        assert_eq!(s.calm[0].turns[0].role, Role::Agent);
        assert_eq!(s.calm[1].turns[0].role, Role::Customer);
        assert_eq!(s.calm[0].turns[1].start_ms, Some(60_000));
        assert_eq!(s.calm[0].turns.len(), 16);
        // Read by message, the same conversations have more, shorter turns.
        let by_message = build_sets(&data(), &neg, &spec(Part::Test, Unit::Message)).unwrap();
        assert_eq!(by_message.calm[0].turns.len(), 22);
        assert!(by_message.calm[0]
            .turns
            .iter()
            .all(|t| !t.text.contains('\n')));
    }
}
