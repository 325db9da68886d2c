//! The local API: HTTP/1.1 on the Unix socket `ward.sock` (mode 0600, peer uid
//! checked), JSON resources for every CLI verb, and streams for events and logs.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET  | `/v1/info` | version, pid, spec file, state folder |
//! | GET  | `/v1/status[?service=S][&usage=true]` | `{"instances":[…]}`; with `usage`, each one's cgroup counters |
//! | GET  | `/v1/endpoints?service=S` | the in-rotation instances and their addresses |
//! | POST | `/v1/start`, `/v1/stop`, `/v1/restart`, `/v1/unblock`, `/v1/isolate` | body `{"target":"api/0"}` |
//! | POST | `/v1/signal` | body `{"target":"api/0","signal":1}`: signal the live processes |
//! | POST | `/v1/reload` | re-read the spec; 422 with every error when invalid |
//! | POST | `/v1/down` | stop everything in dependency order, then exit |
//! | GET  | `/v1/events?since=N[&since_ms=T][&follow=1]` | NDJSON; with `follow`, server-sent events |
//! | GET  | `/v1/logs?target=T&n=N[&follow=1]` | service output, then live bytes |
//! | GET  | `/v1/wait?for=W[&target=T]` | `{"verdict":"holds"\|"pending"\|"failed",…}` (ward wait) |
//! | GET  | `/v1/logs/lines?targets=P,P&n=N&since=MS&until=MS&grep=RE[&follow=1]` | timed lines of many instances, merged (NDJSON) |
//! | GET  | `/metrics` | Prometheus text (OpenMetrics) |
//!
//! - `types`: the JSON shapes.
//! - `listener`: the socket, its mode, and the peer uid check.
//! - `server`: the routes; `server_status`: status and metrics, whose
//!   per-instance work runs off the supervisor's thread.
//! - `stream`: response bodies fed by channels.
//! - `client`: the CLI's side.
//! - `tcp`, `auth`: the opt-in TCP listener (tokens, TLS, limits); `openapi`: its
//!   description; `dashboard`: the web page it serves at `/`.

pub mod auth;
pub mod client;
pub mod dashboard;
pub mod listener;
pub mod openapi;
pub mod remote;
pub mod scrape;
pub mod server;
mod server_lines;
mod server_logs;
mod server_status;
mod server_wait;
pub mod stream;
pub mod tcp;
pub mod types;
