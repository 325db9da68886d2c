//! The JSON shapes of the API, shared by the server and the CLI client.
//! Field names are part of the contract in DESIGN.md: keep them stable.

use serde::{Deserialize, Serialize};

pub use ward_supervisor::view::{
    EndpointsReply, EventJson, InstanceStatus, StatusReply, WaitReply, WhyReply,
};

/// A command on a service or instance (`start`, `stop`, `restart`, `unblock`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TargetRequest {
    /// `SERVICE` or `SERVICE/N`.
    pub target: String,
}

/// `POST /v1/signal`: a signal for the live processes of a target.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignalRequest {
    /// `SERVICE` or `SERVICE/N`.
    pub target: String,
    /// The signal number (1 to 64).
    pub signal: i32,
}

/// A successful command.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OkReply {
    /// What happened, in words.
    pub message: String,
}

/// A refused request: the status code says which kind.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorReply {
    /// What went wrong, in words.
    pub error: String,
}

/// `GET /v1/info`: who is serving.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InfoReply {
    /// ward's version.
    pub version: String,
    /// The pid of the supervisor.
    pub pid: u32,
    /// The spec file it runs.
    pub spec: String,
    /// The state folder.
    pub state_dir: String,
}
