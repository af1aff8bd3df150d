//! Any bytes as the first payloads of a client's connection: TLS ClientHello, HTTP request,
//! QUIC Initial, DTLS hello, split into two segments, through the name sniffer and the
//! parsers directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netforensic_core::flow::{FlowTouch, Proto};
use netforensic_core::naming::{http, quic, tls, NameSniffer};
use netforensic_core::Timestamp;
use std::net::{IpAddr, Ipv4Addr};

fuzz_target!(|data: &[u8]| {
    let _ = tls::sni_from_stream(data);
    let _ = tls::client_hello_sni(data);
    let _ = tls::sni_from_extensions(data);
    let _ = http::request_host(data);
    let _ = quic::is_client_initial(data);
    quic::crypto_frames(data, &mut |_, _| {});

    let mut sniffer = NameSniffer::new();
    let (first, second) = data.split_at(data.len() / 2);
    for (id, proto, port) in [
        (1, Proto::Tcp, 443),
        (2, Proto::Tcp, 80),
        (3, Proto::Udp, 443),
        (4, Proto::Udp, 4433),
    ] {
        let touch = FlowTouch {
            id,
            from_orig: true,
            created: true,
            proto,
            orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            orig_p: 50000,
            resp_h: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            resp_p: port,
        };
        let seq = (proto == Proto::Tcp).then_some(1u32);
        sniffer.observe(&touch, Timestamp(0), seq, data);
        sniffer.observe(
            &touch,
            Timestamp(1),
            seq.map(|s| s + data.len() as u32),
            first,
        );
        sniffer.observe(&touch, Timestamp(2), None, second);
    }
    let _ = sniffer.finish_with_services();
});
