//! `netforensic flows`.

use crate::args::FlowsArgs;

pub fn run(args: FlowsArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("`flows` is not implemented yet")
}
