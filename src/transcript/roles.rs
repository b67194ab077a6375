//! Speaker roles when the transcript does not state them.
//!
//! In order: the user's `--agent` / `--customer` labels; a speaker name that
//! says what it is ("Agent", "Customer", "IVR", …); then the script heuristic:
//! the speaker whose early turns greet with the company script ("thank you for
//! calling", "how can I help") is the agent; failing that, on stereo calls,
//! channel 0. In a two-party conversation the other speaker is then the
//! customer. Anything decided by name or heuristic
//! is marked `role_inferred`; names count as explicit.

use super::{Role, RoleHints, Turn};

/// A role implied by a speaker label alone.
pub fn role_from_label(label: &str) -> Option<Role> {
    let l = label.trim().to_ascii_lowercase();
    let words: Vec<&str> = l
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    if has(&["bot", "ivr", "virtual", "system", "automated", "assistant"]) {
        Some(Role::Bot)
    } else if has(&[
        "agent",
        "rep",
        "representative",
        "advisor",
        "adviser",
        "operator",
        "support",
        "csr",
        "admin",
        "staff",
    ]) {
        Some(Role::Agent)
    } else if has(&[
        "customer", "caller", "client", "user", "visitor", "member", "guest", "consumer",
        "end_user",
    ]) {
        Some(Role::Customer)
    } else {
        None
    }
}

/// Phrases of the agent's opening script, with weights: the greeting and the
/// offer of help are strong; "my name is" is weak, since callers say it too.
/// Chat openings ("thanks for contacting", "thanks for reaching out") count
/// like a call's greeting.
const SCRIPT_CUES: [(&str, usize); 19] = [
    ("thank you for calling", 3),
    ("thanks for calling", 3),
    ("thank you for contacting", 3),
    ("thanks for contacting", 3),
    ("thank you for reaching out", 3),
    ("thanks for reaching out", 3),
    ("how can i help", 3),
    ("how may i help", 3),
    ("how may i assist", 3),
    ("how can i assist", 3),
    ("how can we help", 3),
    ("what can i do for you", 3),
    ("you've reached", 2),
    ("you're speaking with", 2),
    ("my pleasure to", 2),
    ("welcome to", 2),
    ("how may i direct", 2),
    ("speaking with", 1),
    ("my name is", 1),
];

fn script_score(text: &str) -> usize {
    let t = text.to_lowercase();
    SCRIPT_CUES
        .iter()
        .filter(|(c, _)| t.contains(*c))
        .map(|(_, w)| w)
        .sum()
}

/// Fills in roles for turns whose role is `Unknown` (or overridden by hints).
pub fn assign_roles(turns: &mut [Turn], hints: &RoleHints) {
    let matches = |list: &[String], s: &str| list.iter().any(|h| h.eq_ignore_ascii_case(s.trim()));
    for t in turns.iter_mut() {
        if matches(&hints.agent, &t.speaker) {
            t.role = Role::Agent;
            t.role_inferred = false;
        } else if matches(&hints.customer, &t.speaker) {
            t.role = Role::Customer;
            t.role_inferred = false;
        }
    }
    if turns.iter().all(|t| t.role != Role::Unknown) {
        return;
    }
    // Speakers in order of first appearance.
    let mut speakers: Vec<String> = Vec::new();
    for t in turns.iter() {
        if !speakers.contains(&t.speaker) {
            speakers.push(t.speaker.clone());
        }
    }
    let known = |s: &str, turns: &[Turn]| {
        turns
            .iter()
            .find(|t| t.speaker == s && t.role != Role::Unknown)
            .map(|t| t.role)
    };
    let mut decided: Vec<(String, Role)> = Vec::new();
    let has_agent = turns.iter().any(|t| t.role == Role::Agent);
    let has_customer = turns.iter().any(|t| t.role == Role::Customer);
    let unknown: Vec<String> = speakers
        .iter()
        .filter(|s| known(s, turns).is_none())
        .cloned()
        .collect();
    if !has_agent {
        // The speaker with the most script cues in their first three turns;
        // on a tie, whoever spoke first (agents open calls).
        let best = unknown
            .iter()
            .enumerate()
            .map(|(order, s)| {
                let score: usize = turns
                    .iter()
                    .filter(|t| &t.speaker == s)
                    .take(3)
                    .map(|t| script_score(&t.text))
                    .sum();
                (score, std::cmp::Reverse(order), s)
            })
            .filter(|(score, _, _)| *score > 0)
            .max_by_key(|(score, order, _)| (*score, *order));
        if let Some((_, _, s)) = best {
            decided.push((s.clone(), Role::Agent));
        }
    }
    if !has_agent && decided.is_empty() {
        // Stereo recordings put the agent on channel 0.
        let ch0 = unknown.iter().find(|s| {
            matches!(
                s.to_ascii_lowercase().as_str(),
                "ch_0" | "channel 0" | "channel_0"
            )
        });
        if let Some(ch0) = ch0 {
            decided.push((ch0.clone(), Role::Agent));
        }
    }
    let agent_found = has_agent || !decided.is_empty();
    let rest: Vec<&String> = unknown
        .iter()
        .filter(|s| !decided.iter().any(|(d, _)| d == *s))
        .collect();
    if agent_found && !has_customer && rest.len() == 1 {
        decided.push((rest[0].clone(), Role::Customer));
    } else if !agent_found && has_customer && rest.len() == 1 {
        decided.push((rest[0].clone(), Role::Agent));
    }
    for t in turns.iter_mut() {
        if t.role == Role::Unknown {
            if let Some((_, r)) = decided.iter().find(|(s, _)| *s == t.speaker) {
                t.role = *r;
                t.role_inferred = true;
            }
        }
    }
}

