//! The http probe: one `GET` as raw HTTP/1.1 over a TCP connection, judged by
//! the status line alone (2xx and 3xx pass; redirects are not followed). Only
//! `http://` URLs: a health endpoint is local and plain.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed `http://host[:port][/path]` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// `host:port`, to connect to (port 80 when the URL has none).
    pub addr: String,
    /// The `Host` header: the authority as written.
    pub host: String,
    /// The path and query (`/` when the URL has none).
    pub path: String,
}

/// Parses an `http://` URL.
pub fn parse_url(url: &str) -> Result<Url, String> {
    let rest =
        url.strip_prefix("http://").ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() {
        return Err(format!("{url}: no host"));
    }
    // `[::1]:8080` and `host:8080` have a port; `[::1]` and `host` do not.
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    let addr = if has_port { authority.to_string() } else { format!("{authority}:80") };
    Ok(Url { addr, host: authority.to_string(), path })
}

/// The status code of a response's first line (`HTTP/1.1 200 OK`).
pub fn status_code(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut words = line.split(' ');
    let version = words.next()?;
    if !version.starts_with("HTTP/") {
        return None;
    }
    words.next()?.parse().ok().filter(|c| (100..1000).contains(c))
}

/// GETs `url` within `timeout`; `Ok` for a 2xx or 3xx status.
pub async fn get(url: &str, timeout: Duration) -> Result<(), String> {
    let url = parse_url(url)?;
    match tokio::time::timeout(timeout, exchange(&url)).await {
        Ok(Ok(code)) if (200..400).contains(&code) => Ok(()),
        Ok(Ok(code)) => Err(format!("GET http://{}{} answered {code}", url.host, url.path)),
        Ok(Err(e)) => Err(format!("GET http://{}{}: {e}", url.host, url.path)),
        Err(_) => Err(format!(
            "GET http://{}{}: no answer within {}",
            url.host,
            url.path,
            humantime::format_duration(timeout)
        )),
    }
}

/// Sends the request and reads up to the end of the status line.
async fn exchange(url: &Url) -> Result<u16, String> {
    let mut stream = TcpStream::connect(&url.addr).await.map_err(|e| e.to_string())?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ward-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        url.path, url.host
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < 4096 {
        let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    status_code(&head).ok_or_else(|| "not an HTTP response".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("http://127.0.0.1:8080/healthz?x=1").unwrap();
        assert_eq!(
            u,
            Url { addr: "127.0.0.1:8080".into(), host: "127.0.0.1:8080".into(), path: "/healthz?x=1".into() }
        );
        let u = parse_url("http://localhost").unwrap();
        assert_eq!((u.addr.as_str(), u.path.as_str()), ("localhost:80", "/"));
        assert_eq!(parse_url("http://[::1]/").unwrap().addr, "[::1]:80");
        assert_eq!(parse_url("http://[::1]:9/").unwrap().addr, "[::1]:9");
        assert_eq!(parse_url("http://h?q").unwrap().path, "/?q");
        assert!(parse_url("https://x/").unwrap_err().contains("only http://"));
        assert!(parse_url("http:///x").is_err());
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_code(b"HTTP/1.1 200 OK\r\n"), Some(200));
        assert_eq!(status_code(b"HTTP/1.0 302 Found\r\nLocation: /"), Some(302));
        assert_eq!(status_code(b"HTTP/1.1 503"), Some(503));
        assert_eq!(status_code(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(status_code(b"HTTP/1.1 abc\r\n"), None);
        assert_eq!(status_code(b""), None);
    }

    #[tokio::test]
    async fn get_judges_the_status_and_times_out() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for answer in ["HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 500 Oops\r\n\r\n", ""] {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf).await;
                if answer.is_empty() {
                    // Hung: accept, never answer.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                } else {
                    s.write_all(answer.as_bytes()).await.unwrap();
                }
            }
        });
        let url = format!("http://{addr}/h");
        let t = Duration::from_millis(300);
        assert_eq!(get(&url, t).await, Ok(()));
        assert!(get(&url, t).await.unwrap_err().ends_with("answered 500"));
        assert!(get(&url, t).await.unwrap_err().contains("no answer within 300ms"));
    }
}
