//! `netforensic analyze`.

use crate::args::AnalyzeArgs;

pub fn run(args: AnalyzeArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("`analyze` is not implemented yet")
}
