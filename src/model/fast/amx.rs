//! Intel AMX: eight tile registers of up to 16 rows × 64 bytes and one
//! instruction that multiplies two tiles into a third (`tdpbusd`: u8 × i8
//! in groups of four into i32, 16 × 16 × 64 = 16,384 multiply-adds;
//! `tdpbf16ps`: bf16 pairs into fp32). Stable Rust has no AMX intrinsics, so
//! each instruction is one `asm!` line here; the kernels that use them
//! (`gemm_amx.rs`) are generic over a [`TileUnit`], so the same kernel code
//! runs on the hardware ([`Amx`]) and, in tests on CPUs without AMX, on
//! [`TileModel`], a software model of the instructions' definitions.
//!
//! Linux hands a process the tile registers only after it asks
//! (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`); before that the
//! first tile instruction faults. [`available`] asks once, and reports AMX
//! only where the CPU has it, the OS saves its state, and the kernel agreed.

// Compiled on every CPU so the int8 and bf16 kernels name one tile layout;
// only x86-64 runs the tiles (elsewhere the tests run the tile model).
#![cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]

/// Tile registers the kernels use: the four accumulators of a 2 × 2 block,
/// two input-row tiles and two weight tiles.
pub(super) mod tmm {
    pub const C00: u8 = 0;
    pub const C01: u8 = 1;
    pub const C10: u8 = 2;
    pub const C11: u8 = 3;
    pub const A0: u8 = 4;
    pub const A1: u8 = 5;
    pub const B0: u8 = 6;
    pub const B1: u8 = 7;
}

/// Rows per tile, and bytes per tile row, in the one shape every tile here
/// has (palette 1's largest).
pub(super) const TILE_ROWS: usize = 16;
pub(super) const TILE_BYTES: usize = 64;

/// The operations the AMX kernels need. Tile numbers are const generics:
/// the instructions name their registers.
///
/// # Safety (for every method)
/// `configure` ran on this thread since the last `release`; pointers cover
/// `TILE_ROWS` rows of `TILE_BYTES` bytes `stride` apart (readable for
/// `load`, writable for `store`); the unit's CPU requirement holds ([`Amx`]:
/// [`available`] returned true).
pub(super) trait TileUnit {
    /// Every tile 16 rows × 64 bytes.
    unsafe fn configure();
    /// Gives the tile registers back (the OS then need not save them).
    unsafe fn release();
    unsafe fn zero<const T: u8>();
    unsafe fn load<const T: u8>(at: *const u8, stride: usize);
    unsafe fn store<const T: u8>(at: *mut u8, stride: usize);
    /// `C[i][j] += Σ_t A[i][4l + t] · B[l][4j + t]`, A as u8, B as i8, C as i32.
    unsafe fn dot_u8_i8<const C: u8, const A: u8, const B: u8>();
    /// `C[i][j] += Σ_t A[i][2l + t] · B[l][2j + t]`, A and B bf16, C fp32.
    unsafe fn dot_bf16<const C: u8, const A: u8, const B: u8>();
    /// Whether the kernels may finish their sums with AVX-512 (the
    /// epilogues in `gemm_amx.rs`): every AMX CPU has it.
    fn avx512_epilogue() -> bool;
}

/// Palette 1 with every tile 16 rows × 64 bytes: the 64-byte block
/// `ldtilecfg` reads.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

const CONFIG: TileConfig = TileConfig {
    palette: 1,
    start_row: 0,
    reserved: [0; 14],
    bytes_per_row: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
    rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
};

/// The hardware's tile unit.
#[cfg(target_arch = "x86_64")]
pub(super) struct Amx;

#[cfg(target_arch = "x86_64")]
impl TileUnit for Amx {
    #[inline(always)]
    unsafe fn configure() {
        // SAFETY: CONFIG is a valid 64-byte palette-1 configuration; the
        // caller's contract says the CPU and OS give this thread AMX.
        std::arch::asm!("ldtilecfg [{c}]", c = in(reg) &CONFIG, options(nostack, readonly));
    }

    #[inline(always)]
    unsafe fn release() {
        std::arch::asm!("tilerelease", options(nostack, nomem));
    }

    #[inline(always)]
    unsafe fn zero<const T: u8>() {
        std::arch::asm!("tilezero tmm{t}", t = const T, options(nostack, nomem));
    }

