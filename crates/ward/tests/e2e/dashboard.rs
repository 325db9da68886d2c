//! The dashboard in a real browser: headless Chromium, driven over its
//! DevTools protocol (a small client over a WebSocket), loads the page from
//! a running ward; a killed service's restart appears without a reload, and
//! a press of the restart button (real mouse events) restarts the service.
//! With `WARD_DASHBOARD_SCREENSHOT=FILE` it also saves a screenshot.

use crate::harness::{TempDir, eventually, kill};
use crate::tcp::{Tokens, start};
use serde_json::{Value, json};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// A headless Chromium, killed by pid when dropped, and its DevTools port.
struct Chromium {
    child: Child,
    _profile: TempDir,
    port: u16,
}

impl Chromium {
    fn start() -> Option<Chromium> {
        let profile = TempDir::new("chromium");
        use std::os::unix::process::CommandExt;
        let child = Command::new("chromium")
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ])
            .args([
                "--remote-debugging-port=0",
                "--remote-debugging-address=127.0.0.1",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0) // its own group, so that its helpers die with it
            .spawn()
            .ok()?;
        let mut c = Chromium { child, _profile: profile, port: 0 };
        let file = c._profile.0.join("DevToolsActivePort");
        eventually("chromium's DevTools port", 60, || {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            c.port = text.lines().next().and_then(|l| l.trim().parse().ok()).unwrap_or(0);
            c.port != 0
        });
        Some(c)
    }

    /// A WebSocket to the first page target.
    fn page(&self) -> Cdp {
        let addr = format!("127.0.0.1:{}", self.port);
        let mut url = String::new();
        eventually("a page target", 30, || {
            let Some((200, body)) = crate::tcp::try_http(&addr, "GET", "/json/list", &[], b"") else {
                return false;
            };
            let list: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let page = list.as_array().and_then(|l| l.iter().find(|t| t["type"] == "page")).cloned();
            url =
                page.and_then(|p| p["webSocketDebuggerUrl"].as_str().map(str::to_string)).unwrap_or_default();
            !url.is_empty()
        });
        let stream = TcpStream::connect(&addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let (ws, _) = tungstenite::client(url.as_str(), stream).unwrap();
        Cdp { ws, id: 0 }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Chromium's helpers are in its process group; end them with it.
        kill(-(self.child.id() as i32), libc::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal DevTools protocol client: one command at a time.
struct Cdp {
    ws: WebSocket<TcpStream>,
    id: u64,
}

impl Cdp {
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.id += 1;
        let msg = json!({ "id": self.id, "method": method, "params": params });
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let Message::Text(text) = self.ws.read().unwrap() else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            if v["id"] == self.id {
                assert!(v["error"].is_null(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates `expr` in the page; returns its value.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        r["result"]["value"].clone()
    }

    /// Waits (with a deadline) until `expr` is true in the page.
    fn until(&mut self, what: &str, secs: u64, expr: &str) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.eval(expr) != Value::Bool(true) {
            let page = self.eval("document.body ? document.body.innerText : ''");
            assert!(
                Instant::now() < deadline,
                "timed out after {secs}s waiting for {what}; the page:\n{page}"
            );
            crate::harness::wait_a_little();
        }
    }

    /// A real left click at the middle of the element `selector`.
    fn click(&mut self, selector: &str) {
        let js = format!(
            "(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        );
        let at = self.eval(&js);
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        let hit = format!("document.elementFromPoint({x}, {y}) === document.querySelector('{selector}')");
        assert_eq!(
            self.eval(&hit),
            json!(true),
            "{selector} is not at ({x}, {y}): {}",
            self.eval(&format!(
                "document.elementFromPoint({x}, {y})?.outerHTML + ' ' + innerWidth + 'x' + innerHeight"
            ))
        );
        for kind in ["mousePressed", "mouseReleased"] {
            let p = json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 });
            self.call("Input.dispatchMouseEvent", p);
        }
    }
}

#[test]
fn the_dashboard_follows_a_restart_live_and_its_button_restarts() {
    if Command::new("chromium").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_err()
    {
        eprintln!("NOTICE: chromium is not installed; skipping (scripts/test.sh installs it)");
        return;
    }
    let t = Tokens::new();
    let yaml = format!(
        "version: 1\napi: {{ listen: \"127.0.0.1:0\", token_file: {} }}\nservices:\n  web:\n    command: [\"sh\", \"-c\", \"echo serving; exec sleep 600\"]\n    backoff: {{ initial: 0s }}\n  worker:\n    command: [\"sleep\", \"600\"]\n    replicas: 2\n",
        t.op.display()
    );
    let (mut w, addr) = start("dashboard", &yaml);
    let first = w.wait_event("web", 0, "started", 20);
    w.wait_event("worker", 1, "started", 20);
    w.status();
    let Some(chromium) = Chromium::start() else {
        eprintln!("NOTICE: chromium did not start; skipping");
        return;
    };
    let mut page = chromium.page();
    page.call("Page.enable", json!({}));
    page.call("Page.navigate", json!({ "url": format!("http://{addr}/") }));
    page.until("the page's script", 30, "document.querySelector('#conn')?.textContent === 'no token'");
    let token = Tokens::read(&t.op);
    page.eval(&format!("document.querySelector('#token').value = '{token}'; window.sameLoad = 42; true"));
    page.click("#save");
    page.until(
        "web/0 running in the table",
        30,
        "document.querySelector('tr[data-id=\"web/0\"] .state')?.textContent === 'running'",
    );
    page.until("the live stream", 30, "document.querySelector('#conn').textContent === 'live'");

    // A kill outside the page shows up on the page, live.
    kill(first["pid"].as_u64().unwrap() as i32, libc::SIGKILL);
    w.wait_event("web", 0, "restarted", 20);
    let restarted =
        "document.querySelectorAll('[data-service=\"web\"] rect[data-kind=\"restarted\"]').length === 1";
    page.until("the restart on the timeline", 30, restarted);
    page.until(
        "one restart in the table",
        30,
        "document.querySelector('tr[data-id=\"web/0\"] .restarts').textContent === '1'",
    );
    assert_eq!(page.eval("window.sameLoad"), json!(42), "the page was not reloaded");

    // The crash dossier of that exit.
    page.click("[data-service=\"web\"] rect[data-kind=\"exited\"]");
    page.until("the dossier", 30, "document.querySelector('#dossier').innerText.includes('SIGKILL')");
    assert!(
        page.eval("document.querySelector('#dossier .output').textContent")
            .as_str()
            .unwrap()
            .contains("serving")
    );

    // The restart button, pressed with the mouse.
    page.click("tr[data-id=\"web/0\"] button[data-act=\"restart\"]");
    w.wait_event("web", 0, "stopped", 30);
    w.wait_event("web", 0, "started", 30);
    page.until("the message", 30, "document.querySelector('#message').textContent.includes('restart')");

    // why, and the log that follows.
    page.click("tr[data-id=\"worker/1\"] button[data-show=\"why\"]");
    page.until("why", 30, "document.querySelector('#why').textContent.includes('worker/1')");
    page.click("tr[data-id=\"web/0\"] button[data-show=\"logs\"]");
    page.until("the log", 30, "document.querySelector('#logs').textContent.includes('serving')");

    if let Ok(file) = std::env::var("WARD_DASHBOARD_SCREENSHOT") {
        let shot = page.call("Page.captureScreenshot", json!({ "format": "png" }));
        std::fs::write(file, base64(shot["data"].as_str().unwrap())).unwrap();
    }
    drop(page);
    drop(chromium);
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let digits: Vec<u8> =
        text.bytes().filter(|c| *c != b'=' && !c.is_ascii_whitespace()).map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}
