//! How each of calltone's GPU kernels is launched: grid, block and shared
//! memory for a batch's shape. Here, not beside the launches, so the tests
//! that run `kernels.cu` on the CPU launch it exactly as the GPU does.

/// Warps in each block of the kernels that give a warp to each row (or to
/// each token and head). Four keep a block's scratch small and let the
/// GPU's schedulers pick among many blocks.
pub const WARPS_PER_BLOCK: usize = 4;

/// The widest hidden size the row kernels hold in registers (32 columns a
/// lane: `MAX_PER_LANE` in kernels.cu).
pub const MAX_HIDDEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    pub grid: u32,
    pub block: u32,
    pub shared_bytes: u32,
}

fn blocks(items: usize, per_block: usize) -> u32 {
    u32::try_from(items.div_ceil(per_block).max(1)).unwrap_or(u32::MAX)
}

impl Launch {
    /// A warp per item: `embed` and `add_norm` (per token).
    pub fn warp_each(items: usize) -> Launch {
        Launch {
            grid: blocks(items, WARPS_PER_BLOCK),
            block: 32 * WARPS_PER_BLOCK as u32,
            shared_bytes: 0,
        }
    }

    /// A warp per token and head, each with `max_len` f32 scores.
    pub fn attention(tokens: usize, heads: usize, max_len: usize) -> Launch {
        Launch {
            shared_bytes: (WARPS_PER_BLOCK * max_len * 4) as u32,
            ..Launch::warp_each(tokens * heads)
        }
    }

    /// A thread per value, blocks striding past 65,536 of them (`bias_act`).
    pub fn elementwise(values: usize) -> Launch {
        Launch {
            grid: blocks(values, 256).min(65_536),
            block: 256,
            shared_bytes: 0,
        }
    }

    /// A block per row, a thread per hidden column up to 256 (`pool`).
    pub fn block_each(rows: usize, hidden: usize) -> Launch {
        Launch {
            grid: u32::try_from(rows.max(1)).unwrap_or(u32::MAX),
            block: hidden.next_multiple_of(32).clamp(32, 256) as u32,
            shared_bytes: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_gets_a_warp_and_no_block_is_empty() {
        for items in [1, 3, 4, 5, 4097] {
            let l = Launch::warp_each(items);
            let warps = l.grid as usize * l.block as usize / 32;
            assert!(
                warps >= items && warps < items + WARPS_PER_BLOCK,
                "{items}: {l:?}"
            );
        }
        let a = Launch::attention(10, 12, 512);
        assert_eq!(a.grid, 30);
        // A block's scores stay well inside the 48 KiB any GPU grants.
        assert!(a.shared_bytes <= 48 * 1024);
        assert_eq!(Launch::elementwise(1 << 30).grid, 65_536);
        assert_eq!(Launch::block_each(7, 384).block, 256);
        assert_eq!(Launch::block_each(7, 40).block, 64);
    }
}
