//! Rules files on hand-built calls: every condition kind, windows, scales,
//! the combinators, settings overrides, and errors that name the category.

use calltone::analysis::{analyse_call, Cue, Rules, Severity, TurnScore};
use calltone::model::Polarity;
use calltone::transcript::{Channel, Role, Turn};

fn turn(role: Role, start_s: u64, end_s: u64, text: &str) -> Turn {
    Turn {
        speaker: role.as_str().into(),
        role,
        role_inferred: false,
        start_ms: Some(start_s * 1000),
        end_ms: Some(end_s * 1000),
        wall_clock_ms: None,
        text: text.into(),
    }
}

fn score(s: f32) -> Option<TurnScore> {
    Some(TurnScore {
        label: Polarity::Neutral,
        negative: (-s).max(0.0),
        neutral: 1.0 - s.abs(),
        positive: s.max(0.0),
        score: s,
        intensity: s * 0.6,
        windows: 1,
    })
}

/// A voice call: calm start, the customer interrupts twice and gets angry
/// mid-call, a 20 s silence, then a calm end.
fn call() -> (Vec<Turn>, Vec<Option<TurnScore>>) {
    use Role::*;
    let turns = vec![
        turn(Agent, 0, 4, "Thanks for calling, how can I help?"),
        turn(
            Customer,
            5,
            10,
            "Hi, my router keeps dropping the connection.",
        ),
        turn(Agent, 11, 20, "Let me run a line test for you now."),
        turn(
            Customer,
            18,
            25,
            "This is the third time I'm calling about this!",
        ),
        turn(Agent, 26, 30, "I understand, the test shows a fault."),
        turn(Customer, 29, 36, "I want to speak to your manager."),
        turn(Agent, 56, 60, "An engineer will visit tomorrow."),
        turn(Customer, 61, 64, "Okay, thank you for sorting it."),
    ];
    let scores = vec![
        score(0.6),
        score(-0.3),
        score(0.2),
        score(-0.9),
        score(0.0),
        score(-0.8),
        score(0.4),
        score(0.7),
    ];
    (turns, scores)
}

fn categories(toml: &str) -> Vec<(String, Vec<usize>)> {
    let rules = Rules::from_toml(toml).unwrap_or_else(|e| panic!("{e}"));
    let (turns, scores) = call();
    analyse_call(&turns, &scores, Channel::Voice, &rules)
        .categories
        .into_iter()
        .map(|c| (c.name, c.turns))
        .collect()
}

fn names(toml: &str) -> Vec<String> {
    categories(toml).into_iter().map(|c| c.0).collect()
}

#[test]
fn phrases_exact_and_pattern_with_role_and_window() {
    let got = categories(
        r#"
[[category]]
name = "manager"
when = { phrase = { text = ["speak to your   MANAGER", "supervisor"], role = "customer" } }

[[category]]
name = "agent said manager"
when = { phrase = { text = "manager", role = "agent" } }

[[category]]
name = "repeat call"
when = { phrase = { text = 'third time I.m calling', match = "pattern" } }

[[category]]
name = "thanks at the end"
when = { phrase = { text = "thank you", role = "customer", last_turns = 1 } }

[[category]]
name = "thanks at the start"
when = { phrase = { text = "thank you", role = "customer", first_seconds = 30 } }

[[category]]
name = "partial word"
when = { phrase = { text = "rout" } }
"#,
    );
    assert_eq!(
        got,
        vec![
            ("manager".to_string(), vec![5]),
            ("repeat call".to_string(), vec![3]),
            ("thanks at the end".to_string(), vec![7]),
        ]
    );
}

#[test]
fn sentiment_over_windows_and_scales() {
    let got = names(
        r#"
[[category]]
name = "customer negative overall"
when = { sentiment = { role = "customer", below = -0.3 } }

[[category]]
name = "customer ended positive"
when = { sentiment = { role = "customer", last_turns = 1, above = 50, scale = 100 } }

[[category]]
name = "customer negative in the first 40 s"
when = { sentiment = { role = "customer", first_seconds = 40, below = -3, scale = 5 } }

[[category]]
name = "agent negative"
when = { sentiment = { role = "agent", below = 0 } }
"#,
    );
    // Customer mean is (-0.3 - 0.9 - 0.8 + 0.7) / 4 = -0.325; last turn 0.7;
    // first 40 s: (-0.3 - 0.9 - 0.8) / 3 = -0.667 < -3/5.
    assert_eq!(
        names_sorted(got),
        names_sorted(vec![
            "customer negative overall".into(),
            "customer ended positive".into(),
            "customer negative in the first 40 s".into(),
        ])
    );
}

