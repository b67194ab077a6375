//! Property-based fuzzing of the transcript readers: random bytes, random
//! text, and valid transcripts with random damage must give conversations or
//! an error naming the file, never a panic.

use calltone::transcript::{read_conversations, Format, ReadLimits, RoleHints};
use proptest::prelude::*;

fn read(bytes: &[u8], forced: Option<Format>) {
    let limits = ReadLimits {
        max_file_bytes: 1 << 20,
        max_turn_bytes: 4096,
        ..ReadLimits::default()
    };
    match read_conversations(
        "fuzz/input.txt",
        bytes,
        forced,
        &limits,
        &RoleHints::default(),
    ) {
        Ok(calls) => {
            for c in calls {
                assert!(!c.turns.is_empty());
                assert!(c.turns.iter().all(|t| t.text.len() <= 4096));
            }
        }
        Err(e) => assert_eq!(e.path, "fuzz/input.txt"),
    }
}

const VALID_PLAIN: &str = "[00:00:01] Agent: Thank you for calling, how can I help?\n[00:00:05] Customer: My bill is wrong!\nIt doubled.\n";
const VALID_VTT: &str = "WEBVTT\n\n00:00.500 --> 00:03.000\n<v Agent>Thanks for calling, how can I help?\n\n00:03.400 --> 00:06.900\n<v.caller Customer>It <i>never</i> works!\n";
const VALID_SRT: &str = "1\n00:00:00,400 --> 00:00:02,900\n[speaker 0]\nHello.\n\n2\n00:00:03,300 --> 00:00:06,100\nCustomer: It broke.\n";
const VALID_DEEPGRAM: &str = "{\"results\":{\"channels\":[{\"alternatives\":[{\"words\":[{\"word\":\"hi\",\"start\":0.1,\"end\":0.3,\"speaker\":0,\"punctuated_word\":\"Hi.\"},{\"word\":\"yes\",\"start\":1,\"end\":1.2,\"speaker\":1}]}]}],\"utterances\":[{\"start\":0.1,\"end\":0.3,\"speaker\":0,\"transcript\":\"Hi.\"}]}}";
const VALID_WHISPER: &str = "{\"segments\":[{\"start\":0.0,\"end\":1.5,\"text\":\" Hello\",\"speaker\":\"SPEAKER_00\"},{\"start\":1.6,\"end\":2.0,\"text\":\" hi\"}]}";
const VALID_JSONL: &str = "{\"call_id\":\"a\",\"speaker\":\"agent\",\"text\":\"hi\",\"start\":0.5,\"end\":1}\n{\"call_id\":\"a\",\"speaker\":\"customer\",\"role\":\"customer\",\"text\":\"hello\"}\n";

fn damaged(base: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
        any::<usize>(),
    )
        .prop_map(move |(edits, cut)| {
            let mut b = base.as_bytes().to_vec();
            for (pos, byte) in edits {
                let i = pos % b.len().max(1);
                if !b.is_empty() {
                    b[i] = byte;
                }
            }
            b.truncate(cut % (b.len() + 1));
            b
        })
}

/// Arbitrary JSON trees whose keys are drawn from the vendors' field names,
/// so the readers' paths are actually exercised.
fn json_tree() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    const KEYS: [&str; 40] = [
        "results",
        "items",
        "speaker_labels",
        "segments",
        "channel_labels",
        "channels",
        "alternatives",
        "words",
        "utterances",
        "speaker",
        "start",
        "end",
        "text",
        "transcript",
        "Transcript",
        "Participants",
        "ParticipantId",
        "ParticipantRole",
        "Content",
        "BeginOffsetMillis",
        "entries",
        "role",
        "start_timestamp_usec",
        "recognizedPhrases",
        "nBest",
        "display",
        "offsetInTicks",
        "transcripts",
        "phrases",
        "startTimeMs",
        "history",
        "msg",
        "nick",
        "conversation_parts",
        "source",
        "body",
        "author",
        "messages",
        "date_created",
        "speakerTag",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[a-zA-Z0-9 .:_-]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((0..KEYS.len(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter()
                    .map(|(k, v)| (KEYS[k].to_string(), v))
                    .collect()
            )),
        ]
    })
}

proptest! {
    // 2,000 cases per property in the suite; CALLTONE_FUZZ_CASES=N for a long campaign.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("CALLTONE_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
    ))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read(&bytes, None);
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        read(text.as_bytes(), None);
        read(text.as_bytes(), Some(Format::Plain));
        read(text.as_bytes(), Some(Format::Jsonl));
        read(text.as_bytes(), Some(Format::Webvtt));
        read(text.as_bytes(), Some(Format::Srt));
    }

    #[test]
    fn damaged_transcripts_never_panic(p in damaged(VALID_PLAIN), j in damaged(VALID_JSONL)) {
        read(&p, None);
        read(&j, None);
        read(&j, Some(Format::Plain));
    }

    #[test]
    fn damaged_captions_and_vendor_json_never_panic(
        v in damaged(VALID_VTT), s in damaged(VALID_SRT), d in damaged(VALID_DEEPGRAM), w in damaged(VALID_WHISPER)
    ) {
        for bytes in [&v, &s, &d, &w] {
            read(bytes, None);
        }
        for f in [Format::Webvtt, Format::Srt, Format::Deepgram, Format::Assemblyai, Format::Whisper] {
            read(&v, Some(f));
            read(&d, Some(f));
            read(&w, Some(f));
        }
    }

    #[test]
    fn vendor_shaped_json_never_panics(tree in json_tree()) {
        let bytes = tree.to_string().into_bytes();
        read(&bytes, None);
        for f in [
            Format::AwsTranscribe, Format::ContactLens, Format::Azure, Format::GoogleStt, Format::Ccai, Format::Genesys,
            Format::Zendesk, Format::Intercom, Format::Twilio, Format::Deepgram, Format::Assemblyai, Format::Whisper,
        ] {
            read(&bytes, Some(f));
        }
    }

    #[test]
    fn jsonl_with_odd_values_never_panics(
        speaker in prop_oneof![Just("null".to_string()), Just("3".to_string()), "\"[a-z ]{0,8}\"".prop_map(|s| s)],
        start in prop_oneof![Just("-1".to_string()), Just("1e308".to_string()), Just("\"x\"".to_string()), Just("NaN".to_string()), Just("0.25".to_string())],
        text in prop_oneof![Just("null".to_string()), Just("7".to_string()), "\"[a-zA-Z!? ]{0,30}\"".prop_map(|s| s)],
    ) {
        let line = format!("{{\"speaker\":{speaker},\"start\":{start},\"end\":{start},\"text\":{text}}}\n");
        read(line.as_bytes(), None);
        read(line.as_bytes(), Some(Format::Jsonl));
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    read(deep.as_bytes(), None);
    let deep_obj = format!("{{\"text\":{}1{}}}", "[".repeat(50_000), "]".repeat(50_000));
    read(deep_obj.as_bytes(), Some(Format::Jsonl));
}
