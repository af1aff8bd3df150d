//! `netforensic snapshot`.

use crate::args::SnapshotArgs;

pub fn run(args: SnapshotArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("`snapshot` is not implemented yet")
}
