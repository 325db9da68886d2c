//! The observer port: what the supervisor measures as it works (metrics),
//! when it is busy or idle (ward gives memory back after a burst), and the
//! program's own callbacks on hooks (an instance isolated, a crash-loop, a
//! shutdown panic).
//!
//! Every method is called from inside the supervisor's loop and must return
//! at once: to do slow work on a hook (tell a load balancer, page someone),
//! send it to a task of your own, as [`OnHook`]'s example does.

use crate::ports::health::{Hook, Subject};
use std::time::Duration;
use ward_core::event::EventKind;

/// Told what the supervisor does; every method returns at once.
pub trait Observer: Send {
    /// An event was recorded.
    fn event(&mut self, _kind: &EventKind) {}
    /// A spawn took `d`, from the request to its answer.
    fn spawn_took(&mut self, _d: Duration) {}
    /// A commit of the store took `d`.
    fn commit_took(&mut self, _d: Duration) {}
    /// `n` more actions were run.
    fn busy(&mut self, _n: usize) {}
    /// Every input so far is handled; the supervisor waits for the next.
    fn idle(&mut self) {}
    /// `hook` fires about `subject`: it was isolated ([`Hook::Isolate`]:
    /// the place to take it out of a load balancer), entered crash-loop
    /// ([`Hook::Crashloop`]), or a panic shuts it down ([`Hook::Shutdown`]).
    /// Called beside the health port's hook commands, whether or not the
    /// service has any.
    fn hook(&mut self, _hook: Hook, _subject: &Subject) {}
}

/// Observes nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// An observer that only calls a function on each hook.
///
/// The function runs inside the supervisor's loop: keep it short and never
/// block in it. Slow work goes to a task of your own through a channel:
///
/// ```
/// use ward_supervisor::ports::health::{Hook, Subject};
/// use ward_supervisor::ports::observer::OnHook;
///
/// let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Subject>();
/// let observer = OnHook::new(move |hook, subject: &Subject| {
///     if hook == Hook::Isolate {
///         // Never blocks: an unbounded send returns at once.
///         let _ = tx.send(subject.clone());
///     }
/// });
/// # drop(observer);
/// // Elsewhere, a task: `while let Some(s) = rx.recv().await { balancer.remove(s.id) }`.
/// # assert!(rx.try_recv().is_err());
/// ```
pub struct OnHook<F> {
    call: F,
}

impl<F: FnMut(Hook, &Subject) + Send> OnHook<F> {
    /// Calls `call` on every hook.
    pub fn new(call: F) -> Self {
        OnHook { call }
    }
}

impl<F> std::fmt::Debug for OnHook<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnHook")
    }
}

impl<F: FnMut(Hook, &Subject) + Send> Observer for OnHook<F> {
    fn hook(&mut self, hook: Hook, subject: &Subject) {
        (self.call)(hook, subject)
    }
}
