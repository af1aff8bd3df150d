//! `gen-capture SIZE FORMAT OUTPUT`: write a deterministic benchmark capture and print what it
//! holds (packets, flows, DNS responses, SNI, HTTP hosts) as one JSON line on stderr.
//! `gen-capture flood FLOWS SPAN_SECS OUTPUT`: FLOWS distinct one-packet UDP flows over
//! SPAN_SECS of capture time (pcap), for the scaling check on many flows.

use netforensic_benches::flood::generate_flood;
use netforensic_benches::generator::{generate, Format, GeneratorConfig};
use netforensic_benches::parse_size;
use std::io::BufWriter;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, flows, span, output] = args.as_slice() {
        if mode == "flood" {
            return flood(flows, span, output);
        }
    }
    let [size, format, output] = args.as_slice() else {
        eprintln!("usage: gen-capture SIZE (e.g. 1G) pcap|pcapng OUTPUT");
        return ExitCode::from(2);
    };
    let Some(target_bytes) = parse_size(size) else {
        eprintln!("gen-capture: bad size {size:?}");
        return ExitCode::from(2);
    };
    let format = match format.as_str() {
        "pcap" => Format::Pcap,
        "pcapng" => Format::Pcapng,
        other => {
            eprintln!("gen-capture: unknown format {other:?} (pcap or pcapng)");
            return ExitCode::from(2);
        }
    };
    let result = std::fs::File::create(output).and_then(|file| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let counts = generate(&GeneratorConfig::new(target_bytes, format), &mut out)?;
        std::io::Write::flush(&mut out)?;
        Ok(counts)
    });
    match result {
        Ok(c) => {
            eprintln!(
                "{{\"bytes\":{},\"packets\":{},\"tcp_flows\":{},\"udp_flows\":{},\"dns_responses\":{},\"tls_sni\":{},\"http_hosts\":{}}}",
                c.bytes, c.packets, c.tcp_flows, c.udp_flows, c.dns_responses, c.tls_sni, c.http_hosts
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("gen-capture: {output}: {err}");
            ExitCode::from(2)
        }
    }
}

fn flood(flows: &str, span: &str, output: &str) -> ExitCode {
    let (Ok(flows), Ok(span)) = (flows.parse::<u64>(), span.parse::<u64>()) else {
        eprintln!("usage: gen-capture flood FLOWS SPAN_SECS OUTPUT");
        return ExitCode::from(2);
    };
    let result = std::fs::File::create(output).and_then(|file| {
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let packets = generate_flood(flows, span, &mut out)?;
        std::io::Write::flush(&mut out)?;
        Ok(packets)
    });
    match result {
        Ok(packets) => {
            eprintln!("{{\"packets\":{packets},\"udp_flows\":{packets}}}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("gen-capture: {output}: {err}");
            ExitCode::from(2)
        }
    }
}
