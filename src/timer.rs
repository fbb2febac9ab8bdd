//! The request path's timers (the SDK's attempt timeouts and backoffs, the
//! invocation's deadline, the JWKS fetch's limit) on one Linux `timerfd` per
//! runtime, not tokio's time driver.
//!
//! Why: tokio wakes its own driver (an `eventfd` write, then an extra
//! `epoll_wait`) whenever a timer is registered earlier than the wake-up it
//! planned when it last parked, and a process idle in the Runtime API's
//! `next` planned none: every request paid both for its first timer. Here a
//! sleep only sets the `timerfd` when no expiry at or before its own deadline
//! is already set: one `timerfd_settime` after an idle gap, none in a burst,
//! where the previous request's expiry still comes first and, when it fires,
//! re-arms for the sleeps still waiting (docs/PERFORMANCE.md).

use std::time::{Duration, Instant};

use aws_smithy_async::rt::sleep::{AsyncSleep, Sleep};

/// Completes at `deadline`. Needs a tokio runtime with I/O enabled.
pub(crate) async fn sleep_until(deadline: Instant) {
    #[cfg(target_os = "linux")]
    if fd::sleep_until(deadline).await.is_ok() {
        return;
    }
    tokio::time::sleep_until(deadline.into()).await
}

/// `work`'s output, or `None` when `deadline` comes first.
pub(crate) async fn before<T>(deadline: Instant, work: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        biased;
        done = work => Some(done),
        () = sleep_until(deadline) => None,
    }
}

/// The SDK's sleeps, on [`sleep_until`].
#[derive(Debug)]
pub(crate) struct SdkSleep;

impl AsyncSleep for SdkSleep {
    fn sleep(&self, duration: Duration) -> Sleep {
        Sleep::new(sleep_until(Instant::now() + duration))
    }
}

#[cfg(target_os = "linux")]
mod fd {
    use std::cell::RefCell;
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;
    use tokio::runtime::{Handle, Id};

    /// One runtime's `timerfd` and the deadlines waiting on it.
    struct Timer {
        fd: AsyncFd<OwnedFd>,
        state: Mutex<State>,
    }

    #[derive(Default)]
    struct State {
        /// When the `timerfd` was last set to expire (it may have since).
        armed: Option<Instant>,
        /// The deadlines of the sleeps waiting, one entry each.
        waiting: Vec<Instant>,
    }

    thread_local! {
        /// The timer of the runtime this thread last slept in.
        static CURRENT: RefCell<Option<(Id, Arc<Timer>)>> = const { RefCell::new(None) };
    }

    /// `Err` when no `timerfd` can serve (none could be made, or its
    /// runtime has shut down): the caller sleeps another way.
    pub(super) async fn sleep_until(deadline: Instant) -> io::Result<()> {
        let timer = current()?;
        let waiting = Waiting::new(&timer, deadline);
        let slept = waiting.wait().await;
        if slept.is_err() {
            // Forget this timer, not one made since for another runtime.
            CURRENT.with(|c| {
                let mut c = c.borrow_mut();
                if c.as_ref().is_some_and(|(_, t)| Arc::ptr_eq(t, &timer)) {
                    c.take();
                }
            });
        }
        slept
    }

