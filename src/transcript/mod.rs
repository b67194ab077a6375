//! Reading transcripts: every format becomes a `Conversation` of `Turn`s with
//! a speaker, a role, times in milliseconds from the call's start (when
//! known) and text. Nothing here knows about the model.

pub mod assemblyai;
pub mod aws_transcribe;
pub mod azure;
pub mod captions;
pub mod ccai;
pub mod contact_lens;
pub mod deepgram;
pub mod detect;
pub mod formats;
pub mod genesys;
pub mod google_stt;
pub mod html;
pub mod identity;
pub mod inputs;
pub mod intercom;
pub mod json_util;
pub mod jsonl;
pub mod plain;
pub mod roles;
pub mod stream_lines;
pub mod time;
pub mod twilio;
pub mod whisper;
pub mod words;
pub mod zendesk;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use detect::read_conversations;
pub use formats::Format;

/// The first line of `text` with anything on it, trimmed: what most
/// formats are recognised by.
fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Where a call's turns lie on its transcript's clock: worked out here
/// once, for the call record, the metrics, the quarters and rule windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallSpan {
    /// The first turn's start.
    pub first_ms: Option<u64>,
    /// When the last words end: the latest turn end (a turn's start where
    /// it has no end).
    pub last_ms: Option<u64>,
}

impl CallSpan {
    pub fn of(turns: &[Turn]) -> Self {
        Self {
            first_ms: turns.iter().filter_map(|t| t.start_ms).min(),
            last_ms: turns.iter().filter_map(|t| t.end_ms.or(t.start_ms)).max(),
        }
    }

    /// The call's duration, the one meaning of `duration_ms` in every
    /// record: from the first turn's start to the end of the last words.
    /// Not from 0: a transcript's clock may start anywhere (an epoch-based
    /// export, a clip of a longer recording), so only the span is sure.
    pub fn duration_ms(self) -> Option<u64> {
        self.first_ms
            .zip(self.last_ms)
            .map(|(a, b)| b.saturating_sub(a))
    }
}

/// Who a speaker is in the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Customer,
    /// IVR, virtual agent, system messages: kept, never counted as the customer.
    Bot,
    Unknown,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Customer => "customer",
            Role::Bot => "bot",
            Role::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub speaker: String,
    pub role: Role,
    /// True when the role was guessed rather than given by the transcript or the user.
    pub role_inferred: bool,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// Wall-clock time (Unix epoch ms) of a chat message or a turn whose
    /// format gives absolute times; `start_ms` is relative to the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_clock_ms: Option<i64>,
    pub text: String,
}

/// Voice calls have durations per turn; chats have message times only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Voice,
    Chat,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    /// The file it came from (`-` for standard input).
    pub source: String,
    /// The format it was read as.
    pub format: String,
    pub channel: Channel,
    pub turns: Vec<Turn>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
}

impl Conversation {
    /// Whether any turn is the customer's: moments are read from customer
    /// turns only, so a call without one (roles neither given nor inferable)
    /// can have none.
    pub fn has_customer(&self) -> bool {
        self.turns.iter().any(|t| t.role == Role::Customer)
    }
}

/// Why a file could not be read; shown with its path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ReadError {
    pub path: String,
    pub reason: String,
}

/// Limits that keep hostile input from exhausting memory or time, and how
/// word-level transcripts are cut into turns.
#[derive(Debug, Clone)]
pub struct ReadLimits {
    /// Largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Longest text of a single turn, in bytes.
    pub max_turn_bytes: usize,
    /// When a pause starts a new turn in word-level formats.
    pub turn_join: words::TurnJoin,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 512 << 20,
            max_turn_bytes: 64 << 10,
            turn_join: words::TurnJoin::default(),
        }
    }
}

/// Role overrides the user gave (`--agent`, `--customer`), by speaker label.
#[derive(Debug, Clone, Default)]
pub struct RoleHints {
    pub agent: Vec<String>,
    pub customer: Vec<String>,
}
