//! The moment test sets' two parts: *tuning*, the only data settings are
//! chosen on, and *test*, what the README reports. A conversation or an angry
//! sentence belongs to one part by a fixed hash of its id or its
//! near-duplicate key, whatever the seed, so the parts never share one.

use super::near_duplicates::near_duplicate_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Where settings are chosen (`calltone calibrate`, experiments).
    Tuning,
    /// Where they are measured; never used to choose anything.
    Test,
}

/// FNV-1a, 64 bits, then MurmurHash3's finaliser so every bit depends on
/// every byte (FNV's own low bit is just the bytes' parity): stable across
/// platforms and versions, unlike std's hasher.
fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl Part {
    fn of_key(key: &str) -> Part {
        if stable_hash(key.as_bytes()).is_multiple_of(2) {
            Part::Tuning
        } else {
            Part::Test
        }
    }

    /// The part a chit-chat conversation belongs to, by its id.
    pub fn of_conversation(id: &str) -> Part {
        Part::of_key(id)
    }

    /// The part an angry sentence belongs to: near-duplicates go together.
    pub fn of_sentence(text: &str) -> Part {
        Part::of_key(&near_duplicate_key(text))
    }

    pub fn name(self) -> &'static str {
        match self {
            Part::Tuning => "tuning",
            Part::Test => "test",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Part;

    #[test]
    fn parts_are_fixed_and_near_duplicates_share_one() {
        assert_eq!(
            Part::of_sentence("I HATE this!!!"),
            Part::of_sentence("i hate this")
        );
        let ids: Vec<String> = (0..1000).map(|i| format!("conv-{i}")).collect();
        let tuning = ids
            .iter()
            .filter(|id| Part::of_conversation(id) == Part::Tuning)
            .count();
        assert!((450..550).contains(&tuning), "{tuning} of 1000 in tuning");
        // The same id, the same part, every time (no seed).
        assert_eq!(
            Part::of_conversation("conv-7"),
            Part::of_conversation("conv-7")
        );
    }
}
