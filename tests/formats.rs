//! Every reader on its fixture (content written for calltone in the vendor's
//! published layout): turn count, speakers, roles, times and texts exactly;
//! auto-detection picks the right format; and the real published examples
//! in ../shared/transcript-examples read with the expected shape.

use std::path::{Path, PathBuf};

use calltone::transcript::{read_conversations, Conversation, Format, ReadLimits, Role, RoleHints};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_path(p: &Path) -> Vec<Conversation> {
    let bytes = std::fs::read(p).unwrap();
    read_conversations(
        &p.display().to_string(),
        &bytes,
        None,
        &ReadLimits::default(),
        &RoleHints::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

type Row<'a> = (&'a str, Role, bool, Option<u64>, Option<u64>, &'a str);

fn check(name: &str, format: &str, expected: &[Row]) {
    let calls = read_path(&fixture(name));
    assert_eq!(calls.len(), 1, "{name}");
    let c = &calls[0];
    assert_eq!(c.format, format, "{name}");
    let got: Vec<Row> = c
        .turns
        .iter()
        .map(|t| {
            (
                t.speaker.as_str(),
                t.role,
                t.role_inferred,
                t.start_ms,
                t.end_ms,
                t.text.as_str(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{name}");
}

#[test]
fn plain_text() {
    use Role::*;
    check(
        "plain-refund-call.txt",
        "plain",
        &[
            ("Agent", Agent, false, Some(1000), None, "Thank you for calling Acme Retail, my name is Jo. How can I help?"),
            ("Customer", Customer, false, Some(6000), None, "I returned a kettle three weeks ago and I still haven't had my refund."),
            ("Agent", Agent, false, Some(13000), None, "I'm sorry about that, let me check the return for you."),
            ("Customer", Customer, false, Some(20000), None, "This is the third time I'm calling. Nobody has called me back once."),
            ("Agent", Agent, false, Some(31000), None, "I can see it now. The refund was approved today and you'll have it within two days."),
            ("Customer", Customer, false, Some(39000), None, "Okay. Thank you."),
        ],
    );
}

#[test]
fn jsonl_many_calls() {
    let calls = read_path(&fixture("jsonl-two-calls.jsonl"));
    let shape: Vec<(&str, usize)> = calls
        .iter()
        .map(|c| (c.id.as_str(), c.turns.len()))
        .collect();
    assert_eq!(shape, vec![("A-100", 3), ("A-101", 3)]);
    let a = &calls[0].turns;
    assert_eq!(
        (a[1].speaker.as_str(), a[1].role, a[1].start_ms, a[1].end_ms),
        ("Dana", Role::Customer, Some(2600), Some(5000))
    );
    assert_eq!(a[2].text, "I'll refund the second payment now.");
    let b = &calls[1].turns;
    assert_eq!(
        (b[1].text.as_str(), b[2].text.as_str()),
        ("", "Sorry, can you hear me?")
    );
    assert!(calls.iter().all(|c| c.format == "jsonl"));
}

#[test]
fn webvtt_voices() {
    use Role::*;
    check(
        "webvtt-support-call.vtt",
        "webvtt",
        &[
            (
                "Agent",
                Agent,
                false,
                Some(500),
                Some(3000),
                "Thanks for calling Acme Broadband, how can I help?",
            ),
            (
                "Customer",
                Customer,
                false,
                Some(3400),
                Some(8000),
                "My connection drops every evening. Every single one.",
            ),
            (
                "Agent",
                Agent,
                false,
                Some(68000),
                Some(70250),
                "I've booked an engineer for Thursday. Is that okay?",
            ),
        ],
    );
}

#[test]
fn srt_speaker_lines_with_inferred_roles() {
    use Role::*;
    check(
        "srt-support-call.srt",
        "srt",
        &[
            (
                "speaker 0",
                Agent,
                true,
                Some(400),
                Some(2900),
                "Thanks for calling Acme Broadband, how can I help?",
            ),
            (
                "speaker 1",
                Customer,
                true,
                Some(3300),
                Some(7000),
                "My router has been flashing red since Monday. It's driving me mad.",
            ),
            (
                "speaker 0",
                Agent,
                true,
                Some(9500),
                Some(12750),
                "Let me run a line test for you.",
            ),
        ],
    );
}

#[test]
fn deepgram_utterances_and_words() {
    use Role::*;
    check(
        "deepgram-utterances.json",
        "deepgram",
        &[
            (
                "speaker 0",
                Agent,
                true,
                Some(320),
                Some(3100),
                "Thank you for calling Acme Insurance, how can I help you today?",
            ),
            (
                "speaker 1",
                Customer,
                true,
                Some(3600),
                Some(7850),
                "I need to make a claim, my car was hit in a car park.",
            ),
            (
                "speaker 0",
                Agent,
                true,
                Some(8200),
                Some(12400),
                "I'm sorry to hear that. Was anyone hurt?",
            ),
        ],
    );
    // No script cue: roles stay unknown rather than guessed.
    check(
        "deepgram-words-only.json",
        "deepgram",
        &[
            (
                "speaker 0",
                Unknown,
                false,
                Some(100),
                Some(1300),
                "Hello, Acme support.",
            ),
            (
                "speaker 1",
                Unknown,
                false,
                Some(1800),
                Some(2200),
                "Yes, hi.",
            ),
            (
                "speaker 1",
                Unknown,
                false,
                Some(4000),
                Some(5300),
                "My order is late.",
            ),
        ],
    );
}

#[test]
fn assemblyai_utterances() {
    use Role::*;
    check(
        "assemblyai-utterances.json",
        "assemblyai",
        &[
            (
                "speaker A",
                Agent,
                true,
                Some(240),
                Some(3900),
                "Good morning, Acme Bank, you're speaking with Sam. How can I help?",
            ),
            (
                "speaker B",
                Customer,
                true,
                Some(4300),
                Some(11020),
                "Hi, there's a payment on my card I don't recognise.",
            ),
            (
                "speaker A",
                Agent,
                true,
                Some(11500),
                Some(20950),
                "I can help with that. I'll freeze the card while we look into it.",
            ),
        ],
    );
}

#[test]
fn whisperx_segments() {
    use Role::*;
    check(
        "whisperx-diarized.json",
        "whisper",
        &[
            (
                "SPEAKER_01",
                Agent,
                true,
                Some(31),
                Some(2500),
                "Thanks for calling Acme Energy, how can I help?",
            ),
            (
                "SPEAKER_00",
                Customer,
                true,
                Some(2900),
                Some(7400),
                "My bill has doubled and nobody told me why. It's outrageous.",
            ),
            (
                "SPEAKER_01",
                Agent,
                true,
                Some(8000),
                Some(11750),
                "Let me look at your meter readings.",
            ),
        ],
    );
}

#[test]
fn aws_transcribe_speakers_and_channels() {
    use Role::*;
    check(
        "aws-transcribe-speaker-labels.json",
        "aws-transcribe",
        &[
            (
                "spk_0",
                Agent,
                true,
                Some(500),
                Some(2100),
                "Acme support, how can I help?",
            ),
            (
                "spk_1",
                Customer,
                true,
                Some(2600),
                Some(4200),
                "My parcel never arrived.",
            ),
        ],
    );
    // Stereo: no script cue, so channel 0 is taken as the agent.
    check(
        "aws-transcribe-channels.json",
        "aws-transcribe",
        &[
            (
                "ch_0",
                Agent,
                true,
                Some(200),
                Some(1200),
                "Hello, billing.",
            ),
            (
                "ch_1",
                Customer,
                true,
                Some(1800),
                Some(2900),
                "I was overcharged.",
            ),
        ],
    );
}

#[test]
fn contact_lens_voice_and_chat() {
    use Role::*;
    check(
        "contact-lens-call.json",
        "contact-lens",
        &[
            (
                "AGENT",
                Agent,
                false,
                Some(310),
                Some(3480),
                "Thanks for calling Acme Travel, how can I help?",
            ),
            (
                "CUSTOMER",
                Customer,
                false,
                Some(3900),
                Some(9120),
                "My flight was cancelled and nobody told me.",
            ),
            (
                "AGENT",
                Agent,
                false,
                Some(9050),
                Some(12500),
                "I'm so sorry. Let me rebook you now.",
            ),
        ],
    );
    // Chat: events skipped, times from the first message, no durations.
    check(
        "contact-lens-chat.json",
        "contact-lens",
        &[
            (
                "SYSTEM_MESSAGE",
                Bot,
                false,
                Some(0),
                None,
                "Welcome to Acme chat. An agent will be with you shortly.",
            ),
            (
                "Rita",
                Customer,
                false,
                Some(38750),
                None,
                "Hi, I still haven't received my refund.",
            ),
            (
                "Omar",
                Agent,
                false,
                Some(124250),
                None,
                "Hi Rita, I'm Omar. Let me check that for you.",
            ),
        ],
    );
}

#[test]
fn google_stt_uses_the_tagged_last_result() {
    use Role::*;
    check(
        "google-stt-diarized.json",
        "google-stt",
        &[
            (
                "speaker 1",
                Agent,
                true,
                Some(400),
                Some(2000),
                "Acme Water, how can I help?",
            ),
            (
                "speaker 2",
                Customer,
                true,
                Some(2600),
                Some(4200),
                "There's no water at my house.",
            ),
        ],
    );
}

#[test]
fn ccai_roles_and_microseconds() {
    use Role::*;
    check(
        "ccai-conversation.json",
        "ccai",
        &[
            (
                "user 3",
                Bot,
                false,
                Some(0),
                None,
                "Welcome to Acme. Please describe your issue.",
            ),
            (
                "user 1",
                Customer,
                false,
                Some(4500),
                None,
                "I was charged a late fee but I paid on time.",
            ),
            (
                "user 2",
                Agent,
                false,
                Some(19000),
                None,
                "I can see the payment arrived on the due date. I'll remove the fee.",
            ),
        ],
    );
}

#[test]
fn azure_ticks_and_iso_durations() {
    use Role::*;
    check(
        "azure-batch.json",
        "azure",
        &[
            (
                "speaker 1",
                Agent,
                true,
                Some(500),
                Some(3100),
                "Acme Mobile, how can I help?",
            ),
            (
                "speaker 2",
                Customer,
                true,
                Some(3400),
                Some(7500),
                "My phone won't charge.",
            ),
            (
                "speaker 1",
                Agent,
                true,
                Some(8000),
                Some(11800),
                "Let's try a different cable.",
            ),
        ],
    );
}

fn check_id(name: &str, id: &str) {
    let calls = read_path(&fixture(name));
    assert_eq!(calls[0].id, id, "{name}");
}

#[test]
fn genesys_purposes_and_epoch_ms() {
    use Role::*;
    check(
        "genesys-transcript.json",
        "genesys",
        &[
            (
                "ivr",
                Bot,
                false,
                Some(0),
                Some(2100),
                "Please hold while we connect you.",
            ),
            (
                "internal",
                Agent,
                false,
                Some(5000),
                Some(8200),
                "Hi, you're through to Acme lending, how can I help?",
            ),
            (
                "external",
                Customer,
                false,
                Some(9000),
                Some(12000),
                "My loan payment went out twice this month.",
            ),
        ],
    );
    check_id(
        "genesys-transcript.json",
        "c0ffee00-1111-4222-8333-444455556666",
    );
}

#[test]
fn zendesk_chat_messages_only() {
    use Role::*;
    check(
        "zendesk-chat.json",
        "zendesk",
        &[
            (
                "Visitor 4471",
                Customer,
                false,
                Some(0),
                None,
                "Is anyone there? I've been waiting 20 minutes.",
            ),
            (
                "Kim",
                Agent,
                false,
                Some(1_203_500),
                None,
                "Sorry for the wait! How can I help today?",
            ),
        ],
    );
    check_id("zendesk-chat.json", "1712.12345.XyZaBcD");
}

#[test]
fn intercom_html_bodies_and_authors() {
    use Role::*;
    check(
        "intercom-conversation.json",
        "intercom",
        &[
            (
                "Priya N",
                Customer,
                false,
                Some(0),
                None,
                "My invoice shows the wrong company name & address.",
            ),
            (
                "Lena",
                Agent,
                false,
                Some(95_000),
                None,
                "Thanks Priya, I've corrected it. A new invoice is on its way.",
            ),
        ],
    );
    check_id("intercom-conversation.json", "88120045");
    let calls = read_path(&fixture("intercom-conversation.json"));
    assert_eq!(
        calls[0].meta.get("agent_name").map(String::as_str),
        Some("Lena")
    );
    // A diarization label is not a name.
    let calls = read_path(&fixture("srt-support-call.srt"));
    assert!(!calls[0].meta.contains_key("agent_name"));
}

#[test]
fn twilio_messages_in_index_order() {
    use Role::*;
    check(
        "twilio-messages.json",
        "twilio",
        &[
            (
                "+15550100",
                Customer,
                true,
                Some(0),
                None,
                "hi, my dog's food order is missing",
            ),
            // "support" in the label names the role; the other party is then the customer.
            (
                "acme_support",
                Agent,
                false,
                Some(5000),
                None,
                "Thanks for contacting Acme Pets, how can I help?",
            ),
        ],
    );
    check_id("twilio-messages.json", "CH0000000000000000000000000000a1b2");
}

#[test]
fn a_json_array_holds_many_calls_of_any_format() {
    let a = std::fs::read_to_string(fixture("intercom-conversation.json")).unwrap();
    let b = std::fs::read_to_string(fixture("assemblyai-utterances.json")).unwrap();
    let doc = format!("[{a},{b}]");
    let calls = read_conversations(
        "exports/batch.json",
        doc.as_bytes(),
        None,
        &ReadLimits::default(),
        &RoleHints::default(),
    )
    .unwrap();
    let got: Vec<(&str, &str, usize)> = calls
        .iter()
        .map(|c| (c.id.as_str(), c.format.as_str(), c.turns.len()))
        .collect();
    assert_eq!(
        got,
        vec![("88120045", "intercom", 2), ("batch#1", "assemblyai", 3)]
    );
    assert_eq!(calls[0].turns[0].wall_clock_ms, Some(1_767_280_000_000));
    assert_eq!(calls[0].channel, calltone::transcript::Channel::Chat);

    let bad = format!("[{a},{{\"nothing\":1}}]");
    let e = read_conversations(
        "exports/batch.json",
        bad.as_bytes(),
        None,
        &ReadLimits::default(),
        &RoleHints::default(),
    )
    .unwrap_err();
    assert!(e.reason.starts_with("call 1 of the array"), "{e}");
}

#[test]
fn user_labels_override_roles() {
    let p = fixture("deepgram-words-only.json");
    let hints = RoleHints {
        agent: vec!["speaker 0".into()],
        customer: vec![],
    };
    let calls = read_conversations(
        "x.json",
        &std::fs::read(p).unwrap(),
        None,
        &ReadLimits::default(),
        &hints,
    )
    .unwrap();
    let roles: Vec<(Role, bool)> = calls[0]
        .turns
        .iter()
        .map(|t| (t.role, t.role_inferred))
        .collect();
    assert_eq!(
        roles,
        vec![
            (Role::Agent, false),
            (Role::Customer, true),
            (Role::Customer, true)
        ]
    );
}

#[test]
fn turn_pause_is_a_setting() {
    let bytes = std::fs::read(fixture("deepgram-words-only.json")).unwrap();
    let limits = ReadLimits {
        turn_join: calltone::transcript::words::TurnJoin { max_pause_ms: 5000 },
        ..ReadLimits::default()
    };
    let calls = read_conversations("w.json", &bytes, None, &limits, &RoleHints::default()).unwrap();
    // With a 5 s allowance, speaker 1's two stretches (1.8 s apart) are one turn.
    assert_eq!(calls[0].turns.len(), 2);
    assert_eq!(calls[0].turns[1].text, "Yes, hi. My order is late.");
}

#[test]
fn invalid_json_says_where() {
    let e = read_conversations(
        "bad.json",
        b"{\"results\": [1, 2",
        None,
        &ReadLimits::default(),
        &RoleHints::default(),
    )
    .unwrap_err();
    assert!(
        e.reason.contains("invalid JSON") && e.reason.contains("line 1"),
        "{e}"
    );
}

#[test]
fn forcing_a_format_that_does_not_fit_says_why() {
    let bytes = std::fs::read(fixture("whisperx-diarized.json")).unwrap();
    let e = read_conversations(
        "w.json",
        &bytes,
        Some(Format::Deepgram),
        &ReadLimits::default(),
        &RoleHints::default(),
    )
    .unwrap_err();
    assert!(e.reason.starts_with("deepgram:"), "{e}");
}

/// The vendors' own published examples (see ../shared/transcript-examples/SOURCES.md),
/// beside the project's checkout, not in it: a clone without them skips this
/// test by name (CI has them).
#[test]
fn published_vendor_examples_read_with_their_shape() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/transcript-examples");
    if !root.is_dir() {
        calltone::say!(
            "published_vendor_examples_read_with_their_shape: skipped, {} is absent",
            root.display()
        );
        return;
    }
    let cases: [(&str, &str, usize, usize); 24] = [
        (
            "intercom/intercom-conversation-lead-and-admin-parts.json",
            "intercom",
            2,
            2,
        ),
        (
            "intercom/intercom-conversation-user-reply.json",
            "intercom",
            2,
            2,
        ),
        (
            "twilio-conversations/twilio-conversations-messages-list.json",
            "twilio",
            2,
            2,
        ),
        (
            "google-stt/google-stt-diarization-speakertag-node-client.json",
            "google-stt",
            2,
            5,
        ),
        (
            "google-stt/google-stt-rest-results-string-seconds.json",
            "google-stt",
            1,
            1,
        ),
        (
            "google-ccai-insights/ccai-insights-chat-entries-sample.json",
            "ccai",
            2,
            14,
        ),
        (
            "google-ccai-insights/ccai-insights-conversation-data-format-doc.json",
            "ccai",
            2,
            2,
        ),
        (
            "azure-speech/azure-batch-transcription-diarization-2spk.json",
            "azure",
            2,
            2,
        ),
        (
            "azure-speech/azure-realtime-speakerid-results.json",
            "azure",
            2,
            2,
        ),
        (
            "aws-transcribe/aws-transcribe-speaker-labels.json",
            "aws-transcribe",
            2,
            2,
        ),
        (
            "aws-transcribe/aws-transcribe-channel-identification.json",
            "aws-transcribe",
            2,
            2,
        ),
        (
            "aws-transcribe/aws-transcribe-real-speaker-labels-3spk-legacy-items.json",
            "aws-transcribe",
            3,
            7,
        ),
        (
            "aws-contact-lens/contact-lens-call-redacted.json",
            "contact-lens",
            2,
            10,
        ),
        (
            "aws-contact-lens/contact-lens-call-real-output-minified.json",
            "contact-lens",
            2,
            15,
        ),
        (
            "aws-contact-lens/contact-lens-chat-original.json",
            "contact-lens",
            3,
            5,
        ),
        // file, format, speakers, min turns
        (
            "deepgram/deepgram-prerecorded-diarize-utterances-3spk.json",
            "deepgram",
            3,
            10,
        ),
        (
            "deepgram/deepgram-prerecorded-diarize-words-only.json",
            "deepgram",
            3,
            10,
        ),
        (
            "deepgram/deepgram-prerecorded-utterances-no-diarize.json",
            "deepgram",
            1,
            1,
        ),
        (
            "assemblyai/assemblyai-transcript-speaker-labels-2spk.json",
            "assemblyai",
            2,
            10,
        ),
        (
            "assemblyai/assemblyai-transcript-speaker-labels-3-utterances.json",
            "assemblyai",
            2,
            3,
        ),
        (
            "whisper/whisper-timestamped-segments-words-confidence.json",
            "whisper",
            1,
            1,
        ),
        (
            "openai-diarized-json/openai-gpt-4o-transcribe-diarize-diarized_json.json",
            "whisper",
            2,
            3,
        ),
        (
            "webvtt/w3c-webvtt-intro-interview-voice-spans.vtt",
            "webvtt",
            2,
            4,
        ),
        ("srt/deepgram-captions-srt-speaker-labels.srt", "srt", 2, 2),
    ];
    for (file, format, speakers, min_turns) in cases {
        let calls = read_path(&root.join(file));
        let c = &calls[0];
        assert_eq!(c.format, format, "{file}");
        let mut names: Vec<&str> = c.turns.iter().map(|t| t.speaker.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), speakers, "{file}: {names:?}");
        assert!(
            c.turns.len() >= min_turns,
            "{file}: {} turns",
            c.turns.len()
        );
        assert!(c.turns.iter().all(|t| !t.text.trim().is_empty()), "{file}");
    }
    // AssemblyAI's customer-service call: the agent greets with the script.
    let calls =
        read_path(&root.join("assemblyai/assemblyai-transcript-speaker-labels-3-utterances.json"));
    assert_eq!(calls[0].turns[0].role, Role::Agent);
    assert!(calls[0].turns[0].role_inferred);
}
