//! `netforensic dns`.

use crate::args::DnsArgs;

pub fn run(args: DnsArgs) -> anyhow::Result<u8> {
    let _ = args;
    anyhow::bail!("`dns` is not implemented yet")
}
