//! The transcript formats calltone reads, one row each: its name, how it is
//! recognised (and what is missing when it is not), how it is read, and what
//! channel its calls are. Detection tries the rows in order; adding a vendor
//! is a reader module, a [`Format`] variant and one row here.

use serde_json::Value;

use super::{
    assemblyai, aws_transcribe, azure, captions, ccai, contact_lens, deepgram, genesys, google_stt,
    intercom, jsonl, plain, twilio, whisper, zendesk, ReadLimits, Turn,
};

/// The formats, as `--input-format` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `Speaker: text` lines with optional `[hh:mm:ss]` stamps.
    Plain,
    /// One JSON turn per line.
    Jsonl,
    /// WebVTT captions (`<v Name>` voice spans).
    Webvtt,
    /// SubRip captions (`Name:` prefixes or `[speaker N]` lines).
    Srt,
    /// Amazon Transcribe standard output (speaker labels or channels).
    AwsTranscribe,
    /// Amazon Connect Contact Lens / Transcribe Call Analytics.
    ContactLens,
    /// Azure AI Speech batch transcription or real-time phrase list.
    Azure,
    /// Google Cloud Speech-to-Text response (speakerTag / channelTag).
    GoogleStt,
    /// Google Contact Center AI Insights conversation (`entries[]`).
    Ccai,
    /// Genesys Cloud speech-and-text analytics transcript.
    Genesys,
    /// Zendesk Chat transcript (`history[]`).
    Zendesk,
    /// Intercom conversation (HTML bodies).
    Intercom,
    /// Twilio Conversations message list.
    Twilio,
    /// Deepgram pre-recorded response (utterances, or words).
    Deepgram,
    /// AssemblyAI transcript (utterances, or words).
    Assemblyai,
    /// Whisper / WhisperX segments, OpenAI diarized_json.
    Whisper,
}

/// The calls in one document: each with its own id where the format gives
/// one (`None`: named after the file).
pub type Calls = Vec<(Option<String>, Vec<Turn>)>;

/// How a format is recognised and read.
#[derive(Clone, Copy)]
pub enum Reader {
    /// One JSON document.
    Json {
        sniff: fn(&Value) -> bool,
        /// What is missing when `sniff` says no.
        missing: &'static str,
        read: fn(&Value, &ReadLimits) -> Result<Calls, String>,
    },
    /// Text read line by line.
    Text {
        /// `Ok` when the text is this format, else why not. Gets the parsed
        /// document too, when the text is one JSON document.
        looks: fn(&str, Option<&Value>) -> Result<(), String>,
        read: fn(&str, &ReadLimits) -> Result<Calls, String>,
    },
}

/// Whether a format's calls are voice or chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelRule {
    /// Always voice (a speech-to-text result, captions).
    Voice,
    /// Always chat (a messaging export).
    Chat,
    /// Both exist: chat when turns have start times and no end times (a
    /// message log), else voice.
    ChatWhenNoEndTimes,
    /// Voice when any turn has an end time, else unknown.
    FromTimes,
}

/// One format's row.
pub struct FormatRow {
    pub format: Format,
    /// As written in records (`"format"`) and error messages.
    pub name: &'static str,
    pub reader: Reader,
    pub channel: ChannelRule,
}

/// A call without an id of its own.
fn one(turns: Vec<Turn>) -> Calls {
    vec![(None, turns)]
}

/// A call that may carry its own id.
fn identified((id, turns): (Option<String>, Vec<Turn>)) -> Calls {
    vec![(id, turns)]
}

