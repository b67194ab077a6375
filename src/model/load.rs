//! Loads the model a command names, on the device and in the precision it
//! asks for.

use candle_core::DType;

use crate::model::device::{self, DeviceChoice};
use crate::model::fast::cpu::{self, KernelPath};
use crate::model::fast::FastEncoder;
use crate::model::precision_record::{choose_on_cpu, CpuKernels, PrecisionRecord};
use crate::model::{ModelSource, Precision, SentimentModel};

/// Which model to run, where and how: what `--model`, `--precision`,
/// `--device` and `--kernel` say.
#[derive(Debug, Clone, Default)]
pub struct ModelChoice {
    /// A directory or a hub name; `None`: calltone's own model.
    pub model: Option<String>,
    pub precision: Precision,
    pub device: DeviceChoice,
    /// A forced CPU kernel path; `None`: the fastest this CPU runs.
    pub kernel: Option<KernelPath>,
}

/// A [`ModelChoice`] → a ready model. `auto`
/// precision on the CPU follows the model's measured record
/// (`precision_record`); `auto` device falls back to the CPU (with a notice when this is a GPU build); a model
/// calltone's CPU kernels cannot run (say, tanh-GELU) falls back to the
/// reference encoder with a notice rather than failing.
pub fn load_model(arg: &ModelChoice) -> anyhow::Result<SentimentModel> {
    if let Some(path) = arg.kernel {
        cpu::force(path).map_err(anyhow::Error::msg)?;
    }
    let source = ModelSource::parse(arg.model.as_deref())?;
    let (device, notice) = device::open(arg.device)?;
    if let Some(n) = notice {
        crate::say!("calltone: {n}");
    }
    let mut precision = arg.precision.resolve(&device);
    if matches!(device, candle_core::Device::Cuda(_)) {
        let (on_gpu, notice) = arg
            .precision
            .on_cuda(device::compute_capability(&device))
            .map_err(anyhow::Error::msg)?;
        if let Some(n) = notice {
            crate::say!("calltone: {n}");
        }
        precision = on_gpu;
    }
    if device.is_cpu() && precision == Precision::F16 {
        anyhow::bail!(
            "--precision f16 needs a GPU: on this CPU it would run slower than fp32 \
             (candle widens f16 to f32 for every matmul); use fp32, bf16 or int8"
        );
    }
    if !device.is_cpu() && precision == Precision::Int8 {
        anyhow::bail!(
            "--precision int8 runs on the CPU (calltone's VNNI kernels); on a GPU use bf16 or fp32"
        );
    }
    // On a CUDA GPU bf16, f16 and fp32 run on calltone's kernels: the
    // model is read on the CPU in f32 and its weights go up once.
    let gpu_kernels = matches!(device, candle_core::Device::Cuda(_))
        && matches!(
            precision,
            Precision::Bf16 | Precision::F16 | Precision::Fp32
        );
    if gpu_kernels {
        let mut model = SentimentModel::load(&source, DType::F32, &candle_core::Device::Cpu)?;
        // A model they do not take, or a GPU they fail on (loading the
        // kernels or their first pass at load), falls back to candle's
        // encoder on the same GPU, said on standard error: the run goes on,
        // slower, rather than stopping.
        match model.use_gpu_kernels(&device, precision) {
            Ok(None) => return Ok(model),
            Ok(Some(why)) => crate::say!(
                "calltone: calltone's GPU kernels cannot run {} ({why}); using candle's encoder on the GPU",
                model.name
            ),
            Err(e) => crate::say!(
                "calltone: calltone's GPU kernels failed on this GPU ({e}); using candle's encoder on the GPU"
            ),
        }
    }
    // On the CPU every precision loads fp32 weights: calltone's kernels
    // round or quantise them as they pack them.
    let dtype = if device.is_cpu() {
        DType::F32
    } else {
        precision.dtype()
    };
    let mut model = SentimentModel::load(&source, dtype, &device)?;
    if arg.precision == Precision::Auto && device.is_cpu() {
        let record = match &model.head_dir {
            Some(dir) => PrecisionRecord::read(dir)?,
            None => None,
        };
        precision = choose_on_cpu(record.as_ref(), CpuKernels::active()).0;
    }
    if matches!(
        precision,
        Precision::Fp32 | Precision::Int8 | Precision::Bf16
    ) && device.is_cpu()
    {
        if let Some(why) = FastEncoder::unsupported(&model.encoder) {
            crate::say!(
                "calltone: calltone's kernels cannot run {} ({why}); using the reference encoder",
                model.name
            );
            precision = Precision::Reference;
        }
    }
    model.set_precision(precision)?;
    Ok(model)
}
