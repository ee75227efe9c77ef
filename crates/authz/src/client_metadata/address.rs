//! Which IP addresses a client metadata document may be fetched from.
//!
//! A client_id is a URL chosen by whoever starts an authorization request, so fetching it would
//! let anyone make this server send requests into its own network (SSRF). Every address a host
//! name resolves to is checked against the IANA special-purpose registries
//! (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
//! <https://www.iana.org/assignments/iana-ipv6-special-registry>), and IPv6 forms that embed an
//! IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are judged by that address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The kind of non-public address `ip` is, or `None` when it is an ordinary public address.
pub(crate) fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_range(v4),
        IpAddr::V6(v6) => v6_range(v6),
    }
}

/// IPv4 blocks that are not globally reachable, most specific first where they nest.
const V4_REFUSED: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "\"this network\" (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "private (RFC 1918)"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "loopback"),
    ([169, 254, 0, 0], 16, "link-local"),
    ([172, 16, 0, 0], 12, "private (RFC 1918)"),
    (
        [192, 0, 0, 0],
        24,
        "IETF protocol assignment (192.0.0.0/24)",
    ),
    ([192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"),
    ([192, 88, 99, 0], 24, "6to4 relay anycast (192.88.99.0/24)"),
    ([192, 168, 0, 0], 16, "private (RFC 1918)"),
    ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"),
    ([198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"),
    ([203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"),
    ([224, 0, 0, 0], 4, "multicast"),
    ([255, 255, 255, 255], 32, "broadcast"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_REFUSED.iter().find_map(|&(prefix, len, name)| {
        let mask = u32::MAX << (32 - u32::from(len));
        (bits & mask == u32::from_be_bytes(prefix)).then_some(name)
    })
}

/// IPv6 blocks inside global unicast (2000::/3) that are not globally reachable.
const V6_REFUSED_GLOBAL: &[(u128, u8, &str)] = &[
    (0x2001_0002_0000 << 80, 48, "benchmarking (2001:2::/48)"),
    (0x2001_0db8 << 96, 32, "documentation (2001:db8::/32)"),
    (0x3fff << 112, 20, "documentation (3fff::/20)"),
];

fn v6_range(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let within =
        |prefix: u128, len: u8| bits >> (128 - u32::from(len)) == prefix >> (128 - u32::from(len));
    let embedded = |v4: Ipv4Addr, name: &'static str| v4_range(v4).map(|_| name);

    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return embedded(v4, "IPv4-mapped IPv6 form of a non-public");
    }
    if within(0, 96) {
        // ::a.b.c.d, deprecated (RFC 4291 §2.5.5.1); no public host is reached this way.
        return Some("IPv4-compatible IPv6 (deprecated)");
    }
    if within(0x0064_ff9b << 96, 96) {
        return embedded(low_v4(bits), "NAT64 (64:ff9b::/96) form of a non-public");
    }
    if within(0x0064_ff9b_0001 << 80, 48) {
        return Some("local-use NAT64 (64:ff9b:1::/48)");
    }
    if within(0x0100 << 112, 64) {
        return Some("discard-only (100::/64)");
    }
    if within(0xfc << 120, 7) {
        return Some("unique local (fc00::/7)");
    }
    if within(0xfe80 << 112, 10) {
        return Some("link-local (fe80::/10)");
    }
    if within(0xfec0 << 112, 10) {
        return Some("site-local (fec0::/10, deprecated)");
    }
    if within(0xff << 120, 8) {
        return Some("multicast");
    }
    if !within(0x2 << 124, 3) {
        return Some("reserved (outside global unicast 2000::/3)");
    }
    if within(0x2001 << 112, 32) {
        // Teredo (RFC 4380): the client's IPv4 address, inverted, in the low 32 bits.
        return embedded(!low_v4(bits), "Teredo (2001::/32) form of a non-public");
    }
    if within(0x2002 << 112, 16) {
        // 6to4 (RFC 3056): the IPv4 address in bits 16..48.
        return embedded(
            Ipv4Addr::from((bits >> 80) as u32),
            "6to4 (2002::/16) form of a non-public",
        );
    }
    V6_REFUSED_GLOBAL
        .iter()
        .find_map(|&(prefix, len, name)| within(prefix, len).then_some(name))
}

fn low_v4(bits: u128) -> Ipv4Addr {
    Ipv4Addr::from(bits as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_special_range_is_refused() {
        for (ip, range) in [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("0.0.0.0", "this network"),
            ("0.1.2.3", "this network"),
            ("10.0.0.1", "RFC 1918"),
            ("10.255.255.255", "RFC 1918"),
            ("172.16.0.1", "RFC 1918"),
            ("172.31.255.255", "RFC 1918"),
            ("192.168.1.1", "RFC 1918"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("169.254.169.254", "link-local"),
            ("192.0.0.1", "IETF protocol assignment"),
            ("192.0.2.10", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("192.88.99.1", "6to4 relay"),
            ("198.18.0.1", "benchmarking"),
            ("198.19.255.255", "benchmarking"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "IPv4-mapped"),
            ("::ffff:10.0.0.1", "IPv4-mapped"),
            ("::ffff:169.254.169.254", "IPv4-mapped"),
            ("::127.0.0.1", "IPv4-compatible"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("64:ff9b::7f00:1", "NAT64"),
            ("64:ff9b::a9fe:a9fe", "NAT64"),
            ("64:ff9b:1::1", "local-use NAT64"),
            ("100::1", "discard-only"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local"),
            ("ff02::1", "multicast"),
            ("ff0e::1", "multicast"),
            ("4000::1", "reserved"),
            ("5f00::1", "reserved"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("2001:2::1", "benchmarking"),
            // 6to4 of 192.168.0.1 and of 127.0.0.1.
            ("2002:c0a8:1::1", "6to4"),
            ("2002:7f00:1::", "6to4"),
            // Teredo whose client is 10.0.0.1 (stored inverted: f5ff:fffe).
            ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "Teredo"),
        ] {
            let parsed: IpAddr = ip.parse().expect(ip);
            let found = refused_range(parsed);
            assert!(
                found.is_some_and(|found| found.contains(range)),
                "{ip}: {found:?}"
            );
        }
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            // Teredo whose client is 8.8.8.8 (inverted: f7f7:f7f7).
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
        ] {
            let parsed: IpAddr = ip.parse().expect(ip);
            assert_eq!(refused_range(parsed), None, "{ip}");
        }
    }
}
