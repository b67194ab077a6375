//! The labelled and conversational data calltone is trained and measured
//! on, read from the files `setup` fetched: VADER's human-rated sentences
//! (training and the dev split), Rotten Tomatoes snippets, the chit-chat
//! conversations (false alarms, throughput), the calm and angry moment test
//! sets built from them, and a user's own labelled text. `train` and `eval`
//! both read from here; neither reads from the other.

pub mod call_labels;
pub mod chitchat;
pub mod labelled;
pub mod moment_sets;
pub mod near_duplicates;
pub mod parts;
pub mod rotten_tomatoes;
pub mod vader;

/// A data file that could not be read as expected.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CorpusError {
    pub path: String,
    pub reason: String,
}