/// Every format, in detection order: whole-document JSON formats (the most
/// specific first), then JSONL, captions, plain text.
pub const FORMATS: [FormatRow; 16] = [
    FormatRow {
        format: Format::Genesys,
        name: "genesys",
        reader: Reader::Json {
            sniff: genesys::sniff,
            missing: "no transcripts[].phrases[]",
            read: |v, _| genesys::read(v).map(identified),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Zendesk,
        name: "zendesk",
        reader: Reader::Json {
            sniff: zendesk::sniff,
            missing: "no history[] of chat messages",
            read: |v, _| zendesk::read(v).map(identified),
        },
        channel: ChannelRule::Chat,
    },
    FormatRow {
        format: Format::Intercom,
        name: "intercom",
        reader: Reader::Json {
            sniff: intercom::sniff,
            missing: "no conversation_parts with a source",
            read: |v, _| intercom::read(v).map(identified),
        },
        channel: ChannelRule::Chat,
    },
    FormatRow {
        format: Format::Twilio,
        name: "twilio",
        reader: Reader::Json {
            sniff: twilio::sniff,
            missing: "no messages[] with author and date_created",
            read: |v, _| twilio::read(v).map(identified),
        },
        channel: ChannelRule::Chat,
    },
    FormatRow {
        format: Format::ContactLens,
        name: "contact-lens",
        reader: Reader::Json {
            sniff: contact_lens::sniff,
            missing: "no Transcript[] with ParticipantId",
            read: |v, _| contact_lens::read(v).map(one),
        },
        channel: ChannelRule::ChatWhenNoEndTimes,
    },
    FormatRow {
        format: Format::AwsTranscribe,
        name: "aws-transcribe",
        reader: Reader::Json {
            sniff: aws_transcribe::sniff,
            missing: "no results.items or results.channel_labels",
            read: |v, l| aws_transcribe::read(v, l.turn_join).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Azure,
        name: "azure",
        reader: Reader::Json {
            sniff: azure::sniff,
            missing: "no recognizedPhrases or NBest phrase list",
            read: |v, _| azure::read(v).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::GoogleStt,
        name: "google-stt",
        reader: Reader::Json {
            sniff: google_stt::sniff,
            missing: "no results[].alternatives[]",
            read: |v, l| google_stt::read(v, l.turn_join).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Ccai,
        name: "ccai",
        reader: Reader::Json {
            sniff: ccai::sniff,
            missing: "no entries[] with text and role",
            read: |v, _| ccai::read(v).map(one),
        },
        channel: ChannelRule::ChatWhenNoEndTimes,
    },
    FormatRow {
        format: Format::Deepgram,
        name: "deepgram",
        reader: Reader::Json {
            sniff: deepgram::sniff,
            missing: "no results.utterances or results.channels",
            read: |v, l| deepgram::read(v, l.turn_join).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Assemblyai,
        name: "assemblyai",
        reader: Reader::Json {
            sniff: assemblyai::sniff,
            missing: "no utterances/words with audio fields",
            read: |v, l| assemblyai::read(v, l.turn_join).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Whisper,
        name: "whisper",
        reader: Reader::Json {
            sniff: whisper::sniff,
            missing: "no segments[] with start and text",
            read: |v, _| whisper::read(v).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Jsonl,
        name: "jsonl",
        reader: Reader::Text {
            looks: |text, _| jsonl::looks_like(text),
            read: |text, l| jsonl::parse(text, l.max_turn_bytes),
        },
        channel: ChannelRule::FromTimes,
    },
    FormatRow {
        format: Format::Webvtt,
        name: "webvtt",
        reader: Reader::Text {
            looks: |text, _| captions::looks_like_webvtt(text),
            read: |text, l| captions::parse(text, true, l.turn_join, l.max_turn_bytes).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Srt,
        name: "srt",
        reader: Reader::Text {
            looks: |text, _| captions::looks_like_srt(text),
            read: |text, l| captions::parse(text, false, l.turn_join, l.max_turn_bytes).map(one),
        },
        channel: ChannelRule::Voice,
    },
    FormatRow {
        format: Format::Plain,
        name: "plain",
        reader: Reader::Text {
            looks: plain::looks_like,
            read: |text, l| plain::parse(text, l.max_turn_bytes).map(one),
        },
        channel: ChannelRule::FromTimes,
    },
];

impl Format {
    /// This format's row of [`FORMATS`].
    pub fn row(self) -> &'static FormatRow {
        FORMATS
            .iter()
            .find(|r| r.format == self)
            .expect("every format has a row (tested)")
    }

    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// Read as one JSON document (not line by line).
    pub fn whole_json(self) -> bool {
        matches!(self.row().reader, Reader::Json { .. })
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_format_has_one_row_named_as_the_command_line_names_it() {
        for f in Format::value_variants() {
            let rows: Vec<&FormatRow> = FORMATS.iter().filter(|r| r.format == *f).collect();
            assert_eq!(rows.len(), 1, "{f:?} has {} rows", rows.len());
            let flag = f.to_possible_value().unwrap();
            assert_eq!(rows[0].name, flag.get_name(), "{f:?}");
        }
        assert_eq!(FORMATS.len(), Format::value_variants().len());
    }

    #[test]
    fn json_documents_are_tried_before_line_formats() {
        let first_text = FORMATS
            .iter()
            .position(|r| matches!(r.reader, Reader::Text { .. }))
            .unwrap();
        assert!(FORMATS[first_text..]
            .iter()
            .all(|r| matches!(r.reader, Reader::Text { .. })));
        assert_eq!(
            FORMATS.last().unwrap().format,
            Format::Plain,
            "the catch-all is last"
        );
    }
}
