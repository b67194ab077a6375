//! Every signal that can stand behind a customer turn's anger, by name: the
//! model's two readings, the trend, the lexical cues and the timing cues.
//! Records write them as `evidence[].cue` (snake_case); the record schema
//! lists exactly these.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Cue {
    /// The model's negative probability for the turn.
    Negative,
    /// The model's intensity reading (human rating scale, −4..+4).
    Intensity,
    /// Sentiment falling over the last few customer turns.
    Trend,
    /// Words in capitals.
    Shouting,
    /// `!!`, `?!`.
    Exclamation,
    /// Swearing, "what the hell".
    Profanity,
    /// "third time I'm calling".
    RepeatContact,
    /// "I already told you".
    AlreadyTold,
    /// Asking for a manager or a supervisor.
    Escalation,
    /// Cancelling the service or the account.
    Cancel,
    /// Leaving for a competitor, a complaint, a lawyer.
    ChurnThreat,
    /// "oh great", "thanks for nothing".
    Sarcasm,
    /// "fix this now".
    Demand,
    /// "ridiculous", "unacceptable", "useless".
    StrongWords,
    /// The customer started while the agent was still talking.
    InterruptsAgent,
    /// The customer spoke much faster than their own usual rate.
    SpeechRateJump,
    /// Dead air after the agent spoke, before the customer answered.
    SilenceAfterAgent,
}

impl Cue {
    /// The name records use.
    pub fn as_str(self) -> &'static str {
        match self {
            Cue::Negative => "negative",
            Cue::Intensity => "intensity",
            Cue::Trend => "trend",
            Cue::Shouting => "shouting",
            Cue::Exclamation => "exclamation",
            Cue::Profanity => "profanity",
            Cue::RepeatContact => "repeat_contact",
            Cue::AlreadyTold => "already_told",
            Cue::Escalation => "escalation",
            Cue::Cancel => "cancel",
            Cue::ChurnThreat => "churn_threat",
            Cue::Sarcasm => "sarcasm",
            Cue::Demand => "demand",
            Cue::StrongWords => "strong_words",
            Cue::InterruptsAgent => "interrupts_agent",
            Cue::SpeechRateJump => "speech_rate_jump",
            Cue::SilenceAfterAgent => "silence_after_agent",
        }
    }

    /// One of the model's readings of the turn (present on every scored
    /// turn), rather than something found in its words or timing.
    pub fn is_model_reading(self) -> bool {
        matches!(self, Cue::Negative | Cue::Intensity)
    }
}

impl std::fmt::Display for Cue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Cue;

    #[test]
    fn records_spell_each_cue_as_its_name() {
        for cue in [Cue::Negative, Cue::RepeatContact, Cue::SilenceAfterAgent] {
            let json = serde_json::to_string(&cue).unwrap();
            assert_eq!(json, format!("\"{}\"", cue.as_str()));
            assert_eq!(serde_json::from_str::<Cue>(&json).unwrap(), cue);
        }
        assert!(serde_json::from_str::<Cue>("\"grumbling\"").is_err());
    }
}
