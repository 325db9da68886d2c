//! Durations and sizes, as the spec writes them.

use super::*;

#[test]
fn durations() {
    assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("60s"), Ok(secs(60)));
    assert_eq!(parse_duration("5m"), Ok(secs(300)));
    assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    assert_eq!(
        parse_duration("soon"),
        Err("invalid duration `soon`, expected a duration such as 500ms, 10s or 5m".into())
    );
}

#[test]
fn sizes() {
    assert_eq!(parse_size("4096"), Ok(4096));
    assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
    assert_eq!(parse_size("10MiB"), Ok(10 << 20));
    assert_eq!(parse_size("10MB"), Ok(10_000_000));
    assert_eq!(parse_size("1GiB"), Ok(1 << 30));
    assert_eq!(parse_size("1 gib"), Ok(1 << 30));
    let expected = "invalid size `MiB`, expected a size such as 4096, 512KiB, 10MiB or 1GiB";
    assert_eq!(parse_size("MiB"), Err(expected.into()));
    assert!(parse_size("1.5GiB").is_err());
    assert!(parse_size("99999999999TiB").unwrap_err().contains("too large"));
}
