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

/// Each kernel's parameters, in kernels.cu's order (its `INSTANTIATE`
/// wrappers). A launch names every argument as it pushes it, and
/// [`ParamOrder`] refuses a name out of this order before anything runs; a
/// test holds these lists to the .cu source.
pub const KERNEL_PARAMS: &[(&str, &[&str])] = &[
    (
        "embed",
        &[
            "ids",
            "tok_seq",
            "seq_start",
            "tokens",
            "word",
            "position",
            "token_type",
            "position_offset",
            "gamma",
            "beta",
            "eps",
            "hidden",
            "out",
        ],
    ),
    (
        "add_norm",
        &["x", "y", "bias", "tokens", "gamma", "beta", "eps", "hidden"],
    ),
    ("bias_act", &["y", "bias", "n", "width", "act"]),
    ("attention32", ATTENTION_PARAMS),
    ("attention64", ATTENTION_PARAMS),
    (
        "pool",
        &["x", "seq_start", "seqs", "hidden", "first", "mean"],
    ),
];

const ATTENTION_PARAMS: &[&str] = &[
    "qkv",
    "qkv_bias",
    "tok_seq",
    "seq_start",
    "tokens",
    "heads",
    "scale",
    "max_len",
    "ctx",
];

/// Follows one launch's arguments through its kernel's parameter list.
#[derive(Debug)]
pub struct ParamOrder {
    kernel: &'static str,
    params: &'static [&'static str],
    next: usize,
}

impl ParamOrder {
    /// For `kernel` (a name in [`KERNEL_PARAMS`], without the type suffix).
    pub fn of(kernel: &'static str) -> Result<Self, String> {
        let params = KERNEL_PARAMS
            .iter()
            .find(|(name, _)| *name == kernel)
            .map(|(_, params)| *params)
            .ok_or_else(|| format!("no GPU kernel named {kernel}"))?;
        Ok(Self {
            kernel,
            params,
            next: 0,
        })
    }

    /// The next argument is `name`: an error if the kernel expects another.
    pub fn push(&mut self, name: &str) -> Result<(), String> {
        match self.params.get(self.next) {
            Some(&want) if want == name => {
                self.next += 1;
                Ok(())
            }
            Some(want) => Err(format!(
                "{}: argument {} is `{want}`, not `{name}`",
                self.kernel,
                self.next + 1
            )),
            None => Err(format!(
                "{}: takes {} arguments; `{name}` is one more",
                self.kernel,
                self.params.len()
            )),
        }
    }

    /// Every parameter has its argument.
    pub fn complete(&self) -> Result<(), String> {
        match self.params.get(self.next) {
            None => Ok(()),
            Some(missing) => Err(format!("{}: `{missing}` was not given", self.kernel)),
        }
    }
}

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

    /// Each `extern "C"` wrapper's parameter names in kernels.cu, by kernel
    /// (the type suffix `_##NAME` cut off).
    fn declared_params() -> Vec<(String, Vec<String>)> {
        let source = include_str!("kernels.cu");
        let mut out = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("extern \"C\" __global__ void ") {
            rest = &rest[at + "extern \"C\" __global__ void ".len()..];
            let name = &rest[..rest
                .find("_##NAME(")
                .expect("a wrapper named <kernel>_##NAME")];
            let open = rest.find('(').unwrap() + 1;
            let close = open + rest[open..].find(')').unwrap();
            let params = rest[open..close]
                .replace('\\', " ")
                .split(',')
                .map(|p| {
                    let p = p.trim();
                    p[p.rfind([' ', '*']).unwrap() + 1..].to_string()
                })
                .collect();
            out.push((name.to_string(), params));
        }
        out
    }

    #[test]
    fn every_kernels_parameter_list_is_the_one_kernels_cu_declares() {
        let declared = declared_params();
        let listed: Vec<(String, Vec<String>)> = KERNEL_PARAMS
            .iter()
            .map(|(k, p)| (k.to_string(), p.iter().map(|s| s.to_string()).collect()))
            .collect();
        assert_eq!(declared, listed);
    }

    #[test]
    fn arguments_out_of_order_or_missing_are_refused() {
        let mut order = ParamOrder::of("pool").unwrap();
        for name in ["x", "seq_start", "seqs", "hidden", "first"] {
            order.push(name).unwrap();
        }
        assert!(order.complete().unwrap_err().contains("`mean`"));
        order.push("mean").unwrap();
        order.complete().unwrap();
        assert!(order.push("extra").unwrap_err().contains("takes 6"));
        let mut swapped = ParamOrder::of("add_norm").unwrap();
        swapped.push("x").unwrap();
        swapped.push("y").unwrap();
        swapped.push("bias").unwrap();
        swapped.push("tokens").unwrap();
        let e = swapped.push("beta").unwrap_err();
        assert!(e.contains("argument 5 is `gamma`"), "{e}");
        assert!(ParamOrder::of("softmax").is_err());
    }

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