    #[inline(always)]
    unsafe fn load<const T: u8>(at: *const u8, stride: usize) {
        std::arch::asm!(
            "tileloadd tmm{t}, [{at} + {stride}*1]",
            t = const T, at = in(reg) at, stride = in(reg) stride,
            options(nostack, readonly)
        );
    }

    #[inline(always)]
    unsafe fn store<const T: u8>(at: *mut u8, stride: usize) {
        std::arch::asm!(
            "tilestored [{at} + {stride}*1], tmm{t}",
            t = const T, at = in(reg) at, stride = in(reg) stride,
            options(nostack)
        );
    }

    #[inline(always)]
    unsafe fn dot_u8_i8<const C: u8, const A: u8, const B: u8>() {
        std::arch::asm!(
            "tdpbusd tmm{c}, tmm{a}, tmm{b}",
            c = const C, a = const A, b = const B,
            options(nostack, nomem)
        );
    }

    #[inline(always)]
    unsafe fn dot_bf16<const C: u8, const A: u8, const B: u8>() {
        std::arch::asm!(
            "tdpbf16ps tmm{c}, tmm{a}, tmm{b}",
            c = const C, a = const A, b = const B,
            options(nostack, nomem)
        );
    }

    /// `KernelPath::Amx`, the only way to this unit, requires AVX-512.
    fn avx512_epilogue() -> bool {
        true
    }
}

/// Whether this process may run AMX int8 and bf16 tiles: the CPU reports
/// AMX-TILE, AMX-INT8 and AMX-BF16, the OS enabled the tile state (XCR0
/// bits 17 and 18), and Linux granted this process the tile data. Asked
/// once; the answer is kept.
pub fn available() -> bool {
    static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AVAILABLE.get_or_init(detect)
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn detect() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // Leaf 7 is asked only where leaf 0 says it exists.
    if __cpuid(0).eax < 7 {
        return false;
    }
    let leaf7 = __cpuid_count(7, 0);
    let (amx_bf16, amx_tile, amx_int8) = (1 << 22, 1 << 24, 1 << 25);
    let wanted = amx_bf16 | amx_tile | amx_int8;
    if leaf7.edx & wanted != wanted || !std::arch::is_x86_feature_detected!("xsave") {
        return false;
    }
    // SAFETY: `xgetbv` exists where the CPU reports OSXSAVE, which the
    // `xsave` check above includes (std reports xsave only with OSXSAVE).
    let xcr0 = unsafe { xgetbv0() };
    let (tile_config, tile_data) = (1 << 17, 1 << 18);
    if xcr0 & (tile_config | tile_data) != tile_config | tile_data {
        return false;
    }
    const ARCH_REQ_XCOMP_PERM: libc::c_ulong = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_ulong = 18;
    // SAFETY: arch_prctl with ARCH_REQ_XCOMP_PERM takes two integers and
    // touches no memory of ours; it fails (returns -1) where the kernel is
    // too old or refuses, and then AMX is not used.
    let granted = unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        )
    };
    granted == 0
}

