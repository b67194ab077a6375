//! The encoder on a CUDA GPU with calltone's own kernels (`kernels.cu`,
//! compiled by build.rs into machine code the binary carries) and cuBLAS
//! for the matrix multiplies. Nothing is compiled when a process starts
//! (candle hands the driver PTX to compile: ~20 s on an H200 the first
//! time). Batches are ragged, as on the CPU: no padding, no mask; the
//! projections' biases are added inside the kernels that read them; a
//! group of batches goes up in one copy and its pooled rows come back in
//! one, so the host does not wait on the GPU between batches.

use std::sync::{Arc, Mutex};

use candle_core::cuda_backend::cudarc;
use cudarc::cublas::sys::cublasOperation_t;
use cudarc::cublas::{CudaBlas, Gemm, GemmConfig};
use cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, CudaView, DevicePtr, DevicePtrMut, DeviceRepr, LaunchArgs,
    LaunchConfig, PushKernelArg, ValidAsZeroBits,
};

use super::blas_shape::{projection, Op};
use super::launch::{Launch, ParamOrder, MAX_HIDDEN, WARPS_PER_BLOCK};
use super::layout::BatchLayout;
use crate::model::config::Activation;
use crate::model::fast::Pooled;
use crate::model::flat_encoder::{check_rows, FlatEncoder, FlatLinear, FlatNorm};
use crate::model::{ModelError, Precision};

/// kernels.cu for every architecture the build named (build.rs).
static KERNELS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/calltone_kernels.fatbin"));

/// The GPU architectures the kernels carry machine code for.
pub const BUILT_FOR: &str = env!("CALLTONE_CUDA_ARCHS_BUILT");

/// The longest row the kernels take: attention keeps a row's scores (4
/// bytes a token) for each warp of a block in shared memory, and 48 KiB of
/// it is what every GPU grants a block without asking (3,072 tokens).
const MAX_ROW_TOKENS: usize = 48 * 1024 / (4 * WARPS_PER_BLOCK);

fn gpu<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> ModelError {
    move |e| ModelError::Gpu(format!("{what}: {e}"))
}

/// An activation's number type on the GPU, and its kernels' name suffix.
pub trait Element: DeviceRepr + ValidAsZeroBits + Copy + Unpin + Send + Sync + 'static {
    const SUFFIX: &'static str;
    fn from_f32(v: f32) -> Self;
}

impl Element for half::bf16 {
    const SUFFIX: &'static str = "bf16";
    fn from_f32(v: f32) -> Self {
        half::bf16::from_f32(v)
    }
}

impl Element for half::f16 {
    const SUFFIX: &'static str = "f16";
    fn from_f32(v: f32) -> Self {
        half::f16::from_f32(v)
    }
}

impl Element for f32 {
    const SUFFIX: &'static str = "f32";
    fn from_f32(v: f32) -> Self {
        v
    }
}

/// A dense layer: weight `[n, k]` in the activations' type, bias f32.
struct GpuLinear<T> {
    weight: CudaSlice<T>,
    bias: CudaSlice<f32>,
    n: usize,
    k: usize,
}

struct GpuNorm {
    gamma: CudaSlice<f32>,
    beta: CudaSlice<f32>,
    eps: f32,
}

struct GpuLayer<T> {
    qkv: GpuLinear<T>,
    attn_out: GpuLinear<T>,
    attn_norm: GpuNorm,
    ffn_in: GpuLinear<T>,
    ffn_out: GpuLinear<T>,
    ffn_norm: GpuNorm,
}

/// One kernel: its name in kernels.cu (without the type suffix) and the
/// loaded function.
struct Kernel {
    name: &'static str,
    function: CudaFunction,
}

/// The kernels, loaded once from [`KERNELS`].
struct Kernels {
    embed: Kernel,
    add_norm: Kernel,
    bias_act: Kernel,
    attention: Kernel,
    pool: Kernel,
}

/// A batch's activations, kept between calls and grown when a batch needs
/// more. Every value a pass reads it has written first.
struct Workspace<T> {
    tokens: usize,
    x: CudaSlice<T>,
    qkv: CudaSlice<T>,
    ctx: CudaSlice<T>,
    projected: CudaSlice<T>,
    inner: CudaSlice<T>,
}

