//! The supervisor's inputs (the channels its loop reads) and their sending
//! ends: the runtime's reports, adopted processes' exits, requests, health
//! reports.

use crate::REQUEST_QUEUE;
use crate::ports;
use crate::ports::runtime::{Exit, Report};
use crate::requests::Request;
use tokio::sync::mpsc;

/// The inputs of the supervisor loop.
pub struct Inputs {
    /// API requests.
    pub requests: mpsc::Receiver<Request>,
    /// Exits and spawn answers from the runtime (the keeper).
    pub exits: mpsc::UnboundedReceiver<Report>,
    /// Exits of adopted processes.
    pub adopted: mpsc::UnboundedReceiver<Exit>,
    /// What the health port's watchers saw.
    pub health: mpsc::Receiver<ports::health::HealthReport>,
}

impl Inputs {
    /// The inputs and the senders that feed them: give the runtime's,
    /// adopter's and health port's senders to those, keep the request sender.
    pub fn channels() -> (Inputs, Feeds) {
        let (requests_tx, requests) = mpsc::channel(REQUEST_QUEUE);
        let (exits_tx, exits) = mpsc::unbounded_channel();
        let (adopted_tx, adopted) = mpsc::unbounded_channel();
        let (health_tx, health) = mpsc::channel(ports::health::REPORT_QUEUE);
        (
            Inputs { requests, exits, adopted, health },
            Feeds { requests: requests_tx, exits: exits_tx, adopted: adopted_tx, health: health_tx },
        )
    }
}

/// The sending ends of [`Inputs`].
#[derive(Clone, Debug)]
pub struct Feeds {
    /// Requests (an API, a program's own handle).
    pub requests: mpsc::Sender<Request>,
    /// The runtime's reports.
    pub exits: mpsc::UnboundedSender<Report>,
    /// Exits of adopted processes.
    pub adopted: mpsc::UnboundedSender<Exit>,
    /// Health reports.
    pub health: mpsc::Sender<ports::health::HealthReport>,
}