/// Speaker labels that only say "a speaker" (spk_0, SPEAKER_01, ch_1, user 2,
/// Agent) rather than name a person.
fn is_generic_label(label: &str) -> bool {
    let l = label.trim().to_ascii_lowercase();
    let bare = [
        "agent", "customer", "caller", "internal", "external", "unknown", "speaker", "admin",
        "bot", "ivr", "system",
    ];
    bare.contains(&l.as_str())
        || ["spk_", "ch_", "speaker", "channel", "user "]
            .iter()
            .any(|p| l.starts_with(p))
        || l.chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
}

/// `agent_name`: the agent's own name where the transcript gives one.
pub fn agent_meta(turns: &[Turn]) -> std::collections::BTreeMap<String, String> {
    let mut meta = std::collections::BTreeMap::new();
    if let Some(t) = turns
        .iter()
        .find(|t| t.role == Role::Agent && !is_generic_label(&t.speaker))
    {
        meta.insert("agent_name".to_string(), t.speaker.clone());
    }
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(s: &str, text: &str) -> Turn {
        Turn {
            speaker: s.into(),
            role: role_from_label(s).unwrap_or(Role::Unknown),
            role_inferred: false,
            wall_clock_ms: None,
            start_ms: None,
            end_ms: None,
            text: text.into(),
        }
    }

    #[test]
    fn labels_say_roles() {
        assert_eq!(role_from_label("Agent (Maria)"), Some(Role::Agent));
        assert_eq!(role_from_label("CUSTOMER"), Some(Role::Customer));
        assert_eq!(role_from_label("IVR"), Some(Role::Bot));
        assert_eq!(role_from_label("spk_0"), None);
    }

    #[test]
    fn script_heuristic_finds_the_agent_and_the_other_is_customer() {
        let mut t = vec![
            turn("spk_1", "Hello?"),
            turn(
                "spk_0",
                "Thank you for calling Acme, my name is Jo. How can I help?",
            ),
            turn("spk_1", "My router is broken."),
        ];
        assign_roles(&mut t, &RoleHints::default());
        assert_eq!(t[1].role, Role::Agent);
        assert_eq!(t[0].role, Role::Customer);
        assert!(t[0].role_inferred && t[1].role_inferred);
    }

    #[test]
    fn a_caller_giving_their_name_is_not_the_agent() {
        let mut t = vec![
            turn(
                "A",
                "Thank you for calling. It's my pleasure to help you today.",
            ),
            turn("B", "Well, my name is Daren and my number is 555."),
        ];
        assign_roles(&mut t, &RoleHints::default());
        assert_eq!((t[0].role, t[1].role), (Role::Agent, Role::Customer));
    }

    #[test]
    fn hints_override_and_are_not_inferred() {
        let mut t = vec![turn("A", "hi"), turn("B", "hello")];
        let hints = RoleHints {
            agent: vec!["b".into()],
            customer: vec![],
        };
        assign_roles(&mut t, &hints);
        assert_eq!(t[1].role, Role::Agent);
        assert!(!t[1].role_inferred);
        assert_eq!(t[0].role, Role::Customer);
        assert!(t[0].role_inferred);
    }

    #[test]
    fn a_chat_opening_marks_the_agent() {
        let mut t = vec![
            turn("Sam", "Hi, I was charged twice this month."),
            turn(
                "Lee",
                "Thanks for reaching out to Acme Energy! Let me look.",
            ),
            turn("Sam", "ok"),
        ];
        assign_roles(&mut t, &RoleHints::default());
        assert_eq!((t[0].role, t[1].role), (Role::Customer, Role::Agent));
        assert!(t[0].role_inferred && t[1].role_inferred);
    }

    #[test]
    fn no_cue_leaves_unknown() {
        let mut t = vec![turn("A", "hi"), turn("B", "hello")];
        assign_roles(&mut t, &RoleHints::default());
        assert!(t.iter().all(|x| x.role == Role::Unknown));
    }
}
