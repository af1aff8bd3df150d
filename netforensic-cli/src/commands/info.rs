//! `netforensic info`.

use crate::args::InfoArgs;

pub fn run(args: InfoArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("`info` is not implemented yet")
}