    fn current() -> io::Result<Arc<Timer>> {
        let id = Handle::try_current().map_err(io::Error::other)?.id();
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            match &*c {
                Some((of, timer)) if *of == id => Ok(timer.clone()),
                _ => {
                    let timer = Arc::new(Timer::new()?);
                    *c = Some((id, timer.clone()));
                    Ok(timer)
                }
            }
        })
    }

    impl Timer {
        fn new() -> io::Result<Self> {
            let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
            // SAFETY: no pointer argument; a non-negative result is a new fd
            // that nothing else owns.
            let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, flags) };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `raw` is open and owned by nothing else; the OwnedFd
            // keeps it open, as the same fd, for the AsyncFd's lifetime.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
            Ok(Self {
                fd,
                state: Mutex::default(),
            })
        }

        fn lock(&self) -> std::sync::MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }

        /// Sets the `timerfd` to the earliest waiting deadline, unless an
        /// expiry still to come is set no later: when it fires, every sleep
        /// wakes and arms again.
        fn arm(&self) -> io::Result<()> {
            let mut s = self.lock();
            let Some(first) = s.waiting.iter().min().copied() else {
                return Ok(());
            };
            let now = Instant::now();
            if s.armed.is_some_and(|at| at > now && at <= first) {
                return Ok(());
            }
            // Zero would disarm: a deadline already here expires in 1 ns.
            let left = first
                .saturating_duration_since(now)
                .max(std::time::Duration::from_nanos(1));
            let value = libc::itimerspec {
                it_interval: libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                },
                it_value: libc::timespec {
                    tv_sec: left.as_secs() as libc::time_t,
                    tv_nsec: left.subsec_nanos().into(),
                },
            };
            // SAFETY: a valid fd we own, a valid itimerspec, no old value asked.
            let set = unsafe {
                libc::timerfd_settime(self.fd.as_raw_fd(), 0, &value, std::ptr::null_mut())
            };
            if set < 0 {
                return Err(io::Error::last_os_error());
            }
            s.armed = Some(first);
            Ok(())
        }
    }

    /// A sleep's deadline, registered while it waits.
    struct Waiting<'a> {
        timer: &'a Timer,
        deadline: Instant,
    }

    impl<'a> Waiting<'a> {
        fn new(timer: &'a Timer, deadline: Instant) -> Self {
            timer.lock().waiting.push(deadline);
            Self { timer, deadline }
        }

        async fn wait(&self) -> io::Result<()> {
            loop {
                if Instant::now() >= self.deadline {
                    return Ok(());
                }
                self.timer.arm()?;
                // An expiry that nobody has read yet (a sleep dropped before
                // its deadline) only makes this loop go round once more.
                self.timer.fd.readable().await?.clear_ready();
            }
        }
    }

    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            let mut s = self.timer.lock();
            if let Some(i) = s.waiting.iter().position(|d| *d == self.deadline) {
                s.waiting.swap_remove(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::sleep_until;

    /// A runtime without tokio's timer: a sleep here cannot be tokio's.
    fn io_only() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("runtime")
    }

    #[test]
    fn sleeps_end_at_their_deadlines_in_order_without_tokios_timer() {
        let order = io_only().block_on(async {
            let t0 = Instant::now();
            let order = std::sync::Mutex::new(Vec::new());
            let sleep = |ms: u64| {
                let order = &order;
                async move {
                    sleep_until(t0 + Duration::from_millis(ms)).await;
                    assert!(
                        t0.elapsed() >= Duration::from_millis(ms),
                        "{ms} ms: too early"
                    );
                    order.lock().expect("order").push(ms);
                }
            };
            tokio::join!(sleep(60), sleep(20), sleep(40), sleep(20));
            order.into_inner().expect("order")
        });
        assert_eq!(order, [20, 20, 40, 60]);
    }

    #[test]
    fn a_sleep_dropped_early_leaves_the_next_ones_working() {
        io_only().block_on(async {
            // Set for 30 ms, then dropped: its expiry still fires, unread.
            let short = sleep_until(Instant::now() + Duration::from_millis(30));
            let quick = sleep_until(Instant::now() + Duration::from_millis(5));
            tokio::select! {
                () = short => panic!("the 30 ms sleep ended before the 5 ms one"),
                () = quick => {}
            }
            sleep_until(Instant::now() + Duration::from_millis(60)).await;
            let t = Instant::now();
            sleep_until(t + Duration::from_millis(15)).await;
            assert!(t.elapsed() >= Duration::from_millis(15));
            assert!(
                t.elapsed() < Duration::from_millis(500),
                "{:?}",
                t.elapsed()
            );
        });
    }

    #[test]
    fn a_new_runtime_on_the_same_thread_gets_its_own_timer() {
        for _ in 0..2 {
            let t = Instant::now();
            io_only().block_on(sleep_until(t + Duration::from_millis(10)));
            assert!(t.elapsed() >= Duration::from_millis(10));
        }
    }
}
