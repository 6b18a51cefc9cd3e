//! The queue that limits how many import files are checked or committed at the same time: in all, and per
//! user. Reading a file may take the read budget in memory (`read_memory_mb`), so four large uploads at once
//! would take four budgets; beyond the limits a file waits its turn, in order, and its progress page says how
//! many files are before it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// The limits and who holds or waits for a place.
pub struct Queue {
    at_once: usize,
    per_user: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next: u64,
    /// Tickets with a place, and their owners.
    running: Vec<(u64, i64)>,
    /// Tickets waiting, oldest first.
    waiting: VecDeque<Waiting>,
}

struct Waiting {
    id: u64,
    owner: i64,
    wake: Arc<Notify>,
}

impl State {
    /// Gives free places to the oldest waiting tickets whose owner is under the per-user limit; a ticket of a
    /// user at the limit lets later tickets of others pass.
    fn promote(&mut self, at_once: usize, per_user: usize) {
        let mut i = 0;
        while i < self.waiting.len() && self.running.len() < at_once {
            let owner = self.waiting[i].owner;
            if self.running.iter().filter(|(_, o)| *o == owner).count() < per_user {
                let w = self.waiting.remove(i).expect("index is in range");
                self.running.push((w.id, w.owner));
                w.wake.notify_one();
            } else {
                i += 1;
            }
        }
    }
}

impl Queue {
    pub fn new(at_once: usize, per_user: usize) -> Queue {
        Queue { at_once: at_once.max(1), per_user: per_user.max(1), state: Mutex::new(State::default()) }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Joins the queue for `owner`. The place is held until the ticket is dropped.
    pub fn enqueue(self: &Arc<Self>, owner: i64) -> Ticket {
        let wake = Arc::new(Notify::new());
        let mut state = self.lock();
        state.next += 1;
        let id = state.next;
        state.waiting.push_back(Waiting { id, owner, wake: wake.clone() });
        state.promote(self.at_once, self.per_user);
        Ticket { queue: self.clone(), id, wake }
    }

    /// How many files are before this ticket (being processed, or waiting ahead of it); None once it has a
    /// place, or when it is gone.
    pub fn ahead(&self, ticket: u64) -> Option<usize> {
        let state = self.lock();
        let at = state.waiting.iter().position(|w| w.id == ticket)?;
        Some(state.running.len() + at)
    }
}

/// A place in the queue; dropping it (the work is done, failed or cancelled) gives the place to the next.
pub struct Ticket {
    queue: Arc<Queue>,
    id: u64,
    wake: Arc<Notify>,
}

impl Ticket {
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Waits until the ticket has a place.
    pub async fn ready(&self) {
        loop {
            if self.queue.lock().running.iter().any(|(id, _)| *id == self.id) {
                return;
            }
            // A wake-up sent between the check and this wait is kept by `Notify`, so none is lost.
            self.wake.notified().await;
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.queue.lock();
        state.running.retain(|(id, _)| *id != self.id);
        state.waiting.retain(|w| w.id != self.id);
        state.promote(self.queue.at_once, self.queue.per_user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the ticket has a place now: its `ready` future, polled once, is ready.
    fn now_or_never(t: &Ticket) -> bool {
        let mut fut = std::pin::pin!(t.ready());
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        std::future::Future::poll(fut.as_mut(), &mut cx).is_ready()
    }

    #[test]
    fn two_places_in_all_and_one_per_user_in_order_and_others_may_pass_a_user_at_the_limit() {
        let q = Arc::new(Queue::new(2, 1));
        let a1 = q.enqueue(1);
        let a2 = q.enqueue(1);
        let b1 = q.enqueue(2);
        let c1 = q.enqueue(3);
        // a1 and b1 run (a2 waits for user 1's place and b1 passes it); c1 waits for a free place.
        assert!(now_or_never(&a1) && now_or_never(&b1));
        assert!(!now_or_never(&a2) && !now_or_never(&c1));
        assert_eq!((q.ahead(a1.id()), q.ahead(a2.id()), q.ahead(c1.id())), (None, Some(2), Some(3)));
        drop(b1);
        // User 1 is still at the limit, so c1 (next in line that may run) gets the place.
        assert!(now_or_never(&c1) && !now_or_never(&a2));
        assert_eq!(q.ahead(a2.id()), Some(2));
        drop(a1);
        assert!(now_or_never(&a2));
        // A waiting ticket that is dropped (its job cancelled) leaves the queue.
        let d = q.enqueue(4);
        let e = q.enqueue(5);
        assert_eq!(q.ahead(e.id()), Some(3));
        drop(d);
        assert_eq!(q.ahead(e.id()), Some(2));
    }
}