struct Typed<T> {
    stream: Arc<CudaStream>,
    blas: Arc<CudaBlas>,
    kernels: Kernels,
    hidden: usize,
    heads: usize,
    intermediate: usize,
    max_len: usize,
    vocab: usize,
    position_offset: usize,
    word: CudaSlice<f32>,
    position: CudaSlice<f32>,
    /// Zeros where the model has no segment embedding.
    token_type: CudaSlice<f32>,
    embed_norm: GpuNorm,
    layers: Vec<GpuLayer<T>>,
    /// 0: exact GELU, 1: ReLU (kernels.cu's `bias_act`).
    activation: i32,
    workspace: Mutex<Option<Workspace<T>>>,
}

enum AnyTyped {
    Bf16(Typed<half::bf16>),
    F16(Typed<half::f16>),
    F32(Typed<f32>),
}

/// The encoder's weights on one GPU, and the kernels that run it.
pub struct GpuEncoder {
    typed: AnyTyped,
    precision: Precision,
}

impl GpuEncoder {
    /// Why calltone's GPU kernels cannot run this encoder, if they cannot.
    pub fn unsupported(flat: &FlatEncoder) -> Option<String> {
        let head_width = flat.hidden / flat.heads.max(1);
        if head_width != 32 && head_width != 64 {
            return Some(format!(
                "heads {head_width} wide (the kernels take 32 or 64)"
            ));
        }
        if flat.hidden > MAX_HIDDEN || !flat.hidden.is_multiple_of(32) {
            return Some(format!(
                "hidden size {} (the kernels take multiples of 32 up to {MAX_HIDDEN})",
                flat.hidden
            ));
        }
        if flat.max_len > MAX_ROW_TOKENS {
            return Some(format!(
                "rows of {} tokens (the kernels take up to {MAX_ROW_TOKENS})",
                flat.max_len
            ));
        }
        None
    }

    /// Uploads `flat`'s weights to the GPU `device` runs on, the dense
    /// layers and activations in `precision` (bf16, f16 or fp32).
    pub fn new(
        flat: &FlatEncoder,
        device: &candle_core::CudaDevice,
        precision: Precision,
    ) -> Result<Self, ModelError> {
        if let Some(why) = Self::unsupported(flat) {
            return Err(ModelError::Unavailable(format!(
                "calltone's GPU kernels cannot run this model: {why}"
            )));
        }
        let (stream, blas) = (device.cuda_stream(), device.cublas_handle());
        let typed = match precision {
            Precision::Bf16 => AnyTyped::Bf16(Typed::new(flat, stream, blas)?),
            Precision::F16 => AnyTyped::F16(Typed::new(flat, stream, blas)?),
            Precision::Fp32 => AnyTyped::F32(Typed::new(flat, stream, blas)?),
            p => {
                return Err(ModelError::Unavailable(format!(
                    "calltone's GPU kernels run bf16, f16 or fp32, not {p}"
                )))
            }
        };
        let encoder = Self { typed, precision };
        // One pass over a two-token row now: cuBLAS chooses its kernels and
        // the driver readies the module at load, not inside the first
        // batch's time, and a GPU that cannot run the kernels fails here.
        encoder.forward_batches(&[vec![&[0u32, 0][..]]])?;
        Ok(encoder)
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn hidden(&self) -> usize {
        match &self.typed {
            AnyTyped::Bf16(t) => t.hidden,
            AnyTyped::F16(t) => t.hidden,
            AnyTyped::F32(t) => t.hidden,
        }
    }

    /// Each batch's rows' first and mean hidden states, all rows in order
    /// in one [`Pooled`].
    pub fn forward_batches(&self, batches: &[Vec<&[u32]>]) -> Result<Pooled, ModelError> {
        match &self.typed {
            AnyTyped::Bf16(t) => t.forward_batches(batches),
            AnyTyped::F16(t) => t.forward_batches(batches),
            AnyTyped::F32(t) => t.forward_batches(batches),
        }
    }
}

fn cfg(l: Launch) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (l.grid, 1, 1),
        block_dim: (l.block, 1, 1),
        shared_mem_bytes: l.shared_bytes,
    }
}

/// A launch whose arguments are named as they are pushed and checked
/// against the kernel's parameter list (`launch::KERNEL_PARAMS`, which a
/// test holds to kernels.cu): a swapped or missing argument is an error
/// before the kernel runs, not a kernel reading the wrong buffer.
struct Args<'a> {
    launch: LaunchArgs<'a>,
    order: ParamOrder,
}

impl<'a> Args<'a> {
    fn new(stream: &'a Arc<CudaStream>, kernel: &'a Kernel) -> Result<Self, ModelError> {
        Ok(Self {
            launch: stream.launch_builder(&kernel.function),
            order: ParamOrder::of(kernel.name).map_err(gpu("launch"))?,
        })
    }