/// XCR0: which register states the OS saves.
///
/// # Safety
/// The CPU reports OSXSAVE.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
unsafe fn xgetbv0() -> u64 {
    let (lo, hi): (u32, u32);
    std::arch::asm!("xgetbv", in("ecx") 0, out("eax") lo, out("edx") hi, options(nostack, nomem));
    (u64::from(hi) << 32) | u64::from(lo)
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn detect() -> bool {
    false
}

/// A software model of the tile unit, written from the instructions'
/// definitions (Intel SDM, vol. 2: TILELOADD, TILESTORED, TDPBUSD,
/// TDPBF16PS), so the AMX kernels' packing, addressing, edges and
/// epilogues are tested on CPUs without AMX. Its tiles live per thread, as
/// the hardware's do.
#[cfg(test)]
pub(super) struct TileModel;

#[cfg(test)]
thread_local! {
    static MODEL_TILES: std::cell::RefCell<[[u8; TILE_ROWS * TILE_BYTES]; 8]> =
        const { std::cell::RefCell::new([[0; TILE_ROWS * TILE_BYTES]; 8]) };
}

#[cfg(test)]
impl TileModel {
    fn dword(tile: &[u8], row: usize, col: usize) -> [u8; 4] {
        let at = row * TILE_BYTES + 4 * col;
        [tile[at], tile[at + 1], tile[at + 2], tile[at + 3]]
    }

    /// `C[i][j] = f(C[i][j], A's row i, B's rows)` for every element, the
    /// way both dot-product instructions walk their tiles.
    fn multiply(c: u8, a: u8, b: u8, step: impl Fn([u8; 4], [u8; 4], [u8; 4]) -> [u8; 4]) {
        MODEL_TILES.with_borrow_mut(|tiles| {
            let (a, b) = (tiles[a as usize], tiles[b as usize]);
            let c = &mut tiles[c as usize];
            for i in 0..TILE_ROWS {
                for j in 0..TILE_BYTES / 4 {
                    let mut acc = Self::dword(c, i, j);
                    for l in 0..TILE_ROWS {
                        acc = step(acc, Self::dword(&a, i, l), Self::dword(&b, l, j));
                    }
                    c[i * TILE_BYTES + 4 * j..][..4].copy_from_slice(&acc);
                }
            }
        });
    }
}

#[cfg(test)]
impl TileUnit for TileModel {
    unsafe fn configure() {}

    unsafe fn release() {}

    unsafe fn zero<const T: u8>() {
        MODEL_TILES.with_borrow_mut(|tiles| tiles[T as usize].fill(0));
    }

    unsafe fn load<const T: u8>(at: *const u8, stride: usize) {
        MODEL_TILES.with_borrow_mut(|tiles| {
            for (r, row) in tiles[T as usize].chunks_exact_mut(TILE_BYTES).enumerate() {
                // SAFETY: the trait's contract: 16 readable rows of 64 bytes.
                row.copy_from_slice(std::slice::from_raw_parts(at.add(r * stride), TILE_BYTES));
            }
        });
    }

    unsafe fn store<const T: u8>(at: *mut u8, stride: usize) {
        MODEL_TILES.with_borrow(|tiles| {
            for (r, row) in tiles[T as usize].chunks_exact(TILE_BYTES).enumerate() {
                // SAFETY: the trait's contract: 16 writable rows of 64 bytes.
                std::ptr::copy_nonoverlapping(row.as_ptr(), at.add(r * stride), TILE_BYTES);
            }
        });
    }

    unsafe fn dot_u8_i8<const C: u8, const A: u8, const B: u8>() {
        Self::multiply(C, A, B, |acc, a, b| {
            let sum: i32 = (0..4)
                .map(|t| i32::from(a[t]) * i32::from(b[t] as i8))
                .sum();
            i32::from_le_bytes(acc).wrapping_add(sum).to_le_bytes()
        });
    }

    unsafe fn dot_bf16<const C: u8, const A: u8, const B: u8>() {
        let widen = |lo: u8, hi: u8| f32::from_bits(u32::from(u16::from_le_bytes([lo, hi])) << 16);
        Self::multiply(C, A, B, |acc, a, b| {
            let even = widen(a[0], a[1]) * widen(b[0], b[1]);
            let odd = widen(a[2], a[3]) * widen(b[2], b[3]);
            (f32::from_le_bytes(acc) + even + odd).to_le_bytes()
        });
    }

    /// Where the CPU has AVX-512, so the model's tests cover those
    /// epilogues too (and the plain ones elsewhere).
    fn avx512_epilogue() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx512f");
        #[cfg(not(target_arch = "x86_64"))]
        return false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model's `tdpbusd` on a hand-checked case: row i of A all `i`,
    /// B's column j all `j − 8` (signed): `C[i][j] = 64 · i · (j − 8)`.
    #[test]
    fn the_tile_model_multiplies_as_the_instruction_is_defined() {
        let a: Vec<u8> = (0..16).flat_map(|i| [i as u8; 64]).collect();
        let b: Vec<u8> = (0..16)
            .flat_map(|_| (0..16).flat_map(|j| [(j as i8 - 8) as u8; 4]))
            .collect();
        let mut c = vec![0u8; 1024];
        // SAFETY: each buffer holds 16 rows of 64 bytes at stride 64.
        unsafe {
            TileModel::zero::<{ tmm::C00 }>();
            TileModel::load::<{ tmm::A0 }>(a.as_ptr(), 64);
            TileModel::load::<{ tmm::B0 }>(b.as_ptr(), 64);
            TileModel::dot_u8_i8::<{ tmm::C00 }, { tmm::A0 }, { tmm::B0 }>();
            TileModel::store::<{ tmm::C00 }>(c.as_mut_ptr(), 64);
        }
        for i in 0..16 {
            for j in 0..16 {
                let at = i * 64 + 4 * j;
                let got = i32::from_le_bytes(c[at..at + 4].try_into().unwrap());
                assert_eq!(got, 64 * i as i32 * (j as i32 - 8), "[{i}][{j}]");
            }
        }
    }
}