fn names_sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn interruptions_non_talk_and_moments() {
    let got = names(
        r#"
[[category]]
name = "customer interrupts"
when = { interruptions = { by = "customer", over = 1 } }

[[category]]
name = "many interruptions"
when = { interruptions = { over = 2 } }

[[category]]
name = "dead air"
when = { non_talk = { longest_over_seconds = 15 } }

[[category]]
name = "lots of dead air"
when = { non_talk = { over_seconds = 60 } }

[[category]]
name = "angry customer"
when = { moment = { severity = "frustrated" } }

[[category]]
name = "angry and not recovered"
when = { moment = { severity = "annoyed", unrecovered = true } }
"#,
    );
    assert_eq!(
        got,
        vec![
            "customer interrupts".to_string(),
            "dead air".to_string(),
            "angry customer".to_string()
        ]
    );
}

#[test]
fn all_any_not_combine() {
    let got = names(
        r#"
[[category]]
name = "escalated but calmed"
[category.when]
all = [
  { phrase = { text = "manager", role = "customer" } },
  { sentiment = { role = "customer", last_turns = 1, above = 0.3 } },
  { not = { phrase = { text = "cancel" } } },
]

[[category]]
name = "cancel or refund"
when = { any = [ { phrase = { text = "cancel" } }, { phrase = { text = "refund" } } ] }

[[category]]
name = "nothing about engineers"
when = { not = { phrase = { text = "engineer" } } }
"#,
    );
    assert_eq!(got, vec!["escalated but calmed".to_string()]);
}

#[test]
fn settings_in_the_rules_file_change_the_moments() {
    let (turns, scores) = call();
    let default = analyse_call(&turns, &scores, Channel::Voice, &Rules::default());
    assert_eq!(default.moments.len(), 1);
    let m = &default.moments[0];
    assert!(m.severity >= Severity::Frustrated, "{m:?}");
    assert!(m.evidence.iter().any(|e| e.cue == Cue::RepeatContact));
    assert!(m.evidence.iter().any(|e| e.cue == Cue::Escalation));
    assert!(m.evidence.iter().any(|e| e.cue == Cue::InterruptsAgent));
    assert_eq!(m.recovered, Some(true));
    let strict = Rules::from_toml("[moments]\nopen_at = 1.01\n").unwrap();
    assert!(analyse_call(&turns, &scores, Channel::Voice, &strict)
        .moments
        .is_empty());
}

#[test]
fn errors_name_the_category_and_the_reason() {
    let cases = [
        (
            "[[category]]\nname = \"x\"\nwhen = { phrase = { text = \"(\", match = \"pattern\" } }\n",
            "category \"x\": phrase \"(\"",
        ),
        (
            "[[category]]\nname = \"r\"\nwhen = { sentiment = { role = \"boss\", below = 0 } }\n",
            "role \"boss\" is not one of",
        ),
        (
            "[[category]]\nname = \"s\"\nwhen = { sentiment = { role = \"agent\" } }\n",
            "needs `below` or `above`",
        ),
        (
            "[[category]]\nname = \"w\"\nwhen = { phrase = { text = \"a\", first_turns = 1, last_turns = 1 } }\n",
            "at most one of",
        ),
        (
            "[[category]]\nname = \"m\"\nwhen = { moment = { severity = \"livid\" } }\n",
            "severity \"livid\"",
        ),
        ("[moments]\nopen_att = 0.5\n", "open_att"),
        ("[[category]]\nname = \"u\"\nwhen = { shouting = {} }\n", "shouting"),
    ];
    for (toml, want) in cases {
        let err = Rules::from_toml(toml).unwrap_err().to_string();
        assert!(err.contains(want), "{toml}\n→ {err}");
    }
}