    /// Pushes the argument for parameter `name`.
    fn arg<A>(&mut self, name: &str, value: A) -> Result<&mut Self, ModelError>
    where
        LaunchArgs<'a>: PushKernelArg<A>,
    {
        self.order.push(name).map_err(gpu("launch"))?;
        self.launch.arg(value);
        Ok(self)
    }

    /// Launches once every parameter has its argument.
    ///
    /// # Safety
    /// The arguments must be what the kernel's parameters say (buffers of
    /// the declared type, large enough for every index the kernel forms
    /// from the other arguments) and stay alive until the stream is done.
    unsafe fn launch(&mut self, shape: Launch, what: &'static str) -> Result<(), ModelError> {
        self.order.complete().map_err(gpu("launch"))?;
        // SAFETY: the caller's, above; the order of the arguments is checked.
        unsafe { self.launch.launch(cfg(shape)) }.map_err(gpu(what))?;
        Ok(())
    }
}

/// i32 for a kernel argument; every count here is a batch's, which
/// `BatchLayout` checked fits.
fn int(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl<T: Element> Typed<T>
where
    CudaBlas: Gemm<T>,
{
    fn new(
        flat: &FlatEncoder,
        stream: Arc<CudaStream>,
        blas: Arc<CudaBlas>,
    ) -> Result<Self, ModelError> {
        // The fatbin is copied into a Vec because cudarc takes one; the
        // allocator hands back malloc's 16-byte alignment, which the
        // driver's fatbin reader wants.
        let module = stream
            .context()
            .load_module(cudarc::nvrtc::Ptx::from_binary(KERNELS.to_vec()))
            .map_err(gpu("loading calltone's kernels"))?;
        let load = |name: &'static str| -> Result<Kernel, ModelError> {
            Ok(Kernel {
                name,
                function: module
                    .load_function(&format!("{name}_{}", T::SUFFIX))
                    .map_err(gpu("finding a kernel"))?,
            })
        };
        let kernels = Kernels {
            embed: load("embed")?,
            add_norm: load("add_norm")?,
            bias_act: load("bias_act")?,
            attention: load(match flat.hidden / flat.heads {
                32 => "attention32",
                _ => "attention64", // `unsupported` allows only 32 and 64
            })?,
            pool: load("pool")?,
        };
        let up = |v: &[f32]| stream.clone_htod(v).map_err(gpu("copying weights"));
        let norm = |n: &FlatNorm| -> Result<GpuNorm, ModelError> {
            Ok(GpuNorm {
                gamma: up(&n.gamma)?,
                beta: up(&n.beta)?,
                eps: n.eps,
            })
        };
        let linear = |l: &FlatLinear| -> Result<GpuLinear<T>, ModelError> {
            let weight: Vec<T> = l.weight.iter().map(|&v| T::from_f32(v)).collect();
            Ok(GpuLinear {
                weight: stream.clone_htod(&weight).map_err(gpu("copying weights"))?,
                bias: up(&l.bias)?,
                n: l.n,
                k: l.k,
            })
        };
        let layers = flat
            .layers
            .iter()
            .map(|l| {
                Ok(GpuLayer {
                    qkv: linear(&l.qkv)?,
                    attn_out: linear(&l.attn_out)?,
                    attn_norm: norm(&l.attn_norm)?,
                    ffn_in: linear(&l.ffn_in)?,
                    ffn_out: linear(&l.ffn_out)?,
                    ffn_norm: norm(&l.ffn_norm)?,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        let zeros = vec![0f32; flat.hidden];
        Ok(Self {
            kernels,
            hidden: flat.hidden,
            heads: flat.heads,
            intermediate: flat.intermediate,
            max_len: flat.max_len,
            vocab: flat.vocab,
            position_offset: flat.position_offset,
            word: up(&flat.word)?,
            position: up(&flat.position)?,
            token_type: up(flat.token_type.as_deref().unwrap_or(&zeros))?,
            embed_norm: norm(&flat.embed_norm)?,
            layers,
            activation: match flat.activation {
                Activation::Relu => 1,
                _ => 0,
            },
            workspace: Mutex::new(None),
            stream,
            blas,
        })
    }

    /// A workspace for batches of up to `tokens` tokens.
    fn workspace(&self, tokens: usize) -> Result<Workspace<T>, ModelError> {
        let (h, i) = (self.hidden, self.intermediate);
        // SAFETY: uninitialised device memory is never read: each buffer is
        // written (by a kernel or a multiply) before anything reads it.
        let alloc = |n: usize| unsafe { self.stream.alloc::<T>(n) }.map_err(gpu("allocating"));
        Ok(Workspace {
            tokens,
            x: alloc(tokens * h)?,
            qkv: alloc(tokens * 3 * h)?,
            ctx: alloc(tokens * h)?,
            projected: alloc(tokens * h)?,
            inner: alloc(tokens * i)?,
        })
    }

    /// `y[m, n] = x[m, k] · Wᵀ` (no bias) with cuBLAS, as
    /// `blas_shape::projection` asks it.
    fn project<X: DevicePtr<T>, Y: DevicePtrMut<T>>(
        &self,
        layer: &GpuLinear<T>,
        x: &X,
        m: usize,
        y: &mut Y,
    ) -> Result<(), ModelError> {
        let s = projection(m, layer.n, layer.k);
        let op = |o: Op| match o {
            Op::AsStored => cublasOperation_t::CUBLAS_OP_N,
            Op::Transposed => cublasOperation_t::CUBLAS_OP_T,
        };
        let config = GemmConfig {
            transa: op(s.op_a),
            transb: op(s.op_b),
            m: int(s.m),
            n: int(s.n),
            k: int(s.k),
            alpha: T::from_f32(1.0),
            lda: int(s.lda),
            ldb: int(s.ldb),
            beta: T::from_f32(0.0),
            ldc: int(s.ldc),
        };
        // SAFETY: the weight holds n·k values, `x` at least m·k and `y` at
        // least m·n (the workspace is sized for the batch), as the
        // configuration's shapes and leading dimensions say.
        unsafe { self.blas.gemm(config, &layer.weight, x, y) }.map_err(gpu("matrix multiply"))
    }

    fn forward_batches(&self, batches: &[Vec<&[u32]>]) -> Result<Pooled, ModelError> {
        for rows in batches {
            check_rows(rows, self.max_len, self.vocab)?;
        }
        let layout = BatchLayout::new(batches).map_err(ModelError::Unavailable)?;
        let h = self.hidden;
        let rows = layout.rows();
        if rows == 0 {
            return Ok(Pooled {
                first: Vec::new(),
                mean: Vec::new(),
            });
        }
        let s = &self.stream;
        let ids = s.clone_htod(&layout.ids).map_err(gpu("copying tokens"))?;
        let tok_seq = s
            .clone_htod(&layout.tok_seq)
            .map_err(gpu("copying tokens"))?;
        let seq_start = s
            .clone_htod(&layout.seq_start)
            .map_err(gpu("copying tokens"))?;
        let mut first = s.alloc_zeros::<f32>(rows * h).map_err(gpu("allocating"))?;
        let mut mean = s.alloc_zeros::<f32>(rows * h).map_err(gpu("allocating"))?;
        let mut kept = self
            .workspace
            .lock()
            .map_err(|_| ModelError::Unavailable("GPU: a scoring thread panicked".into()))?;
        if kept
            .as_ref()
            .is_none_or(|w| w.tokens < layout.most_tokens())
        {
            *kept = None; // free the old buffers before asking for bigger ones
            *kept = Some(self.workspace(layout.most_tokens())?);
        }
        let w = kept.as_mut().expect("a workspace was just made");
        for part in &layout.parts {
            let tokens = part.tokens.len();
            let batch_ids = ids.slice(part.tokens.clone());
            let batch_tok_seq = tok_seq.slice(part.tokens.clone());
            let batch_seq_start = seq_start.slice(part.starts.clone());
            let (nt, nh) = (int(tokens), int(h));
            let (eps, offset) = (self.embed_norm.eps, int(self.position_offset));
            let mut embed = Args::new(s, &self.kernels.embed)?;
            embed
                .arg("ids", &batch_ids)?
                .arg("tok_seq", &batch_tok_seq)?
                .arg("seq_start", &batch_seq_start)?
                .arg("tokens", &nt)?
                .arg("word", &self.word)?
                .arg("position", &self.position)?
                .arg("token_type", &self.token_type)?
                .arg("position_offset", &offset)?
                .arg("gamma", &self.embed_norm.gamma)?
                .arg("beta", &self.embed_norm.beta)?
                .arg("eps", &eps)?
                .arg("hidden", &nh)?
                .arg("out", &mut w.x)?;
            // SAFETY: every index `embed` forms is inside its buffer: ids <
            // vocab and positions < max_len (checked above), `out` holds
            // tokens · hidden values.
            unsafe { embed.launch(Launch::warp_each(tokens), "embed") }?;
            for layer in &self.layers {
                self.layer(
                    layer,
                    w,
                    tokens,
                    &batch_tok_seq,
                    &batch_seq_start,
                    part.max_len,
                )?;
            }
            let (nseq, rows_at) = (int(part.rows.len()), part.rows.start * h..part.rows.end * h);
            let mut first_part = first.slice_mut(rows_at.clone());
            let mut mean_part = mean.slice_mut(rows_at);
            let mut pool = Args::new(s, &self.kernels.pool)?;
            pool.arg("x", &w.x)?
                .arg("seq_start", &batch_seq_start)?
                .arg("seqs", &nseq)?
                .arg("hidden", &nh)?
                .arg("first", &mut first_part)?
                .arg("mean", &mut mean_part)?;
            // SAFETY: the output views hold this batch's rows · hidden
            // values; `x` holds its tokens.
            unsafe { pool.launch(Launch::block_each(part.rows.len(), h), "pool") }?;
        }
        let first = s.clone_dtoh(&first).map_err(gpu("copying results"))?;
        let mean = s.clone_dtoh(&mean).map_err(gpu("copying results"))?;
        s.synchronize().map_err(gpu("running the encoder"))?;
        Ok(Pooled { first, mean })
    }

    /// One encoder layer over a batch in `w.x`, in place.
    fn layer(
        &self,
        layer: &GpuLayer<T>,
        w: &mut Workspace<T>,
        tokens: usize,
        tok_seq: &CudaView<'_, i32>,
        seq_start: &CudaView<'_, i32>,
        max_len: usize,
    ) -> Result<(), ModelError> {
        let s = &self.stream;
        let (h, i) = (self.hidden, self.intermediate);
        let (nt, nh) = (int(tokens), int(h));
        self.project(&layer.qkv, &w.x, tokens, &mut w.qkv)?;
        let heads = int(self.heads);
        let scale = 1.0 / ((h / self.heads) as f32).sqrt();
        let longest = int(max_len);
        let mut attention = Args::new(s, &self.kernels.attention)?;
        attention
            .arg("qkv", &w.qkv)?
            .arg("qkv_bias", &layer.qkv.bias)?
            .arg("tok_seq", tok_seq)?
            .arg("seq_start", seq_start)?
            .arg("tokens", &nt)?
            .arg("heads", &heads)?
            .arg("scale", &scale)?
            .arg("max_len", &longest)?
            .arg("ctx", &mut w.ctx)?;
        // SAFETY: rows are at most `max_len` long, which sizes each warp's
        // shared scores; `qkv` holds tokens · 3·hidden values, `ctx`
        // tokens · hidden.
        unsafe { attention.launch(Launch::attention(tokens, self.heads, max_len), "attention") }?;
        self.project(&layer.attn_out, &w.ctx, tokens, &mut w.projected)?;
        self.add_norm(
            &mut w.x,
            &w.projected,
            &layer.attn_out.bias,
            &layer.attn_norm,
            nt,
            nh,
        )?;
        self.project(&layer.ffn_in, &w.x, tokens, &mut w.inner)?;
        let (values, width) = ((tokens * i) as i64, int(i));
        let mut bias_act = Args::new(s, &self.kernels.bias_act)?;
        bias_act
            .arg("y", &mut w.inner)?
            .arg("bias", &layer.ffn_in.bias)?
            .arg("n", &values)?
            .arg("width", &width)?
            .arg("act", &self.activation)?;
        // SAFETY: `n` = tokens · width values fit the inner buffer.
        unsafe { bias_act.launch(Launch::elementwise(tokens * i), "activation") }?;
        self.project(&layer.ffn_out, &w.inner, tokens, &mut w.projected)?;
        self.add_norm(
            &mut w.x,
            &w.projected,
            &layer.ffn_out.bias,
            &layer.ffn_norm,
            nt,
            nh,
        )
    }

    /// `x = norm(x + y + bias)` over a batch's tokens.
    fn add_norm(
        &self,
        x: &mut CudaSlice<T>,
        y: &CudaSlice<T>,
        bias: &CudaSlice<f32>,
        norm: &GpuNorm,
        tokens: i32,
        hidden: i32,
    ) -> Result<(), ModelError> {
        let mut add_norm = Args::new(&self.stream, &self.kernels.add_norm)?;
        add_norm
            .arg("x", x)?
            .arg("y", y)?
            .arg("bias", bias)?
            .arg("tokens", &tokens)?
            .arg("gamma", &norm.gamma)?
            .arg("beta", &norm.beta)?
            .arg("eps", &norm.eps)?
            .arg("hidden", &hidden)?;
        // SAFETY: both buffers hold at least tokens · hidden values.
        unsafe { add_norm.launch(Launch::warp_each(tokens as usize), "layer norm") }
    }
}
