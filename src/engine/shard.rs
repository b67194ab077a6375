//! Splitting a night's calls across machines: `--shard K/N` keeps the calls
//! whose id hashes to K, so every machine reads the same inputs and scores a
//! disjoint share, the same share on every run and every machine. Calls,
//! not files, are the unit (one file may hold many calls). The content hash
//! lets an interrupted run recognise calls it already wrote.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::transcript::Conversation;

/// Shard `index` of `count` (index counted from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("--shard {s:?}: expected K/N with 0 <= K < N, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = k.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether this shard scores the call with this id. SHA-256 rather than
    /// std's hasher: the split must not change between builds or machines.
    pub fn keeps(&self, call_id: &str) -> bool {
        let digest = Sha256::digest(call_id.as_bytes());
        let first = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        first % self.count == self.index
    }
}

/// A stable fingerprint of a call's content (ids, speakers, roles, times,
/// texts): 128 bits of SHA-256, hex.
pub fn content_hash(conv: &Conversation) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(conv.id.as_bytes());
    field(conv.format.as_bytes());
    for t in &conv.turns {
        field(t.speaker.as_bytes());
        field(t.role.as_str().as_bytes());
        field(format!("{:?}/{:?}/{:?}", t.start_ms, t.end_ms, t.wall_clock_ms).as_bytes());
        field(t.text.as_bytes());
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_calls_stably_and_evenly() {
        let shards: Vec<Shard> = (0..4).map(|k| format!("{k}/4").parse().unwrap()).collect();
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let id = format!("call-{i}");
            let owners: Vec<usize> = (0..4).filter(|&k| shards[k].keeps(&id)).collect();
            assert_eq!(owners.len(), 1, "{id} owned by {owners:?}");
            counts[owners[0]] += 1;
        }
        // 1,000 expected each; a fair hash stays well within ±15%.
        assert!(
            counts.iter().all(|&c| (850..=1150).contains(&c)),
            "{counts:?}"
        );
        // Pinned (computed independently with Python's hashlib): the split
        // must never change between versions, or resumed and merged runs
        // would disagree about which machine owns a call.
        let owners: Vec<usize> = (0..8)
            .map(|i| {
                (0..4)
                    .find(|&k| shards[k].keeps(&format!("call-{i}")))
                    .unwrap()
            })
            .collect();
        assert_eq!(owners, vec![2, 2, 2, 2, 1, 3, 3, 0]);
    }

    #[test]
    fn bad_shard_specs_are_refused() {
        for s in ["", "1", "4/4", "-1/4", "a/b", "0/0", "1/0"] {
            assert!(s.parse::<Shard>().is_err(), "{s:?}");
        }
        assert_eq!("3/8".parse::<Shard>().unwrap().to_string(), "3/8");
    }
}
